"""Latency of the named queries on a store, in process (pyoxigraph, results fully consumed)."""

from __future__ import annotations

import statistics
import time

import pyoxigraph as ox

from santecyber.named_queries import named_queries
from santecyber.sparql import run_query


def latency_ms(store: ox.Store, query: str, runs: int) -> tuple[float, int]:
    """Median milliseconds to run ``query`` and serialise its results as JSON, and row count."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        result = run_query(store, query)
        result.serialize(result.default_media_type)
        timings.append((time.perf_counter() - start) * 1000)
    result = run_query(store, query)
    rows = sum(1 for _ in result.value) if result.form != "boolean" else 1  # type: ignore[union-attr]
    return statistics.median(timings), rows


def report(stores: dict[str, ox.Store], runs: int) -> None:
    names = list(stores)
    print("\n## Named queries: median latency in ms (rows)")
    print(f"{'query':<34}" + "".join(f"{name:>26}" for name in names))
    for name, query in named_queries().items():
        cells = []
        for store in stores.values():
            ms, rows = latency_ms(store, query.text, runs)
            cells.append(f"{ms:>16.2f} ({rows:>6})")
        print(f"{name:<34}" + "".join(f"{cell:>26}" for cell in cells))
