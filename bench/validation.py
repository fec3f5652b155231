"""Validation speed: pySHACL's full run (the reference) against incremental validation.

    python -m bench.validation [--quads 100000 1000000]

For each synthetic graph (bench/out/synthetic-N.nq, generated if missing): load it into
rdflib's in-memory graph (timed apart), run pySHACL over all of it with the project's shapes
(once: minutes at 1M), then validate only the nodes one record would mint (an attack and its
hash parts, as `santecyber validate --changed` does) over their neighbourhood, and check that
the incremental results equal the full run's results on those nodes.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from santecyber.loaders.ontology import ontology_files
from santecyber.namespaces import SC
from santecyber.rdf_inputs import as_graph
from santecyber.validation import (
    ShapeResult,
    neighbourhood,
    parse_files,
    shape_files,
    validate_graph,
)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(path: Path) -> Graph:
    return as_graph(ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))


def one_record(graph: Graph) -> set[str]:
    """The nodes the record of one attack would mint: the attack and its hash parts.

    The attack with the most parts among the first 200, so the figure is not a best case.
    """
    attacks = sorted(str(s) for s in graph.subjects(RDF.type, SC.Attack))[:200]
    best: set[str] = set()
    for attack in attacks:
        parts = {
            str(o)
            for _, _, o in graph.triples((URIRef(attack), None, None))
            if isinstance(o, URIRef) and str(o).startswith(attack + "#")
        }
        if len(parts) + 1 > len(best):
            best = {attack, *parts}
    return best


def key(result: ShapeResult) -> tuple[str, ...]:
    shape = result.shape if not result.shape.startswith("_:") else "(blank)"
    return (result.severity, result.focus_node, result.path or "", result.value or "", shape)


def measure(path: Path) -> None:
    shapes = parse_files(shape_files())
    ontology = parse_files(ontology_files())
    start = time.perf_counter()
    graph = load(path)
    loaded = time.perf_counter() - start
    print(f"\n## {path.name}: {len(graph):,} triples (union), rdflib load {loaded:.1f} s")

    start = time.perf_counter()
    full = validate_graph(graph, shapes, ontology)
    full_seconds = time.perf_counter() - start
    print(
        f"pySHACL full run:        {full_seconds:8.1f} s  {len(full.results):,} results  "
        f"peak {peak_mb():,.0f} MB"
    )

    focus = one_record(graph)
    start = time.perf_counter()
    part = neighbourhood(graph, focus)
    extracted = time.perf_counter() - start
    start = time.perf_counter()
    incremental = validate_graph(part, shapes, ontology, focus_nodes=focus)
    seconds = time.perf_counter() - start
    expected = sorted(key(r) for r in full.results if r.focus_node in focus)
    found = sorted(key(r) for r in incremental.results)
    agreement = "identical" if found == expected else f"DIFFERENT ({found} vs {expected})"
    print(
        f"incremental, one record: {seconds + extracted:8.2f} s  ({len(focus)} focus nodes, "
        f"neighbourhood {len(part):,} triples extracted in {extracted:.2f} s)  "
        f"{full_seconds / (seconds + extracted):,.0f}x faster; results {agreement} "
        f"({len(found)} on those nodes)"
    )


def report(paths: list[Path]) -> None:
    print("# Validation (pySHACL, the project's shapes; one run each)")
    for path in paths:
        measure(path)


def main() -> None:
    from bench.__main__ import synthetic_dump

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quads", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    report([synthetic_dump(n) for n in args.quads])


if __name__ == "__main__":
    main()
