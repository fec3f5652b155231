"""The SHACL shapes of shapes/*.ttl, proved on fixtures.

``tests/fixtures/shapes/valid.ttl`` is a small complete graph that must conform. Every other
fixture breaks exactly one rule and says which on its first line::

    # expect: <shape local name> <focus node IRI>

and validation must report that shape on that focus node, and no Violation or Warning from
any other shape or on any other node. Every shape must be proved by at least one fixture.

Each fixture is validated together with the ontology and its vocabularies, as in the build's
union graph (which holds ``graph/reference/ontology``): pySHACL copies only RDFS and OWL axioms
from its ontology graph, so the SKOS concepts must be in the data.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from santecyber.namespaces import SH
from santecyber.validation import (
    ValidationOutcome,
    ontology_files,
    parse_files,
    shape_files,
    validate_graph,
)

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
VALID = FIXTURES / "valid.ttl"
BROKEN = sorted(path for path in FIXTURES.glob("*.ttl") if path != VALID)
SCS = Namespace("https://w3id.org/santecyber/shapes#")
EXPECT = re.compile(r"# expect: (?P<shape>[A-Za-z][A-Za-z0-9]*) (?P<focus>\S+)")
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)

Result = tuple[URIRef, Node, Node]  # severity, source shape, focus node


@cache
def shapes_graph() -> Graph:
    return parse_files(shape_files())


@cache
def ontology_graph() -> Graph:
    return parse_files(ontology_files())


def shapes() -> set[Node]:
    """The shapes of shapes/*.ttl: typed sh:NodeShape or sh:PropertyShape, or with a target.

    Untyped blank nodes inside sh:or or sh:node are parts of the shape that holds them.
    """
    graph = shapes_graph()
    found: set[Node] = set()
    for kind in (SH.NodeShape, SH.PropertyShape):
        found.update(graph.subjects(RDF.type, kind))
    for target in TARGETS:
        found.update(graph.subjects(target, None))
    return found


def expectation(path: Path) -> tuple[URIRef, URIRef]:
    """The shape and focus node a fixture's first line names."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = EXPECT.fullmatch(first.strip())
    assert match, f"{path.name}: first line must be '# expect: <shape> <focus IRI>', not {first!r}"
    return SCS[match["shape"]], URIRef(match["focus"])


def validate(path: Path) -> ValidationOutcome:
    """Validate a fixture together with the ontology, as in the build's union graph."""
    data = Graph()
    data.parse(path, format="turtle")
    data += ontology_graph()
    return validate_graph(data, shapes=shapes_graph(), ontology=ontology_graph())


def results(outcome: ValidationOutcome) -> set[Result]:
    """The report's results; not the sh:detail results nested in them (from sh:node)."""
    report = outcome.report
    return {
        (
            report.value(result, SH.resultSeverity),
            report.value(result, SH.sourceShape),
            report.value(result, SH.focusNode),
        )
        for result in report.objects(None, SH.result)
    }


def severity(shape: Node) -> URIRef:
    return shapes_graph().value(shape, SH.severity) or SH.Violation


def local(node: Node) -> str:
    return str(node).removeprefix(str(SCS))


def test_valid_graph_conforms() -> None:
    outcome = validate(VALID)
    serious = [r for r in outcome.results if r.severity in {"Violation", "Warning"}]
    assert outcome.conforms, serious
    assert serious == []


@pytest.mark.parametrize("path", BROKEN, ids=lambda path: path.stem)
def test_fixture_breaks_exactly_its_shape(path: Path) -> None:
    shape, focus = expectation(path)
    assert shape in shapes(), f"{path.name}: no shape {local(shape)} in shapes/*.ttl"
    found = results(validate(path))
    assert (severity(shape), shape, focus) in found, sorted((local(s), str(f)) for _, s, f in found)
    others = {
        (local(s), str(f))
        for level, s, f in found
        if (level in {SH.Violation, SH.Warning} or s == shape) and (s, f) != (shape, focus)
    }
    assert others == set(), f"{path.name} breaks more than {local(shape)} on {focus}"


def test_every_shape_is_proved_by_a_fixture() -> None:
    proved = {expectation(path)[0] for path in BROKEN}
    unproved = sorted(local(shape) for shape in shapes() - proved)
    assert unproved == [], f"shapes without a fixture in {FIXTURES}: {unproved}"


def test_every_shape_is_named_labelled_and_explained() -> None:
    graph = shapes_graph()
    for shape in shapes():
        assert isinstance(shape, URIRef) and shape.startswith(str(SCS)), shape
        assert graph.value(shape, RDFS.label) is not None, f"{local(shape)} has no rdfs:label"
        assert graph.value(shape, SH.message) is not None, f"{local(shape)} has no sh:message"
