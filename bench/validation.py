"""Validation speed: the fast engine (santecyber.shacl) against pySHACL, the reference.

    python -m bench.validation [--quads 100000 1000000] [--pyshacl-budget SECONDS]

For each synthetic graph (bench/out/synthetic-N.nq, generated if missing), each figure is
measured in its own process (so peak memory is that run's alone):

- fast, full: load the quads into an in-memory pyoxigraph store (the merge of all graphs
  and the ontology in its default graph, as the build serves it) and validate everything;
- fast, one record: the same store, only the nodes one record mints (an attack and its hash
  parts, as `santecyber validate --changed` does); its results must equal the full run's on
  those nodes;
- pySHACL, full: rdflib's in-memory graph and pySHACL over all of it, stopped after
  ``--pyshacl-budget`` seconds (it takes hours at 1M quads); when it finishes, its results
  must equal the fast engine's, result by result.

Load times are printed apart from validation times.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox

from santecyber.loaders.ontology import ontology_files
from santecyber.validation import ShapeResult, parse_files, shape_files

ATTACK = "https://w3id.org/santecyber/ontology#Attack"
MODES = ("fast-full", "fast-record", "pyshacl-full")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def key(result: ShapeResult) -> list[str]:
    shape = result.shape if not result.shape.startswith("_:") else "(blank)"
    fields = (result.focus_node, result.path, result.value, result.constraint, result.message)
    return [result.severity, shape, *(text or "" for text in fields)]


def load_store(path: Path) -> ox.Store:
    """The quads' merge and the ontology in the default graph of an in-memory store."""
    store = ox.Store()
    store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
    store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
    for file in ontology_files():
        store.bulk_load(path=str(file), format=ox.RdfFormat.TURTLE, to_graph=ox.DefaultGraph())
    return store


def one_record(store: ox.Store) -> set[str]:
    """The nodes the record of one attack mints: the attack and its hash parts.

    Among the first 200 attacks, the one with the most parts, preferring one whose sources
    disagree on its start date (so the record has a result to agree on).
    """
    query = f"""
        SELECT ?attack (COUNT(DISTINCT ?start) > 1 AS ?disagree) (COUNT(DISTINCT ?part) AS ?n)
               (GROUP_CONCAT(DISTINCT STR(?part); separator=" ") AS ?parts)
        WHERE {{
            {{ SELECT ?attack WHERE {{ ?attack a <{ATTACK}> }} ORDER BY STR(?attack) LIMIT 200 }}
            OPTIONAL {{ ?attack <http://schema.org/startDate> ?start }}
            OPTIONAL {{ ?attack ?p ?part
                        FILTER (STRSTARTS(STR(?part), CONCAT(STR(?attack), "#"))) }}
        }}
        GROUP BY ?attack ORDER BY DESC(?disagree) DESC(?n) STR(?attack) LIMIT 1"""
    row = next(iter(store.query(query)))  # type: ignore[arg-type]
    return {row["attack"].value, *row["parts"].value.split()}


def run_mode(mode: str, dump: Path) -> dict:
    """One measurement, in this process: seconds, peak memory, results (as keys)."""
    from santecyber.validation import validate_graph, validate_store

    shapes = parse_files(shape_files())
    start = time.perf_counter()
    if mode == "pyshacl-full":
        from santecyber.rdf_inputs import as_graph

        graph = as_graph(ox.parse(path=str(dump), format=ox.RdfFormat.N_QUADS))
        loaded = time.perf_counter() - start
        start = time.perf_counter()
        outcome = validate_graph(graph, shapes, engine="pyshacl")
        focus: list[str] = []
    else:
        store = load_store(dump)
        loaded = time.perf_counter() - start
        focus = sorted(one_record(store)) if mode == "fast-record" else []
        start = time.perf_counter()
        outcome = validate_store(store, shapes, focus or None)
    return {
        "load": loaded,
        "seconds": time.perf_counter() - start,
        "peak_mb": peak_mb(),
        "focus": focus,
        "results": sorted(key(r) for r in outcome.results),
    }


def measure(mode: str, dump: Path, budget: float | None = None) -> dict | None:
    """run_mode in a child process; None when it ran past ``budget`` seconds."""
    command = [sys.executable, "-m", "bench.validation", "--one", mode, str(dump)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=budget, check=True)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(done.stdout.splitlines()[-1])


def report(paths: list[Path], pyshacl_budget: float = 600) -> None:
    print("\n# Validation: fast engine (santecyber.shacl) against pySHACL, the project's shapes")
    print(f"(one run each, in its own process; pySHACL stopped after {pyshacl_budget:,.0f} s)")
    for dump in paths:
        quads = sum(1 for _ in dump.open("rb"))
        print(f"\n## {dump.name}: {quads:,} quads")
        full, record = measure("fast-full", dump), measure("fast-record", dump)
        assert full is not None and record is not None
        focus = set(record["focus"])
        on_record = [r for r in full["results"] if r[2] in focus]
        print(f"{'':34} {'load s':>8} {'validate s':>11} {'peak MB':>8} {'results':>8}")
        print(line("fast, full", full))
        agrees = "identical" if record["results"] == on_record else "DIFFERENT"
        label = f"fast, one record ({len(focus)} nodes)"
        print(line(label, record, f"{agrees} to the full run's on those nodes"))
        reference = measure("pyshacl-full", dump, pyshacl_budget)
        if reference is None:
            ratio = pyshacl_budget / full["seconds"]
            print(
                f"{'pySHACL, full':34} {'':8} {'> ' + format(pyshacl_budget, ',.0f'):>11}", end=""
            )
            print(f"  not finished: the fast engine is more than {ratio:,.0f}x faster")
            continue
        agrees = "identical" if reference["results"] == full["results"] else "DIFFERENT"
        ratio = reference["seconds"] / full["seconds"]
        print(line("pySHACL, full", reference, f"fast engine {ratio:,.1f}x faster; {agrees}"))


def line(label: str, run: dict, note: str = "") -> str:
    figures = f"{run['load']:8.1f} {run['seconds']:11.2f} {run['peak_mb']:8,.0f}"
    return f"{label:34} {figures} {len(run['results']):8,}  {note}".rstrip()


def main() -> None:
    from bench.__main__ import synthetic_dump

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quads", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--pyshacl-budget", type=float, default=600, help="seconds")
    parser.add_argument("--one", nargs=2, metavar=("MODE", "DUMP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        mode, dump = args.one
        if mode not in MODES:
            parser.error(f"--one: mode must be one of {', '.join(MODES)}")
        print(json.dumps(run_mode(mode, Path(dump))))
        return
    report([synthetic_dump(n) for n in args.quads], args.pyshacl_budget)


if __name__ == "__main__":
    main()
