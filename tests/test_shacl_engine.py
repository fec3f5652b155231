"""The fast SHACL engine (santecyber.shacl) agrees with pySHACL, the reference.

Compared result by result (severity, focus node, path, value, message, constraint
component, source shape) on every shape fixture, on the project's records under strict
shapes, and on a synthetic graph large enough for the engine's whole-graph queries. Each
comparison runs the engine both ways: with the focus nodes named in its queries, and with
queries over the whole graph filtered afterwards (``bound_nodes=0``).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import run_cli
from rdflib import Graph
from test_validate import STRICT_SHAPES

from santecyber.build import compile_graph
from santecyber.rdf_inputs import as_graph
from santecyber.shacl import ShapesGraph, Unsupported
from santecyber.validation import (
    ShapeResult,
    ValidationOutcome,
    ontology_files,
    parse_files,
    shape_files,
    validate_graph,
    validate_store,
)

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "shapes").glob("*.ttl"))
NUMBER = re.compile(r'^"([-+0-9.eE]+)"\^\^xsd:(decimal|double|float)$')


def comparable(result: ShapeResult) -> tuple[object, ...]:
    """A result without what differs between two parses or stores: blank node labels, and
    the lexical form of numbers (the store keeps 0.0 as 0)."""
    value: object = result.value or ""
    if number := NUMBER.match(str(value)):
        value = (Decimal(number[1]), number[2])
    shape = result.shape if not result.shape.startswith("_:") else "(blank)"
    path, constraint = result.path or "", result.constraint
    return (result.severity, result.focus_node, path, value, result.message, constraint, shape)


@pytest.fixture(scope="module")
def strict_shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/test_validate.py's strict shapes: many results on the project's records."""
    path = tmp_path_factory.mktemp("shapes") / "strict.ttl"
    path.write_text(STRICT_SHAPES, encoding="utf-8")
    return path


@cache
def shapes() -> Graph:
    return parse_files(shape_files())


@cache
def ontology() -> Graph:
    return parse_files(ontology_files())


def store_of(data: Graph) -> ox.Store:
    """The data and the ontology in the default graph of an in-memory store."""
    store = ox.Store()
    store.extend(ox.Quad(*t) for t in as_oxigraph(data))
    store.extend(ox.Quad(*t) for t in as_oxigraph(ontology()))
    return store


def as_oxigraph(graph: Graph) -> list[tuple[ox.NamedNode, ox.NamedNode, object]]:
    from santecyber.shacl import to_oxigraph

    return [tuple(to_oxigraph(term) for term in triple) for triple in graph]  # type: ignore[misc]


def assert_agree(data: Graph, shapes_graph: Graph, where: str) -> ValidationOutcome:
    """Both ways of the fast engine give pySHACL's results; pySHACL's outcome back."""
    reference = validate_graph(data, shapes_graph, ontology(), engine="pyshacl")
    expected = sorted(map(comparable, reference.results))
    store = store_of(data)
    for bound in (256, 0):
        fast = validate_store(store, shapes_graph, bound_nodes=bound)
        assert fast.engine == "fast"
        assert sorted(map(comparable, fast.results)) == expected, f"{where}, bound_nodes={bound}"
        assert fast.conforms == reference.conforms, where
    return reference


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda path: path.stem)
def test_every_shape_fixture_gives_pyshacls_results(fixture: Path) -> None:
    reference = assert_agree(Graph().parse(fixture), shapes(), fixture.name)
    if fixture.stem != "valid":  # each broken fixture makes its shape report something
        assert reference.results


def test_the_records_under_strict_shapes_give_pyshacls_results(strict_shapes: Path) -> None:
    compiled = compile_graph()
    strict = parse_files([*shape_files(), strict_shapes])
    reference = assert_agree(as_graph(compiled.record_quads), strict, "records")
    assert len(reference.results) > 50  # the strict shapes make the comparison meaningful


@pytest.mark.slow
def test_a_synthetic_graph_gives_pyshacls_results(tmp_path: Path) -> None:
    """10k quads: shapes with thousands of focus nodes take the whole-graph queries."""
    from bench.generate import generate

    dump = tmp_path / "synthetic.nq"
    generate(dump, quads=10_000)
    data = as_graph(ox.parse(path=str(dump), format=ox.RdfFormat.N_QUADS))
    reference = assert_agree(data, shapes(), "synthetic graph")
    assert len({r.shape for r in reference.results}) >= 2


def test_shapes_it_cannot_evaluate_go_to_pyshacl(tmp_path: Path) -> None:
    closed = tmp_path / "closed.ttl"
    closed.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "@prefix sc: <https://w3id.org/santecyber/ontology#> .\n"
        "<urn:x:ClosedAttack> a sh:NodeShape ; sh:targetClass sc:Attack ; sh:closed true ;\n"
        '    sh:message "Attacks carry only the properties listed." .\n',
        encoding="utf-8",
    )
    with pytest.raises(Unsupported, match="sh:closed"):
        ShapesGraph(parse_files([closed]))
    run = run_cli("validate", "--shapes", str(closed), "--format", "json")
    assert run.returncode == 1, run.stderr
    assert "pySHACL ran instead of the fast engine" in run.stderr and "sh:closed" in run.stderr
    results = json.loads(run.stdout)["results"]
    assert results and {r["shape"] for r in results} == {"<urn:x:ClosedAttack>"}


def test_both_engines_report_the_same_through_the_cli(strict_shapes: Path) -> None:
    runs = {
        engine: run_cli("validate", "--shapes", strict_shapes, "--engine", engine, "-f", "json")
        for engine in ("fast", "pyshacl")
    }
    assert {run.returncode for run in runs.values()} == {1}
    fast, reference = (json.loads(runs[e].stdout)["results"] for e in ("fast", "pyshacl"))
    assert len(fast) > 50 and fast == reference
