"""Peak memory of the endpoint while it answers a large SELECT (issue 4: "memory stays flat").

Serves the synthetic graph with a result cap of 1,000,000 rows and downloads
``SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT n`` (TSV, one line a row, uncompressed) for a
small and a large ``n``, sampling the resident set size (``/proc/PID/status`` VmRSS) of the
server process and of its query workers every 50 ms. Twice: streamed (the default: answers over
``SANTECYBER_STREAM_BYTES`` go to the client in 64 KiB chunks) and, for comparison,
``SANTECYBER_STREAM_BYTES`` set above any answer, which is how every answer travelled before
streaming (the whole body in one message, then one response).

``python -m bench.memory [--quads N] [--rows 10000 1000000]``; ``make bench`` runs it with
``--http``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.http import free_port, launch
from santecyber.paths import ROOT
from santecyber.store import BuildDirectory

OUT = ROOT / "bench" / "out"


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (workers fork from a forkserver child)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except (FileNotFoundError, ProcessLookupError):
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, of in parents.items() if of == parent]
        found.extend(children)
        frontier.extend(children)
    return found


class Sampler(threading.Thread):
    """Peak RSS of the server process and of its biggest worker while running."""

    def __init__(self, server_pid: int) -> None:
        super().__init__(daemon=True)
        self.server_pid = server_pid
        self.server_peak = 0
        self.worker_peak = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            self.server_peak = max(self.server_peak, rss_kib(self.server_pid))
            workers = [rss_kib(p) for p in descendants(self.server_pid)]
            self.worker_peak = max([self.worker_peak, *workers])
            time.sleep(0.05)


def server_pid(process: subprocess.Popen) -> int:
    """The uvicorn process: the launcher's own pid (``santecyber serve`` runs in-process)."""
    return process.pid


def download(url: str, rows: int) -> tuple[int, int, float, bool]:
    query = f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} LIMIT {rows}"
    started = time.monotonic()
    size = lines = 0
    headers = {"Accept": "text/tab-separated-values", "Accept-Encoding": "identity"}
    with httpx.stream("POST", url, data={"query": query}, headers=headers, timeout=300) as answer:
        answer.raise_for_status()
        truncated = answer.headers.get("x-santecyber-truncated") == "true"
        for chunk in answer.iter_bytes():
            size += len(chunk)
            lines += chunk.count(b"\n")
    return lines - 1, size, time.monotonic() - started, truncated


def measure(build: Path, rows: list[int], stream_bytes: int | None, log: Path) -> list[str]:
    env = dict(os.environ, SANTECYBER_MAX_RESULTS="1000000", SANTECYBER_QUERY_TIMEOUT="300")
    if stream_bytes is not None:
        env["SANTECYBER_STREAM_BYTES"] = str(stream_bytes)
    port = free_port()
    command = [sys.executable, "-m", "santecyber.cli", "serve", "--port", str(port)]
    command += ["--build-dir", str(build)]
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        server = launch("santecyber", command, f"http://127.0.0.1:{port}/sparql", log, 300)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    lines = []
    try:
        pid = server_pid(server.process)
        idle = rss_kib(pid)
        for n in rows:
            sampler = Sampler(pid)
            sampler.start()
            got, size, seconds, truncated = download(server.url, n)
            sampler.running = False
            sampler.join()
            flag = " (truncated)" if truncated else ""
            lines.append(
                f"  {n:>9,} rows{flag}: {got:,} rows, {size / 2**20:,.1f} MiB in {seconds:.1f} s;"
                f" peak RSS server {sampler.server_peak / 1024:,.0f} MiB"
                f" (idle {idle / 1024:,.0f}), largest worker {sampler.worker_peak / 1024:,.0f} MiB"
            )
    finally:
        server.stop()
    return lines


def report(nquads: Path, rows: list[int] | None = None) -> None:
    rows = rows or [10_000, 1_000_000]
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as work:
        directory = BuildDirectory(Path(work) / "santecyber")
        data = nquads.read_bytes()
        directory.write_store("bench-memory", data)
        directory.publish("bench-memory", data)
        del data
        load = os.getloadavg()
        print(f"\nPeak memory answering SELECT ?s ?p ?o LIMIT n as TSV ({nquads.name})")
        print(f"load average at the start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        for name, stream_bytes in (("streamed", None), ("one message (before)", 1 << 40)):
            print(f" {name}:")
            log = Path(work) / f"server-{stream_bytes}.log"
            for line in measure(directory.root, rows, stream_bytes, log):
                print(line, flush=True)
        load = os.getloadavg()
        print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quads", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 1_000_000])
    args = parser.parse_args()
    report(OUT / f"synthetic-{args.quads}.nq", args.rows)


if __name__ == "__main__":
    main()
