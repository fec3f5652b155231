"""The ``santecyber`` command: build, check, validate, query, export, serve.

Exit codes: 0 success, 1 the data does not conform (or a query failed), 2 could not run (bad
input, missing build): each with a message that names the file and line where it can.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pyoxigraph as ox
import typer

from santecyber.build import ValidationFailed, build, compile_graph
from santecyber.errors import InputError, Location, Problem
from santecyber.named_queries import resolve_query
from santecyber.paths import BUILD_DIR, DATA_DIR
from santecyber.query_policy import QueryRefused, QuerySyntaxError
from santecyber.rdf_inputs import FORMATS as RDF_FILE_FORMATS
from santecyber.remote import redact
from santecyber.reports import RENDERERS, failing, render_text, summary
from santecyber.sparql import FORMAT_NAMES, GRAPH_FORMATS, run_query
from santecyber.store import BuildDirectory, replace_file
from santecyber.validation import (
    SEVERITIES,
    ValidationError,
    ValidationOutcome,
    first_of,
    ontology_locator,
    origins_locator,
)

app = typer.Typer(
    help="santecyber: knowledge graph of cyberattacks on French healthcare.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def folder(value: str | Path) -> Path:
    """A folder option's value; empty (an unset shell variable, ``--build-dir "$BUILD"``) is
    refused, where Path("") would be the working directory, and a build would write there."""
    if not str(value):
        raise typer.BadParameter("empty: name a folder")
    return Path(value)


DataOption = Annotated[
    Path, typer.Option("--data", parser=folder, metavar="<path>", help="Folder of curated records.")
]
BuildOption = Annotated[
    Path,
    typer.Option(
        "--build-dir", parser=folder, metavar="<path>", help="Folder of built stores and dumps."
    ),
]
StoreOption = Annotated[
    str,
    typer.Option(
        "--store",
        help="SPARQL 1.1 query endpoint of a remote store (env SANTECYBER_STORE; credentials: "
        "SANTECYBER_STORE_USER, SANTECYBER_STORE_PASSWORD). Default: the embedded store.",
    ),
]
StoreUpdateOption = Annotated[
    str,
    typer.Option(
        "--store-update",
        help="Graph Store Protocol endpoint of the remote store (env SANTECYBER_STORE_UPDATE; "
        "default: …/query → …/store).",
    ),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def write_output(option: str, path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole, or fail naming ``option`` (exit 2).

    A regular file is written beside it and renamed over it, so a failure (no such folder,
    a full disk) leaves no truncated file; a device or pipe (/dev/stdout) is written to as it
    is, never replaced.
    """
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if path.exists() and not path.is_file():
            with path.open("wb") as stream:
                stream.write(data)
            return
        # through a symbolic link, as a plain write goes
        replace_file(Path(os.path.realpath(path)), data)
    except OSError as error:
        raise fail(f"{option}: cannot write {path}: {error.strerror or error}") from None


def print_outcome(outcome: ValidationOutcome, origins: dict[str, Location]) -> None:
    """The text report of a build's validation, on standard error, at the records' lines."""
    located = outcome.located(first_of(origins_locator(origins), ontology_locator()))
    typer.echo(render_text(located), err=True, nl=False)


@app.command("check")
def check_command(data: DataOption = DATA_DIR) -> None:
    """Check the records (keys, types, dates, references) without SHACL or writing anything."""
    try:
        compiled = compile_graph(data)
    except InputError as error:
        raise fail(str(error)) from None
    typer.echo(f"records are well-formed: {compiled.quad_count} quads")


def choices(name: str, values: Iterable[str]) -> type[StrEnum]:
    """An option's choices, taken from the table that serves them so that the two agree.

    >>> list(choices("Demo", ["csv", "tsv"]))
    [<Demo.csv: 'csv'>, <Demo.tsv: 'tsv'>]
    """
    return StrEnum(name, {value: value for value in values})  # type: ignore[return-value]


ReportFormat = choices("ReportFormat", RENDERERS)
FailOn = choices("FailOn", (severity.lower() for severity in SEVERITIES))


class EngineChoice(StrEnum):
    fast = "fast"
    pyshacl = "pyshacl"


@app.command("validate")
def validate_command(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(
            help=f"RDF files ({' '.join(RDF_FILE_FORMATS)}) or an http(s) SPARQL endpoint"
            " URL; none: the project's records.",
            show_default=False,
        ),
    ] = None,
    data: DataOption = DATA_DIR,
    shapes: Annotated[
        list[Path] | None,
        typer.Option("--shapes", help="A shapes file (repeatable); replaces shapes/*.ttl."),
    ] = None,
    report_format: Annotated[ReportFormat, typer.Option("--format", "-f")] = ReportFormat.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 on results of this severity or above.")
    ] = FailOn.violation,
    changed: Annotated[
        list[Path] | None,
        typer.Option(
            "--changed",
            help="A changed record file (repeatable): validate only the nodes it mints.",
        ),
    ] = None,
    engine: Annotated[
        EngineChoice,
        typer.Option(
            "--engine",
            help="fast: santecyber's SHACL engine on pyoxigraph (pySHACL runs instead when the "
            "shapes use SHACL it does not evaluate); pyshacl: the reference engine.",
        ),
    ] = EngineChoice.fast,
    timeout: Annotated[
        int,
        typer.Option(
            "--timeout",
            min=1,
            help="Seconds a SPARQL endpoint has to send its whole answer.",
        ),
    ] = 60,
) -> None:
    """Validate the records (or RDF files, or a SPARQL endpoint) against the SHACL shapes.

    Exit 0: nothing at or above --fail-on; 1: results at or above it; 2: could not run.
    """
    from santecyber.validation import run_validation

    try:
        outcome = run_validation(
            inputs or [], data, shapes or [], changed or [], engine.value, timeout
        )
    except InputError as error:
        raise fail(str(error)) from None
    except ValidationError as error:
        raise fail(f"could not validate: {error}") from None
    if outcome.note:
        typer.echo(f"note: {outcome.note}", err=True)
    text = RENDERERS[report_format.value](outcome, fail_on.value)
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            write_output("--output", output, text.encode("utf-8"))
        except typer.Exit:
            sys.stdout.write(text)  # the validation ran: its report is not lost
            raise
        typer.echo(summary(outcome, fail_on.value), err=True)
    if any(failing(result, fail_on.value) for result in outcome.results):
        raise typer.Exit(1)


@app.command("build")
def build_command(
    data: DataOption = DATA_DIR,
    build_dir: BuildOption = BUILD_DIR,
    skip_validation: Annotated[
        bool,
        typer.Option(
            "--skip-validation",
            help="Build without the SHACL check (the shapes are still published at /shapes).",
        ),
    ] = False,
    store: StoreOption = "",
    store_update: StoreUpdateOption = "",
) -> None:
    """Build a new store and dump from the records; the old ones stay unless all succeeds.

    With --store, load the graphs into that SPARQL store instead (exit 1: a graph differs
    after loading; 2: the store is down or refuses the writes).
    """
    from santecyber.config import StoreSettings
    from santecyber.remote import LoadMismatch, StoreRejected, StoreUnavailable, build_into

    try:
        remote = StoreSettings.from_env(store, store_update)
        if remote is not None:
            remote.graph_store_url  # noqa: B018 - fails early without a Graph Store URL
            info = build_into(remote, data, build_dir, not skip_validation, typer.echo)
            typer.echo(f"built version {info.version} into {redact(remote.query_url)}")
            return
        compiled = build(data, BuildDirectory(build_dir), validate=not skip_validation)
    except ValueError as error:  # a bad --store setting, or a value no check caught
        raise fail(f"{error}\nbuild failed: nothing was changed") from None
    except (StoreUnavailable, StoreRejected) as error:
        raise fail(
            f"{error}\nbuild failed: the store still announces its previous version"
        ) from None
    except LoadMismatch as error:
        raise fail(
            f"{error}\nbuild failed: the store still announces its previous version", 1
        ) from None
    except InputError as error:
        raise fail(f"{error}\nbuild failed: nothing was changed") from None
    except ValidationError as error:
        raise fail(f"could not validate: {error}\nbuild failed: nothing was changed") from None
    except OSError as error:  # disk full, permissions: the build in service stays
        raise fail(f"build failed: {error}") from None
    except ValidationFailed as error:
        print_outcome(error.outcome, error.compiled.origins)
        raise fail("build failed validation: nothing was changed", 1) from None
    typer.echo(f"built {compiled.quad_count} quads, version {compiled.version}, in {build_dir}")


#: what ``query --format`` writes besides its table, by its endpoint's ``format=`` name
QUERY_FORMATS = ("csv", "tsv", "json")
TableFormat = choices("TableFormat", ("table", *QUERY_FORMATS))


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
    except (InputError, OSError) as error:
        raise fail(str(error)) from None
    except QuerySyntaxError as error:
        place = Location.of(named.path, error.line, error.column)
        raise fail(str(Problem(place, str(error)))) from None
    except QueryRefused as error:  # its message is the endpoint's: here it is this command
        reason = str(error).replace("this endpoint", "santecyber query")
        raise fail(str(Problem(Location.of(named.path), reason))) from None
    if result.form == "graph":
        sys.stdout.buffer.write(result.serialize("text/turtle"))
        return
    if result.form == "boolean":
        typer.echo("true" if bool(result.value) else "false")
        return
    if output.value in QUERY_FORMATS:
        sys.stdout.buffer.write(result.serialize(FORMAT_NAMES[output.value]))
        return
    variables = [v.value for v in result.value.variables]  # type: ignore[union-attr]
    rows = [[_cell(solution[v]) for v in variables] for solution in result.value]  # type: ignore[union-attr]
    print_table(variables, rows)
    typer.echo(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", err=True)


EXPORT_MEDIA = {name: FORMAT_NAMES[name] for name in ("nquads", "trig", "turtle", "jsonld")}
ExportFormat = choices("ExportFormat", EXPORT_MEDIA)


@app.command("export")
def export_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write ('-': stdout).")],
    export_format: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.nquads,
    build_dir: BuildOption = BUILD_DIR,
) -> None:
    """Export the built graph: N-Quads and TriG its named graphs, as the build's dump;
    Turtle and JSON-LD their merge, each statement once."""
    # The store's default graph is that merge, written by the build (merged_default_graph): a
    # dataset export leaves it out, or a store loading the file would hold everything twice; a
    # merged export is that graph alone (the union of all graphs repeated every statement).
    try:
        store, _ = BuildDirectory(build_dir).open_current()
    except (FileNotFoundError, OSError) as error:
        raise fail(str(error)) from None
    rdf_format = GRAPH_FORMATS[EXPORT_MEDIA[export_format.value]]
    buffer = io.BytesIO()
    if export_format in (ExportFormat.nquads, ExportFormat.trig):  # JSON-LD could, but merges
        named = (
            quad
            for graph in sorted(store.named_graphs(), key=str)
            for quad in store.quads_for_pattern(None, None, None, graph)
        )
        ox.serialize(named, buffer, rdf_format)
    else:
        merged = store.quads_for_pattern(None, None, None, ox.DefaultGraph())
        ox.serialize((quad.triple for quad in merged), buffer, rdf_format)
    data = buffer.getvalue()
    if str(output) == "-":
        sys.stdout.buffer.write(data)
    else:
        write_output("--output", output, data)
        typer.echo(f"wrote {len(data)} bytes to {output}", err=True)


@app.command("reload")
def reload_command(
    url: Annotated[
        str, typer.Option(help="The running server (POST /admin/reload, token from env).")
    ] = "http://127.0.0.1:8000",
    pid: Annotated[
        int | None,
        typer.Option(help="Send SIGHUP to this `santecyber serve` process instead of POSTing."),
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--build", help="Build first; no reload if it fails.")
    ] = False,
    data: DataOption = DATA_DIR,
    build_dir: BuildOption = BUILD_DIR,
) -> None:
    """Tell a running server to serve the current build now (after building it with --build).

    Queries in flight finish on the data they started on; new ones see the new build.
    """
    from santecyber.reload import TOKEN_VARIABLE, ReloadFailed, request_reload, signal_reload

    if rebuild:
        build_command(data, build_dir, skip_validation=False)
    try:
        if pid is not None:
            signal_reload(pid)
            version = BuildDirectory(build_dir).current_version()
            typer.echo(f"sent SIGHUP to santecyber serve {pid} ({build_dir} names {version})")
            return
        token = os.environ.get(TOKEN_VARIABLE)
        if not token:
            raise fail(f"{TOKEN_VARIABLE} is not set: set it (as for the server) or use --pid")
        outcome = request_reload(url, token)
    except ReloadFailed as error:
        raise fail(f"reload failed: {error}") from None
    change = f"{outcome.previous} → {outcome.version}" if outcome.changed else "unchanged"
    typer.echo(f"{url} serves {outcome.version} ({change}; {outcome.in_flight} queries in flight)")


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    # uvicorn takes any int and the OS keeps its low 16 bits: 99999 listened on 34463
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    build_dir: BuildOption = BUILD_DIR,
    store: StoreOption = "",
    store_update: StoreUpdateOption = "",
    access_log: Annotated[
        bool,
        typer.Option(
            envvar="SANTECYBER_ACCESS_LOG",
            help="Log every request on stderr (a fifth of the CPU time of a cached answer).",
        ),
    ] = True,
    processes: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="SANTECYBER_PROCESSES",
            help="Server processes sharing the port and the query workers (one per core).",
        ),
    ] = 1,
) -> None:
    """Serve the SPARQL endpoint and the linked data on the built store."""
    import uvicorn

    from santecyber.config import ServerConfig
    from santecyber.remote import RemoteStore, StoreRejected, StoreUnavailable
    from santecyber.server.http_limits import BoundedHttpToolsProtocol

    # Each process builds its app from the environment (server.app.app_from_environment).
    settings = {"BUILD": str(build_dir), "PROCESSES": str(processes)}
    settings |= {"STORE": store, "STORE_UPDATE": store_update}
    os.environ.update({f"SANTECYBER_{name}": value for name, value in settings.items() if value})
    try:  # a bad SANTECYBER_* value is told here, not in a traceback per process
        remote = ServerConfig().store
    except ValueError as error:
        raise fail(str(error)) from None
    if remote is None:
        try:  # here, not at the server's startup, where it would be a traceback
            BuildDirectory(build_dir).open_current()
        except OSError as error:
            raise fail(str(error)) from None
    if remote is not None:
        client = RemoteStore(remote, timeout=10)
        try:
            if not client.version():
                raise fail(f"no santecyber build in {client.where}: run `santecyber build --store`")
        except (StoreUnavailable, StoreRejected) as error:
            raise fail(str(error)) from None
        finally:
            client.close()
    uvicorn.run(
        "santecyber.server.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        access_log=access_log,
        workers=processes,
        http=BoundedHttpToolsProtocol,
    )


if __name__ == "__main__":
    app()
