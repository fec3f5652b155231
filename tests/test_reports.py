"""`santecyber validate --format …`: every format points at the file and line of each result.

The real CLI runs in a subprocess on real files: RDF files broken at a known line, and the
project's records checked against a stricter shapes file written here (the records loader
rejects most breakage before SHACL runs). SARIF is checked against the official SARIF 2.1.0
schema (`make test` fetches it into .venv/share/), JUnit is parsed as XML, JSON with json.
"""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from conftest import run_cli
from rdflib import Graph
from rdflib.namespace import RDF

from santecyber.namespaces import SH
from santecyber.paths import ROOT
from santecyber.reports import shapes_markdown
from santecyber.validation import named_shapes, parse_files, shape_files

SARIF_SCHEMA = ROOT / ".venv" / "share" / "sarif-2.1.0-rtm.5.json"
FORMATS = ["text", "json", "turtle", "junit", "sarif", "github"]

# A Turtle file whose operator has a negative count; its statements start on line 9.
BROKEN_TURTLE = """\
# A broken operator.
@prefix sc: <https://w3id.org/santecyber/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <http://schema.org/> .
@prefix id: <https://w3id.org/santecyber/id/organisation/> .



id:ch-exemple a sc:Operator ;
    rdfs:label "Centre hospitalier d'Exemple"@fr ;
    schema:name "Centre hospitalier d'Exemple"@fr ;
    sc:establishmentCount -1 .
"""
BROKEN_LINE = 9
FOCUS = "https://w3id.org/santecyber/id/organisation/ch-exemple"

# Every impact must say how many patients were transferred: fails on most impacts.
STRICT_SHAPES = """\
@prefix scs: <https://w3id.org/santecyber/shapes#> .
@prefix sc: <https://w3id.org/santecyber/ontology#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

scs:StrictImpactTransfers
    a sh:PropertyShape ;
    rdfs:label "Impact counts transfers" ;
    sh:message "Every impact must give sc:patientsTransferred." ;
    sh:targetClass sc:Impact ;
    sh:path sc:patientsTransferred ;
    sh:minCount 1 .

scs:StrictAlwaysPasses
    a sh:PropertyShape ;
    rdfs:label "Impacts have a service" ;
    sh:message "Every impact has a service." ;
    sh:targetClass sc:Impact ;
    sh:path sc:service ;
    sh:minCount 1 .
"""
RECORD = "data/incidents/2023-06-chu-rennes.yaml"


def validate(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return run_cli("validate", *args, cwd=cwd)


def impact_lines() -> list[int]:
    """The lines of the impact items of RECORD without patients_transferred, from its text."""
    lines = (ROOT / RECORD).read_text(encoding="utf-8").splitlines()
    start = lines.index("impacts:")
    found, current = [], None
    for number, line in enumerate(lines[start + 1 :], start + 2):
        if not line.startswith(" "):
            break
        if line.startswith("  - "):
            if current is not None:
                found.append(current)
            current = number
        if "patients_transferred:" in line and "null" not in line:
            current = None
    if current is not None:
        found.append(current)
    return found


@pytest.fixture(scope="module")
def broken_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rdf")
    (folder / ".git").mkdir()  # the folder is the repository root SARIF paths are relative to
    path = folder / "broken.ttl"
    path.write_text(BROKEN_TURTLE, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def strict_shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shapes") / "strict.ttl"
    path.write_text(STRICT_SHAPES, encoding="utf-8")
    return path


@pytest.mark.parametrize("report_format", FORMATS)
def test_rdf_file_result_at_its_line_in_every_format(broken_file: Path, report_format: str) -> None:
    run = validate(broken_file.name, "--format", report_format, cwd=broken_file.parent)
    assert run.returncode == 1, run.stderr
    out = run.stdout
    if report_format == "text":
        assert out.splitlines()[0] == "broken.ttl"
        assert f"    line {BROKEN_LINE}:1: <{FOCUS}>" in out
        assert 'found:    "-1"^^xsd:integer' in out
        assert "shape:    scs:Count (Counts are non-negative integers)" in out
    elif report_format == "json":
        results = json.loads(out)["results"]
        assert [(r["file"], r["line"], r["shape"]) for r in results] == [
            ("broken.ttl", BROKEN_LINE, "scs:Count")
        ]
    elif report_format == "turtle":
        report = Graph().parse(data=out, format="turtle")
        assert (None, RDF.type, SH.ValidationReport) in report
        assert "scs:Count" in out and "schema1:" not in out
    elif report_format == "junit":
        failures = ET.fromstring(out).findall(".//testcase/failure")
        assert len(failures) == 1 and f"broken.ttl:{BROKEN_LINE}:1:" in (failures[0].text or "")
    elif report_format == "sarif":
        location = json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "broken.ttl"
        assert location["region"] == {"startLine": BROKEN_LINE, "startColumn": 1}
    else:
        assert out.startswith(f"::error file=broken.ttl,line={BROKEN_LINE},col=1,title=scs%3ACount")


@pytest.mark.parametrize(
    ("suffix", "text", "line"),
    [
        (".nt", f"\n\n<{FOCUS}> <https://w3id.org/santecyber/ontology#establishmentCount> "
         '"-1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n', 3),
        (".nq", f"<{FOCUS}> <https://w3id.org/santecyber/ontology#establishmentCount> "
         '"-1"^^<http://www.w3.org/2001/XMLSchema#integer> '
         "<https://w3id.org/santecyber/graph/x> .\n", 1),
        (".trig", "@prefix sc: <https://w3id.org/santecyber/ontology#> .\n"
         "@prefix o: <https://w3id.org/santecyber/id/organisation/> .\n"
         "<https://w3id.org/santecyber/graph/x> {\n"
         "  o:ch-exemple sc:establishmentCount -1 .\n}\n", 4),
        (".jsonld", json.dumps({
            "@context": {"o": "https://w3id.org/santecyber/id/organisation/",
                         "sc": "https://w3id.org/santecyber/ontology#"},
            "@id": "o:ch-exemple", "sc:establishmentCount": -1}, indent=1), 6),
    ],
)  # fmt: skip
def test_every_rdf_syntax_gives_the_statement_line(
    tmp_path: Path, suffix: str, text: str, line: int
) -> None:
    path = tmp_path / f"broken{suffix}"
    path.write_text(text, encoding="utf-8")
    run = validate(path.name, "--format", "json", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    results = json.loads(run.stdout)["results"]
    assert [(r["focus"], r["file"], r["line"]) for r in results] == [(FOCUS, path.name, line)], (
        results
    )


def test_records_results_at_the_record_lines_in_every_format(strict_shapes: Path) -> None:
    """The project's records against a stricter shape: each impact at its YAML item's line."""
    expected = impact_lines()
    assert len(expected) >= 5
    runs = {f: validate("--shapes", strict_shapes, "--format", f) for f in FORMATS}
    for report_format, run in runs.items():
        assert run.returncode == 1, (report_format, run.stderr)

    text = runs["text"].stdout
    group = text.split(RECORD + "\n", 1)[1].split("\n\n")[0]
    for line in expected:
        assert (
            f"    line {line}:5: <https://w3id.org/santecyber/id/attack/2023-06-chu-rennes#impact-"
            in group
        )

    found = json.loads(runs["json"].stdout)["results"]
    assert sorted(r["line"] for r in found if r["file"] == RECORD) == expected
    assert {r["shape"] for r in found} == {"scs:StrictImpactTransfers"}

    suite = ET.fromstring(runs["junit"].stdout)
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {"scs:StrictImpactTransfers", "scs:StrictAlwaysPasses"}
    assert cases["scs:StrictAlwaysPasses"].find("failure") is None
    failure = cases["scs:StrictImpactTransfers"].find("failure")
    assert failure is not None
    for line in expected:
        assert f"{RECORD}:{line}:5: Violation:" in (failure.text or "")

    sarif = json.loads(runs["sarif"].stdout)
    regions = sorted(
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in sarif["runs"][0]["results"]
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == RECORD
    )
    assert regions == expected

    commands = [
        c for c in runs["github"].stdout.splitlines() if c.startswith(f"::error file={RECORD},")
    ]
    assert sorted(int(re.search(r",line=(\d+),", c)[1]) for c in commands) == expected


def dates_item_line(text: str, prop: str) -> int:
    """The line of the ``- property: {prop}`` item of a record's ``dates``."""
    return text.splitlines().index(f"  - property: {prop}") + 1


def test_record_broken_at_a_known_line(data_copy: Path) -> None:
    """A start date later than the only source (stated, not resolved), in a copy of the records:
    the loader accepts it, a shape of shapes/quality.ttl reports it at the date's item."""
    record = data_copy / "incidents" / "2023-06-chu-rennes.yaml"
    text = record.read_text(encoding="utf-8")
    start = '  - property: start\n    value: "2023-06-21"\n    status: resolved'
    assert start in text
    text = text.replace(
        start, start.replace("2023-06-21", "2023-06-25").replace("resolved", "stated")
    )
    record.write_text(text, encoding="utf-8")
    line = dates_item_line(text, "start")
    where = "data/incidents/2023-06-chu-rennes.yaml"
    for report_format in FORMATS:
        run = validate("--data", "data", "--format", report_format, cwd=data_copy.parent)
        assert run.returncode == 1, (report_format, run.stdout, run.stderr)
        out = run.stdout
        if report_format == "json":
            found = [
                r for r in json.loads(out)["results"] if r["shape"] == "scs:StartDateKnownToSource"
            ]
            assert [(r["file"], r["line"], r["column"], r["value"]) for r in found] == [
                (where, line, 5, '"2023-06-25"^^xsd:date')
            ]
        elif report_format == "sarif":
            found = [
                r["locations"][0]["physicalLocation"]
                for r in json.loads(out)["runs"][0]["results"]
                if r["ruleId"] == "scs:StartDateKnownToSource"
            ]
            assert found == [
                {
                    "artifactLocation": {"uri": where, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": line, "startColumn": 5},
                }
            ]
        elif report_format == "github":
            assert (
                f"::error file={where},line={line},col=5,title=scs%3AStartDateKnownToSource" in out
            )
        elif report_format == "junit":
            assert f"{where}:{line}:5: Violation:" in out
        elif report_format == "text":
            group = out.split(f"{where}\n", 1)[1]
            assert group.startswith("  Violation (1)\n")
            assert (
                f"    line {line}:5: <https://w3id.org/santecyber/id/attack/2023-06-chu-rennes#date-1>"
                in group
            )
            assert 'found:    "2023-06-25"^^xsd:date' in group
        else:
            assert "scs:StartDateKnownToSource" in out


def test_sarif_is_valid_against_the_official_schema(broken_file: Path, strict_shapes: Path) -> None:
    assert SARIF_SCHEMA.is_file(), f"{SARIF_SCHEMA} missing: run `make test` (it fetches it)"
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    for run in (
        validate(broken_file.name, "--format", "sarif", cwd=broken_file.parent),
        validate("--shapes", strict_shapes, "--format", "sarif"),
        validate("--format", "sarif"),
    ):
        document = json.loads(run.stdout)
        errors = [e.message for e in validator.iter_errors(document)]
        assert errors == []
        assert document["version"] == "2.1.0"
        levels = {r["level"] for r in document["runs"][0]["results"]}
        assert levels <= {"error", "warning", "note"}


def test_junit_has_one_testcase_per_shape() -> None:
    run = validate("--format", "junit", "--fail-on", "info")
    suite = ET.fromstring(run.stdout)
    names = [case.get("name") for case in suite.iter("testcase")]
    assert sorted(names) == sorted(s.name for s in named_shapes(parse_files(shape_files())))
    assert suite.get("tests") == str(len(names))
    failing = {c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None}
    reported = {r["shape"] for r in json.loads(validate("--format", "json").stdout)["results"]}
    assert failing == reported  # with --fail-on info, every shape with a result fails
    assert suite.get("failures") == str(len(failing))


def test_severities_map_to_levels_and_commands(tmp_path: Path) -> None:
    """A Warning and an Info fixture: SARIF warning/note, GitHub ::warning/::notice."""
    fixtures = ROOT / "tests" / "fixtures" / "shapes"
    for fixture, level, command in (
        ("ConceptTopConcept.ttl", "warning", "::warning "),
        ("IncidentConflictingDates.ttl", "note", "::notice "),
    ):
        sarif = json.loads(validate(fixtures / fixture, "--format", "sarif").stdout)
        assert level in {r["level"] for r in sarif["runs"][0]["results"]}
        github = validate(fixtures / fixture, "--format", "github").stdout
        assert any(line.startswith(command) for line in github.splitlines())


def test_output_file(broken_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    run = validate(broken_file, "--format", "sarif", "-o", target)
    assert run.returncode == 1 and run.stdout == ""
    assert "1 violation(s)" in run.stderr
    assert json.loads(target.read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_shapes_doc_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "shapes.md").read_text(encoding="utf-8")
    assert committed == shapes_markdown(parse_files(shape_files())), (
        "docs/shapes.md is stale: run `python -m santecyber.reports docs/shapes.md`"
    )


# An attack whose label holds a control character, a terminal escape and a bidi override.
CONTROL_CHARACTERS = (
    "<https://w3id.org/santecyber/id/attack/x> "
    "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
    "<https://w3id.org/santecyber/ontology#Attack> .\n"
    "<https://w3id.org/santecyber/id/attack/x> <http://www.w3.org/2000/01/rdf-schema#label> "
    '"bad\\u0001 label\\u001B[31m\\u202E" .\n'
)


def test_control_characters_are_shown_escaped(tmp_path: Path) -> None:
    """They made the JUnit report invalid XML and reached the terminal raw from the text one."""
    data = tmp_path / "control.nt"
    data.write_text(CONTROL_CHARACTERS, encoding="utf-8")
    report = tmp_path / "report.xml"
    assert validate(data, "--format", "junit", "-o", report).returncode == 1
    failures = "".join(f.text or "" for f in ET.parse(report).iter("failure"))
    assert "\\u0001" in failures and "\\u001B[31m" in failures and "\\u202E" in failures
    for report_format in ("text", "github"):
        run = validate(data, "--format", report_format)
        assert run.returncode == 1, run.stderr
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", run.stdout)
        assert "\\u0001 label\\u001B[31m\\u202E" in run.stdout, run.stdout
