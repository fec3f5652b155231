"""Measuring whole processes: wall time and peak memory of a Python snippet run in a child.

Each figure comes from a fresh interpreter so that one measurement's caches and memory do not
leak into the next; the median of several runs is what gets printed.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

from santecyber.paths import ROOT


@dataclass(frozen=True)
class Figure:
    label: str
    seconds: float  # median wall time of the measured part
    peak_mb: float  # median peak resident memory of the child process
    count: int  # items processed (quads, rows…), for rates

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def run_child(code: str, runs: int = 3) -> tuple[float, float, int]:
    """Run ``code`` in fresh interpreters; it must print ``<seconds> <count>`` on its last line.

    Returns the medians of the reported seconds and of the peak RSS (MB), and the count.
    """
    seconds, peaks, count = [], [], 0
    for _ in range(runs):
        process = subprocess.Popen(
            [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        if status != 0:
            raise RuntimeError(f"benchmark child failed ({status}):\n{code}\n{output}")
        last = output.strip().splitlines()[-1].split()
        seconds.append(float(last[0]))
        count = int(last[1])
        peaks.append(usage.ru_maxrss / 1024)  # kB on Linux
    return statistics.median(seconds), statistics.median(peaks), count


def timed(label: str, setup: str, body: str, count_expr: str, runs: int = 3) -> Figure:
    """Time ``body`` (after ``setup``, not timed) in a child; ``count_expr`` gives the count."""
    code = (
        "import time\n"
        f"{setup}\n"
        "__start = time.perf_counter()\n"
        f"{body}\n"
        "__elapsed = time.perf_counter() - __start\n"
        f"print(__elapsed, int({count_expr}))\n"
    )
    seconds, peak, count = run_child(code, runs)
    return Figure(label, seconds, peak, count)


def print_table(
    title: str, figures: list[Figure], unit: str, baseline: Figure | None = None
) -> None:
    """Figures as a table, with each one's time as a ratio of ``baseline``'s."""
    print(f"\n## {title}")
    print(f"{'':<44} {'median s':>10} {unit + '/s':>14} {'peak MB':>9} {'time ratio':>11}")
    for figure in figures:
        ratio = f"{figure.seconds / baseline.seconds:.2f}x" if baseline and baseline.seconds else ""
        print(
            f"{figure.label:<44} {figure.seconds:>10.3f} {figure.rate:>14,.0f} "
            f"{figure.peak_mb:>9.0f} {ratio:>11}"
        )


def now() -> float:
    return time.perf_counter()
