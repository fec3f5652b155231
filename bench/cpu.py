"""CPU per distinct lookup of `santecyber serve`, alone or paired with another checkout.

    python -m bench.cpu [--quads 100000] [--seconds 8] [--rounds 5] [--against PYTHON]

Requests/s on a small shared machine move by a third from run to run with whatever else
runs; the CPU time that a lookup costs the server process and its query workers (read from
/proc) moves much less, so changes to the request path are compared on it. ``--against``
names the python of another checkout's virtualenv, for instance of an older commit::

    git worktree add /tmp/before HEAD~3 && python -m venv /tmp/before/.venv
    /tmp/before/.venv/bin/pip install -e /tmp/before
    python -m bench.cpu --against /tmp/before/.venv/bin/python

Rounds then alternate between the two, and the medians are printed with their ratio. Both
servers serve a store written by this checkout, and the CPU of a worker that ends during a
round is not counted: compare request paths with it, not store formats or crashes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from bench.__main__ import synthetic_dump
from bench.http import Cell, build_workload, run_cell, santecyber

CONCURRENCY = 16


class Round(NamedTuple):
    lookups_per_second: float
    server_ms: float  # CPU of the server process per lookup
    workers_ms: float  # CPU of its query workers (and their forkserver) per lookup


def process_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) that process ``pid`` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*/children"):
            children = [int(child) for child in task.read_text().split()]
            found += children
            todo += children
    return found


def tree_cpu(pid: int) -> dict[int, float]:
    cpu = {}
    for member in [pid, *descendants(pid)]:
        try:
            cpu[member] = process_cpu(member)
        except OSError:  # ended between the listing and the read
            continue
    return cpu


def measure(python: str, nquads: Path, work: Path, seconds: float) -> Round:
    """One round: a fresh server run by ``python``, ``seconds`` of distinct lookups."""
    calls = build_workload(nquads).calls("lookup", "distinct")
    with santecyber(nquads, work, python) as server:
        pid = server.process.pid
        before = tree_cpu(pid)
        cell = Cell("santecyber", "lookup", "distinct", CONCURRENCY)
        asyncio.run(run_cell(server, cell, calls, seconds, 30))
        after = tree_cpu(pid)
    used = {member: after[member] - before.get(member, 0.0) for member in after}
    workers = sum(cpu for member, cpu in used.items() if member != pid)
    lookups = max(cell.completed, 1)
    return Round(cell.rate, 1000 * used[pid] / lookups, 1000 * workers / lookups)


def median(rounds: list[Round]) -> Round:
    return Round(*(statistics.median(values) for values in zip(*rounds, strict=True)))


def report(label: str, figures: Round) -> None:
    total = figures.server_ms + figures.workers_ms
    print(
        f"{label:<44} {figures.lookups_per_second:>9,.0f} {figures.server_ms:>9.3f}"
        f" {figures.workers_ms:>10.3f} {total:>9.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quads", type=int, default=100_000, help="synthetic graph size")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds of load per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per checkout")
    parser.add_argument("--against", help="python of another checkout's virtualenv")
    args = parser.parse_args()
    nquads = synthetic_dump(args.quads)
    pythons = {"this checkout": sys.executable}
    if args.against:
        pythons[f"--against {args.against}"] = args.against
    rounds: dict[str, list[Round]] = {label: [] for label in pythons}
    with tempfile.TemporaryDirectory(prefix="santecyber-cpu-") as scratch:
        for _ in range(args.rounds):
            for index, (label, python) in enumerate(pythons.items()):
                work = Path(scratch) / str(index)
                work.mkdir(exist_ok=True)
                rounds[label].append(measure(python, nquads, work, args.seconds))
    print(
        f"# distinct lookups at c={CONCURRENCY} on {nquads.name}, medians of {args.rounds}"
        f" rounds of {args.seconds:g} s; ms of CPU per lookup"
    )
    print(f"{'checkout':<44} {'lookups/s':>9} {'server':>9} {'workers':>10} {'total':>9}")
    medians = {label: median(values) for label, values in rounds.items()}
    for label, figures in medians.items():
        report(label, figures)
    if args.against:
        this, other = medians.values()
        ratios = [a / b if b else float("nan") for a, b in zip(this, other, strict=True)]
        total = (this.server_ms + this.workers_ms) / (other.server_ms + other.workers_ms)
        print(
            f"{'ratio this / other':<44} {ratios[0]:>8.2f}x {ratios[1]:>8.2f}x"
            f" {ratios[2]:>9.2f}x {total:>8.2f}x"
        )


if __name__ == "__main__":
    main()
