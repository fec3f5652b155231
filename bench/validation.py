"""Validation speed: pySHACL's full run (the reference) against incremental validation.

    python -m bench.validation [--quads 100000 1000000] [--full]

For each synthetic graph (bench/out/synthetic-N.nq, generated if missing): load it into
rdflib's in-memory graph (timed apart); validate only the nodes one record would mint (an
attack and its hash parts, as `santecyber validate --changed` does) over their neighbourhood;
check the results equal pySHACL's own ``focus_nodes`` run over the whole graph; with --full,
also run pySHACL over all of it (the reference; very slow: minutes at 100k, hours at 1M) and
check the incremental results equal its results on those nodes.
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
from santecyber.namespaces import SC, SCHEMA
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

    Among the first 200 attacks, one whose sources disagree on its start date (so the record
    has a result to agree on), with the most parts.
    """
    attacks = sorted(str(s) for s in graph.subjects(RDF.type, SC.Attack))[:200]
    best: tuple[bool, int, set[str]] = (False, 0, set())
    for attack in attacks:
        parts = {
            str(o)
            for _, _, o in graph.triples((URIRef(attack), None, None))
            if isinstance(o, URIRef) and str(o).startswith(attack + "#")
        }
        disagree = len(set(graph.objects(URIRef(attack), SCHEMA.startDate))) > 1
        candidate = (disagree, len(parts), {attack, *parts})
        if candidate[:2] > best[:2]:
            best = candidate
    return best[2]


def key(result: ShapeResult) -> tuple[str, ...]:
    shape = result.shape if not result.shape.startswith("_:") else "(blank)"
    return (result.severity, result.focus_node, result.path or "", result.value or "", shape)


def measure(path: Path, full_run: bool) -> None:
    shapes = parse_files(shape_files())
    ontology = parse_files(ontology_files())
    start = time.perf_counter()
    graph = load(path)
    loaded = time.perf_counter() - start
    print(f"\n## {path.name}: {len(graph):,} triples (union), rdflib load {loaded:.1f} s")

    focus = one_record(graph)
    start = time.perf_counter()
    part = neighbourhood(graph, focus)
    extracted = time.perf_counter() - start
    start = time.perf_counter()
    incremental = validate_graph(part, shapes, ontology, focus_nodes=focus)
    seconds = time.perf_counter() - start + extracted
    found = sorted(key(r) for r in incremental.results)
    print(
        f"incremental, one record: {seconds:8.2f} s  ({len(focus)} focus nodes; neighbourhood "
        f"{len(part):,} triples extracted in {extracted:.2f} s; {len(found)} results)"
    )

    start = time.perf_counter()
    reference = validate_graph(graph, shapes, ontology, focus_nodes=focus)
    reference_seconds = time.perf_counter() - start
    expected = sorted(key(r) for r in reference.results)
    agreement = "identical" if found == expected else f"DIFFERENT ({found} vs {expected})"
    print(
        f"pySHACL focus_nodes over the whole graph: {reference_seconds:8.1f} s; "
        f"incremental results {agreement}"
    )
    if not full_run:
        return
    start = time.perf_counter()
    full = validate_graph(graph, shapes, ontology)
    full_seconds = time.perf_counter() - start
    expected = sorted(key(r) for r in full.results if r.focus_node in focus)
    agreement = "identical" if found == expected else f"DIFFERENT ({found} vs {expected})"
    print(
        f"pySHACL full run:        {full_seconds:8.1f} s  {len(full.results):,} results  "
        f"peak {peak_mb():,.0f} MB; incremental {full_seconds / seconds:,.0f}x faster, "
        f"results on the record's nodes {agreement}"
    )


def report(paths: list[Path], full_run: bool = False) -> None:
    print("# Validation (pySHACL, the project's shapes; one run each)")
    for path in paths:
        measure(path, full_run)


def main() -> None:
    from bench.__main__ import synthetic_dump

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quads", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--full", action="store_true", help="also pySHACL's full run (slow)")
    args = parser.parse_args()
    report([synthetic_dump(n) for n in args.quads], args.full)


if __name__ == "__main__":
    main()
