"""`santecyber validate`: exit codes, inputs (records, RDF files, a SPARQL endpoint), --shapes,
--fail-on, and --changed (incremental validation) agreeing with the full run on every record."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import free_port, run_cli

from santecyber.build import compile_graph
from santecyber.paths import DATA_DIR, ROOT
from santecyber.rdf_inputs import as_graph
from santecyber.store import BuildDirectory
from santecyber.validation import (
    ShapeResult,
    minted_by,
    neighbourhood,
    parse_files,
    shape_files,
    validate_graph,
)

FIXTURES = ROOT / "tests" / "fixtures" / "shapes"

# Stricter shapes that fail on many nodes of the real records, looking one, two and three steps
# away (through a target's #address) and backwards (sources about an incident), so that
# incremental and full runs are compared on many results, not on an empty set.
STRICT_SHAPES = """\
@prefix scs: <https://w3id.org/santecyber/shapes#> .
@prefix sc: <https://w3id.org/santecyber/ontology#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <http://schema.org/> .

scs:StrictFiness a sh:PropertyShape ;
    rdfs:label "Organisations have a FINESS number" ; sh:message "No FINESS number." ;
    sh:targetClass sc:Organisation ; sh:path sc:finess ; sh:minCount 1 .

scs:StrictTransfers a sh:PropertyShape ;
    rdfs:label "Impacts count transfers" ; sh:message "No transfer count." ;
    sh:targetClass sc:Impact ; sh:path sc:patientsTransferred ; sh:minCount 1 .

scs:StrictBretagne a sh:PropertyShape ;
    rdfs:label "Targets are in Bretagne" ; sh:message "A target outside Bretagne." ;
    sh:severity sh:Warning ;
    sh:targetClass sc:Attack ; sh:path ( sc:target schema:address sc:region ) ;
    sh:hasValue "Bretagne" .

scs:StrictTwoSources a sh:PropertyShape ;
    rdfs:label "Two sources per incident" ; sh:message "Fewer than two sources." ;
    sh:severity sh:Info ;
    sh:targetClass sc:Attack ;
    sh:path [ sh:alternativePath ( [ sh:inversePath schema:about ]
                                   [ sh:inversePath schema:mentions ] ) ] ;
    sh:minCount 2 .

scs:StrictPublisherNamed a sh:NodeShape ;
    rdfs:label "A source's publisher has an English label" ;
    sh:message "Publisher unnamed in English." ;
    sh:targetClass sc:Source ;
    sh:sparql [ a sh:SPARQLConstraint ; sh:select \"\"\"
        SELECT $this ?value WHERE {
            $this <http://schema.org/publisher> ?value .
            FILTER NOT EXISTS { ?value <http://www.w3.org/2000/01/rdf-schema#label> ?l .
                                FILTER (LANG(?l) = "en") }
        }\"\"\" ] .
"""


def validate(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return run_cli("validate", *args, cwd=cwd)


def no_traceback(run: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, run.stderr


@pytest.fixture(scope="module")
def strict_shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shapes") / "strict.ttl"
    path.write_text(STRICT_SHAPES, encoding="utf-8")
    return path


def test_the_real_records_pass() -> None:
    run = validate()
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.rstrip().splitlines()[-1].startswith("0 violation(s)")


@pytest.mark.parametrize(
    ("fixture", "fail_on", "code"),
    [
        ("valid.ttl", "info", 0),
        ("Count-negative.ttl", "violation", 1),
        ("ConceptTopConcept.ttl", "violation", 0),  # a Warning
        ("ConceptTopConcept.ttl", "warning", 1),
        ("IncidentConflictingDates.ttl", "warning", 0),  # an Info
        ("IncidentConflictingDates.ttl", "info", 1),
    ],
)
def test_exit_code_follows_fail_on(fixture: str, fail_on: str, code: int) -> None:
    run = validate(FIXTURES / fixture, "--fail-on", fail_on, "--format", "json")
    assert run.returncode == code, run.stdout + run.stderr
    document = json.loads(run.stdout)
    assert document["passed"] is (code == 0) and document["fail_on"] == fail_on


def test_shapes_with_a_syntax_error_name_file_and_line(tmp_path: Path) -> None:
    shapes = tmp_path / "bad-shapes.ttl"
    shapes.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n\n<s> a sh:NodeShape ;\n  sh:path <p\n",
        encoding="utf-8",
    )
    run = validate("--shapes", shapes, FIXTURES / "valid.ttl")
    assert run.returncode == 2
    assert f"{shapes}:4:" in run.stderr, run.stderr
    no_traceback(run)


#: one shape, ex:S on line 6, with the malformed part in {body}
BAD_SHAPE = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix sc: <https://w3id.org/santecyber/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex: <http://example.org/> .

ex:S a sh:NodeShape ; sh:targetClass sc:Attack ;
    {body} .
"""
MALFORMED = [
    ("regex", 'sh:property [ sh:path rdfs:label ; sh:pattern "(" ]', "not a valid regular"),
    ("itself", "sh:node ex:S", "refers to itself"),
    ("no-this", 'sh:sparql [ sh:select "SELECT ?x WHERE { ?x ?p ?o }" ]', "$this"),
    ("count-text", 'sh:property [ sh:path rdfs:label ; sh:minCount "abc" ]', "sh:minCount"),
    ("count-negative", "sh:property [ sh:path rdfs:label ; sh:minCount -1 ]", "sh:minCount"),
    ("count-twice", "sh:property [ sh:path rdfs:label ; sh:minCount 1, 2 ]", "sh:minCount"),
    ("syntax", 'sh:sparql [ sh:select "SELECT $this WHERE { $this ?p " ]', "SPARQL syntax"),
    ("prefix", 'sh:sparql [ sh:select "SELECT $this { $this foo:p ?o }" ]', "SPARQL syntax"),
    ("update", 'sh:sparql [ sh:select "DELETE WHERE { ?s ?p ?o }" ]', "not a SELECT"),
    ("target", 'sh:target [ a sh:SPARQLTarget ; sh:select "SELECT ?this { ?this a }" ]', "SPARQL"),
    ("no-path", "sh:property [ sh:minCount 1 ]", "sh:path"),
    ("literal", 'sh:property "x"', "sh:property"),
    ("not-a-list", "sh:or ex:nolist", "RDF list"),
    ("class-literal", 'sh:property [ sh:path ex:p ; sh:class "Org" ]', "not an IRI"),
    ("target-literal", 'sh:targetClass "Attack"', "not an IRI"),
    ("bound-iri", "sh:property [ sh:path rdfs:label ; sh:minExclusive ex:foo ]", "not a literal"),
]


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
@pytest.mark.parametrize(("name", "body", "expected"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_shapes_exit_2_naming_file_line_and_shape(
    tmp_path: Path, engine: str, name: str, body: str, expected: str
) -> None:
    """Not a traceback with exit 1 (which reads as "violations"), nor a shape that silently
    checks nothing: both engines refuse the shapes before running them."""
    shapes = tmp_path / f"{name}.ttl"
    shapes.write_text(BAD_SHAPE.format(body=body), encoding="utf-8")
    run = validate("--shapes", shapes, "--engine", engine, FIXTURES / "valid.ttl")
    assert run.returncode == 2, run.stdout + run.stderr
    no_traceback(run)
    assert f"{shapes}:6:" in run.stderr and "<http://example.org/S>" in run.stderr, run.stderr
    assert expected in run.stderr, run.stderr


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
def test_service_in_a_shape_is_refused_not_fetched(tmp_path: Path, engine: str) -> None:
    connections: list[object] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(0.2)
        done = threading.Event()

        def accept() -> None:
            while not done.is_set():
                with contextlib.suppress(TimeoutError):
                    connection, _ = listener.accept()
                    connections.append(connection)
                    connection.close()

        thread = threading.Thread(target=accept)
        thread.start()
        endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}/sparql"
        body = (
            f'sh:sparql [ sh:select "SELECT $this {{ SERVICE <{endpoint}> {{ $this ?p ?o }} }}" ]'
        )
        shapes = tmp_path / "service.ttl"
        shapes.write_text(BAD_SHAPE.format(body=body), encoding="utf-8")
        try:
            run = validate("--shapes", shapes, "--engine", engine, FIXTURES / "valid.ttl")
        finally:
            done.set()
            thread.join()
    assert connections == []
    assert run.returncode == 2 and f"{shapes}:6:" in run.stderr and "SERVICE" in run.stderr
    no_traceback(run)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("broken.nt", "<http://e/a> <http://e/b> <http://e/c> .\n<http://e/a> <http://e/b> x .\n",
         "broken.nt:2:"),
        ("broken.jsonld", '{"@id": "http://e/a",\n "http://e/b": \n', "broken.jsonld:3:"),
        ("data.csv", "a,b\n", "unknown RDF file extension"),
        ("missing.ttl", None, "missing.ttl: no such file"),
    ],
)  # fmt: skip
def test_unreadable_input_exits_2_naming_the_place(
    tmp_path: Path, name: str, text: str | None, expected: str
) -> None:
    if text is not None:
        (tmp_path / name).write_text(text, encoding="utf-8")
    run = validate(name, cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert expected in run.stderr, run.stderr
    no_traceback(run)


@pytest.mark.parametrize("folder", ["missing", "empty", ""])
@pytest.mark.parametrize("command", ["validate", "build"])
def test_a_shapes_folder_without_shapes_is_refused(
    data_copy: Path, tmp_path: Path, folder: str, command: str
) -> None:
    """A mistyped SANTECYBER_SHAPES passed CI: zero shapes, zero violations. An empty one
    means the default folder, which the broken record below fails."""
    (tmp_path / "empty").mkdir()
    attack = data_copy / "incidents/2022-08-corbeil-essonnes.yaml"  # the shapes refuse it
    text = attack.read_text(encoding="utf-8")
    attack.write_text(text.replace("period_start: null", 'period_start: "2999-01"', 1))
    shapes = str(tmp_path / folder) if folder else ""
    extra = ["--build-dir", tmp_path / "build"] if command == "build" else []
    run = run_cli(command, "--data", data_copy, *extra, env={"SANTECYBER_SHAPES": shapes})
    no_traceback(run)
    if folder:
        assert run.returncode == 2, run.stdout + run.stderr
        assert f"no shapes (*.ttl) in {tmp_path / folder}" in run.stderr, run.stderr
    else:
        assert run.returncode == 1, run.stdout + run.stderr  # the default shapes ran
    assert not (tmp_path / "build" / "CURRENT").exists()


def test_a_shape_without_a_message_names_its_constraint(tmp_path: Path) -> None:
    """pySHACL words a sentence; the fast engine said nothing ("expected: ")."""
    shapes = tmp_path / "bare.ttl"
    shapes.write_text(
        BAD_SHAPE.format(body="sh:property [ sh:path ex:missing ; sh:minCount 1 ]"),
        encoding="utf-8",
    )
    attack = FIXTURES / "valid.ttl"
    run = validate("--shapes", shapes, "--format", "json", attack)
    assert run.returncode == 1, run.stdout + run.stderr
    messages = {result["message"] for result in json.loads(run.stdout)["results"]}
    assert messages == {"fails sh:minCount 1"}


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
def test_ill_typed_literals_are_violations_without_tracebacks(
    built: BuildDirectory, tmp_path: Path, engine: str
) -> None:
    """rdflib logged a traceback for each literal it could not convert; the shapes report them."""
    dump = built.dump.read_text(encoding="utf-8")
    good = '"2023-06-21"^^<http://www.w3.org/2001/XMLSchema#date>'
    assert good in dump
    bad = tmp_path / "ill-typed.nq"
    bad.write_text(dump.replace(good, good.replace("06-21", "02-30"), 1), encoding="utf-8")
    run = validate(bad, "--format", "json", "--engine", engine)
    assert run.returncode == 1, run.stderr
    assert "scs:DateDatatype" in {r["shape"] for r in json.loads(run.stdout)["results"]}
    assert run.stderr == ""


@pytest.mark.parametrize("where", ["missing/report.txt", "a-folder", "", "/dev/full"])
def test_unwritable_output_exits_2_and_keeps_the_report(tmp_path: Path, where: str) -> None:
    """The whole validation ran: its report goes to standard output rather than being lost."""
    (tmp_path / "a-folder").mkdir()
    run = validate(FIXTURES / "Count-negative.ttl", "-o", where, cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    no_traceback(run)
    assert f"--output: cannot write {where or '.'}:" in run.stderr, run.stderr
    assert "Count-negative.ttl" in run.stdout and "violation(s)" in run.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-folder"]  # no stray file


def test_output_is_written_whole(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text("an older report", encoding="utf-8")
    run = validate(FIXTURES / "Count-negative.ttl", "-f", "json", "-o", report)
    assert run.returncode == 1, run.stderr
    assert json.loads(report.read_text(encoding="utf-8"))["passed"] is False
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_bad_record_exits_2_with_file_and_line(data_copy: Path) -> None:
    record = data_copy / "incidents" / "2023-06-chu-rennes.yaml"
    lines = record.read_text(encoding="utf-8").splitlines()
    number = lines.index("crisis_cell: true") + 1
    lines[number - 1] = "crisis_cell: maybe"
    record.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = validate("--data", "data", cwd=data_copy.parent)
    assert run.returncode == 2
    assert f"data/incidents/2023-06-chu-rennes.yaml:{number}:" in run.stderr, run.stderr
    no_traceback(run)


def test_changed_must_name_records() -> None:
    run = validate("--changed", "README.md")
    assert run.returncode == 2 and "README.md: not a record file" in run.stderr, run.stderr
    no_traceback(run)


def test_unreachable_endpoint_exits_2() -> None:
    url = f"http://127.0.0.1:{free_port()}/sparql"
    run = validate(url)
    assert run.returncode == 2 and url in run.stderr, run.stderr
    no_traceback(run)


def test_resolved_start_date_is_exempt(data_copy: Path) -> None:
    """A start date after the source's publication is fine when it was resolved (explained)."""
    record = data_copy / "incidents" / "2023-06-chu-rennes.yaml"
    text = record.read_text(encoding="utf-8")
    start = '  - property: start\n    value: "2023-06-21"\n    status: resolved'
    assert start in text
    record.write_text(text.replace(start, start.replace("2023-06-21", "2023-06-25")), "utf-8")
    run = validate("--data", "data", "--format", "json", cwd=data_copy.parent)
    shapes = {r["shape"] for r in json.loads(run.stdout)["results"]}
    assert "scs:StartDateKnownToSource" not in shapes
    # The same date stated instead of resolved is caught.
    record.write_text(
        text.replace(
            start, start.replace("2023-06-21", "2023-06-25").replace("resolved", "stated")
        ),
        "utf-8",
    )
    run = validate("--data", "data", "--format", "json", cwd=data_copy.parent)
    assert "scs:StartDateKnownToSource" in {r["shape"] for r in json.loads(run.stdout)["results"]}


# ---------------------------------------------------------------------------------------------
# A SPARQL endpoint: oxigraph serve on 127.0.0.1
# ---------------------------------------------------------------------------------------------

BROKEN_QUADS = (
    "<https://w3id.org/santecyber/id/organisation/ch-exemple> "
    "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
    "<https://w3id.org/santecyber/ontology#Operator> <https://w3id.org/santecyber/graph/x> .\n"
    "<https://w3id.org/santecyber/id/organisation/ch-exemple> "
    '<http://www.w3.org/2000/01/rdf-schema#label> "CH d\'Exemple"@fr '
    "<https://w3id.org/santecyber/graph/x> .\n"
)


@pytest.fixture(scope="module")
def oxigraph_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`oxigraph serve` on a free loopback port, holding an operator without a name."""
    binary = shutil.which("oxigraph", path=str(Path(sys.executable).parent))
    assert binary, "the oxigraph CLI (PyPI package oxigraph, bench extra) is needed"
    folder = tmp_path_factory.mktemp("oxigraph")
    dump = folder / "broken.nq"
    dump.write_text(BROKEN_QUADS, encoding="utf-8")
    store = folder / "store"
    subprocess.run([binary, "load", "--location", store, "--file", dump], check=True)
    port = free_port()
    process = subprocess.Popen(
        [binary, "serve", "--location", store, "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/query"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, params={"query": "ASK {}"}, timeout=2)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(10)


def test_endpoint_is_validated_with_its_url_as_location(oxigraph_endpoint: str) -> None:
    run = validate(oxigraph_endpoint, "--format", "json")
    assert run.returncode == 1, run.stderr
    results = json.loads(run.stdout)["results"]
    by_shape = {r["shape"]: r for r in results}
    assert "scs:OrganisationName" in by_shape, sorted(by_shape)
    assert by_shape["scs:OrganisationName"]["file"] == oxigraph_endpoint
    assert by_shape["scs:OrganisationName"]["line"] is None
    sarif = json.loads(validate(oxigraph_endpoint, "--format", "sarif").stdout)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert uris == {oxigraph_endpoint}


@pytest.fixture()
def silent_endpoint() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


def test_an_endpoint_that_never_answers_is_given_up_after_timeout(silent_endpoint: int) -> None:
    """The wait was 600 s, with no option to change it."""
    url = f"http://jdoe:s3cret@127.0.0.1:{silent_endpoint}/sparql"
    started = time.monotonic()
    run = run_cli("validate", "--timeout", "1", url, timeout=60)
    assert time.monotonic() - started < 30
    assert run.returncode == 2, run.stdout + run.stderr
    shown = f"http://127.0.0.1:{silent_endpoint}/sparql"
    assert f"{shown}: no answer from the SPARQL endpoint within 1 s" in run.stderr, run.stderr
    assert "s3cret" not in run.stderr and "jdoe" not in run.stderr
    no_traceback(run)


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_timeout_must_be_a_positive_number(value: str) -> None:
    run = run_cli("validate", "--timeout", value, "http://127.0.0.1:9/sparql")
    assert run.returncode == 2 and "'--timeout'" in run.stderr, run.stderr


@pytest.mark.parametrize("report_format", ["text", "json", "sarif", "github", "junit"])
def test_endpoint_credentials_are_never_shown(oxigraph_endpoint: str, report_format: str) -> None:
    with_credentials = oxigraph_endpoint.replace("http://", "http://jdoe:s3cret@")
    run = validate(with_credentials, "--format", report_format)
    assert run.returncode == 1, run.stderr
    assert "s3cret" not in run.stdout + run.stderr and "jdoe" not in run.stdout + run.stderr
    if report_format == "json":
        files = {r["file"] for r in json.loads(run.stdout)["results"]}
        assert files == {oxigraph_endpoint}
    unreachable = run_cli("validate", "http://jdoe:s3cret@127.0.0.1:9/sparql")
    assert unreachable.returncode == 2 and "s3cret" not in unreachable.stderr
    assert "http://127.0.0.1:9/sparql: cannot reach" in unreachable.stderr, unreachable.stderr


# ---------------------------------------------------------------------------------------------
# --changed: incremental validation agrees with the full run
# ---------------------------------------------------------------------------------------------


def comparable(result: ShapeResult) -> tuple[str, ...]:
    """A result without the terms that differ between two parses (blank node labels)."""
    shape = result.shape if not result.shape.startswith("_:") else "(blank)"
    return (
        result.severity,
        result.focus_node,
        result.path or "",
        result.value or "",
        result.message,
        result.constraint,
        shape,
    )


def record_files() -> list[Path]:
    return sorted(path for path in DATA_DIR.rglob("*.yaml") if path.name != "redirects.yaml")


@pytest.mark.slow
def test_incremental_results_equal_the_full_run_on_every_record(strict_shapes: Path) -> None:
    """Per record, the fast engine bound to its nodes and pySHACL over their neighbourhood
    both give exactly pySHACL's full-run results on those nodes."""
    compiled = compile_graph()
    graph = as_graph(compiled.record_quads)
    shapes = parse_files([*shape_files(), strict_shapes])
    full = validate_graph(graph, shapes, compiled.ontology, engine="pyshacl")
    assert len(full.results) > 50  # the strict shapes make the comparison meaningful
    compared = 0
    minted_files = {Path(place.file).resolve() for place in compiled.origins.values()}
    for record in record_files():
        if record.resolve() not in minted_files:
            continue
        nodes = minted_by(compiled.origins, [record])
        expected = sorted(comparable(r) for r in full.results if r.focus_node in nodes)
        fast = validate_graph(graph, shapes, compiled.ontology, focus_nodes=nodes)
        assert sorted(comparable(r) for r in fast.results) == expected, record
        part = neighbourhood(graph, nodes)
        assert len(part) < len(graph)
        reference = validate_graph(part, shapes, compiled.ontology, nodes, engine="pyshacl")
        assert sorted(comparable(r) for r in reference.results) == expected, record
        compared += len(expected)
    # every result of the full run lies on a node some record minted
    assert compared == len(full.results)


def test_changed_cli_reports_only_that_record(strict_shapes: Path) -> None:
    record = "data/incidents/2023-06-chu-rennes.yaml"
    run = validate("--changed", record, "--shapes", strict_shapes, "--format", "json")
    assert run.returncode == 1, run.stderr
    results = json.loads(run.stdout)["results"]
    assert results and {r["file"] for r in results} == {record}
    full = json.loads(validate("--shapes", strict_shapes, "--format", "json").stdout)["results"]
    assert results == [r for r in full if r["file"] == record]
