"""The ``santecyber`` command: build, check, validate, query, export, serve.

Exit codes: 0 success, 1 the data does not conform (or a query failed), 2 could not run (bad
input, missing build): each with a message that names the file and line where it can.
"""

from __future__ import annotations

import io
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pyoxigraph as ox
import typer

from santecyber.build import ValidationFailed, build, compile_graph, validate_compiled
from santecyber.errors import InputError, Location
from santecyber.named_queries import resolve_query
from santecyber.paths import BUILD_DIR, DATA_DIR
from santecyber.sparql import GRAPH_FORMATS, QueryRefused, QuerySyntaxError, run_query
from santecyber.store import BuildDirectory
from santecyber.validation import ShapeResult, ValidationOutcome

app = typer.Typer(
    help="santecyber: knowledge graph of cyberattacks on French healthcare.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

DataOption = Annotated[Path, typer.Option("--data", help="Folder of curated records.")]
BuildOption = Annotated[Path, typer.Option("--build-dir", help="Folder of built stores and dumps.")]


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def describe_result(result: ShapeResult, origins: dict[str, Location]) -> str:
    """One readable line for a SHACL result, at the record that made the node."""
    focus_iri = result.focus.strip("<>")
    place = origins.get(focus_iri) or origins.get(focus_iri.split("#")[0])
    where = f"{place}: " if place else ""
    found = f" (found {result.value})" if result.value else ""
    path = f" {result.path}" if result.path else ""
    shape = result.shape.rsplit("#", 1)[-1].rstrip(">")
    return f"{where}{result.severity}: {result.focus}{path}: {result.message}{found} [{shape}]"


def print_outcome(outcome: ValidationOutcome, origins: dict[str, Location]) -> None:
    for result in outcome.results:
        typer.echo(describe_result(result, origins), err=result.severity == "Violation")
    violations = sum(r.severity == "Violation" for r in outcome.results)
    others = len(outcome.results) - violations
    typer.echo(f"{violations} violation(s), {others} warning(s) or info", err=True)


@app.command("check")
def check_command(data: DataOption = DATA_DIR) -> None:
    """Check the records (keys, types, dates, references) without SHACL or writing anything."""
    try:
        compiled = compile_graph(data)
    except InputError as error:
        raise fail(str(error)) from None
    typer.echo(f"records are well-formed: {compiled.quad_count} quads")


@app.command("validate")
def validate_command(data: DataOption = DATA_DIR) -> None:
    """Validate the graph built from the records against the SHACL shapes (exit 1 if not)."""
    try:
        compiled = compile_graph(data)
        outcome = validate_compiled(compiled)
    except InputError as error:
        raise fail(str(error)) from None
    print_outcome(outcome, compiled.origins)
    if any(r.severity == "Violation" for r in outcome.results):
        raise typer.Exit(1)


@app.command("build")
def build_command(
    data: DataOption = DATA_DIR,
    build_dir: BuildOption = BUILD_DIR,
    skip_validation: Annotated[bool, typer.Option("--skip-validation")] = False,
) -> None:
    """Build a new store and dump from the records; the old ones stay unless all succeeds."""
    try:
        compiled = build(data, BuildDirectory(build_dir), validate=not skip_validation)
    except InputError as error:
        raise fail(f"{error}\nbuild failed: nothing was changed") from None
    except ValidationFailed as error:
        print_outcome(error.outcome, error.compiled.origins)
        raise fail("build failed validation: nothing was changed", 1) from None
    typer.echo(f"built {compiled.quad_count} quads, version {compiled.version}, in {build_dir}")


class TableFormat(StrEnum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"


def _cell(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, (ox.NamedNode, ox.BlankNode, ox.Literal)):
        return term.value
    return str(term)


def print_table(variables: list[str], rows: list[list[str]]) -> None:
    widths = [max([len(v)] + [len(r[i]) for r in rows]) for i, v in enumerate(variables)]
    line = "  ".join(v.ljust(w) for v, w in zip(variables, widths, strict=True))
    typer.echo(line)
    typer.echo("  ".join("-" * w for w in widths))
    for row in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


@app.command("query")
def query_command(
    name: Annotated[str, typer.Argument(help="A named query of queries/ or a .rq file.")],
    output: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    build_dir: BuildOption = BUILD_DIR,
) -> None:
    """Run a named query (or a .rq file) on the built store and print its results."""
    try:
        named = resolve_query(name)
        store, _ = BuildDirectory(build_dir).open_current()
        result = run_query(store, named.text)
    except (FileNotFoundError, OSError) as error:
        raise fail(str(error)) from None
    except QuerySyntaxError as error:
        raise fail(f"{named.path}:{error.line}:{error.column}: {error}") from None
    except QueryRefused as error:
        raise fail(str(error)) from None
    if result.form == "graph":
        sys.stdout.buffer.write(result.serialize("text/turtle"))
        return
    if result.form == "boolean":
        typer.echo("true" if bool(result.value) else "false")
        return
    media = {
        "csv": "text/csv",
        "tsv": "text/tab-separated-values",
        "json": "application/sparql-results+json",
    }
    if output.value in media:
        sys.stdout.buffer.write(result.serialize(media[output.value]))
        return
    variables = [v.value for v in result.value.variables]  # type: ignore[union-attr]
    rows = [[_cell(solution[v]) for v in variables] for solution in result.value]  # type: ignore[union-attr]
    print_table(variables, rows)
    typer.echo(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", err=True)


class ExportFormat(StrEnum):
    nquads = "nquads"
    trig = "trig"
    turtle = "turtle"
    jsonld = "jsonld"


EXPORT_MEDIA = {
    "nquads": "application/n-quads",
    "trig": "application/trig",
    "turtle": "text/turtle",
    "jsonld": "application/ld+json",
}


@app.command("export")
def export_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write ('-': stdout).")],
    export_format: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.nquads,
    build_dir: BuildOption = BUILD_DIR,
) -> None:
    """Export the built graph (Turtle and JSON-LD merge the graphs into one)."""
    try:
        store, _ = BuildDirectory(build_dir).open_current()
    except (FileNotFoundError, OSError) as error:
        raise fail(str(error)) from None
    rdf_format = GRAPH_FORMATS[EXPORT_MEDIA[export_format.value]]
    buffer = io.BytesIO()
    if rdf_format.supports_datasets:
        store.dump(buffer, format=rdf_format)
    else:
        union = (quad.triple for quad in store.quads_for_pattern(None, None, None))
        ox.serialize(union, buffer, rdf_format)
    data = buffer.getvalue()
    if str(output) == "-":
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        typer.echo(f"wrote {len(data)} bytes to {output}", err=True)


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    build_dir: BuildOption = BUILD_DIR,
) -> None:
    """Serve the SPARQL endpoint and the linked data on the built store."""
    import uvicorn

    from santecyber.config import ServerConfig
    from santecyber.server.app import create_app

    directory = BuildDirectory(build_dir)
    if directory.current_version() is None:
        raise fail(f"no built store in {build_dir}: run `santecyber build` first")
    uvicorn.run(create_app(ServerConfig(build_dir=build_dir)), host=host, port=port)


if __name__ == "__main__":
    app()
