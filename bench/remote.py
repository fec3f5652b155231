"""Remote stores: load time and named-query latency through santecyber, embedded vs
`oxigraph serve` vs Virtuoso (docs/remote-store.md).

    python -m bench.remote [--quads 1000000] [--runs 5] [--no-virtuoso]

Each backend gets the synthetic graph (bench/out/synthetic-N.nq, generated if missing): the
embedded store as `santecyber build` writes it, the remote ones as `santecyber build --store`
loads them (graph by graph over the Graph Store Protocol, then the merged default graph,
then the count checks). Then `santecyber serve` runs on each with the result cache off and
every named query is sent over HTTP; the figure is the median wall time of ``runs`` requests
after one warm-up. Virtuoso is installed and started by deploy/virtuoso.sh (root); without
it, the line says why.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.__main__ import synthetic_dump
from santecyber.config import StoreSettings
from santecyber.named_queries import named_queries
from santecyber.paths import ROOT
from santecyber.remote import (
    LoadMismatch,
    RemoteStore,
    StoreRejected,
    StoreUnavailable,
    load_build,
    redact,
)
from santecyber.store import BuildDirectory, data_version

OXIGRAPH = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
LOAD_ERRORS = (StoreUnavailable, StoreRejected, LoadMismatch)
SERVE_ENV = {"SANTECYBER_CACHE_BYTES": "0", "SANTECYBER_QUERY_TIMEOUT": "300"}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            httpx.get(url, params={"query": "ASK {}"}, timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@contextmanager
def santecyber_serve(build_dir: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("wb") as stream:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "santecyber.cli", "serve"),
                *("--port", str(port), "--build-dir", str(build_dir)),
            ],
            env={**os.environ, **SERVE_ENV, **env},
            stdout=stream,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/sparql", process)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def latencies(url: str, runs: int) -> dict[str, tuple[float, int]]:
    """Median ms per named query through santecyber's /sparql, and its row count."""
    figures = {}
    with httpx.Client(timeout=600) as client:
        for name, query in named_queries().items():
            timings, rows = [], 0
            for run in range(runs + 1):
                start = time.perf_counter()
                response = client.post(
                    url + "/sparql",
                    data={"query": query.text},
                    headers={"Accept": "application/sparql-results+json"},
                )
                elapsed = (time.perf_counter() - start) * 1000
                if response.status_code != 200:
                    figures[name] = (float("nan"), response.status_code)
                    break
                rows = len(response.json().get("results", {}).get("bindings", []))
                if run:  # the first run warms the store up
                    timings.append(elapsed)
            else:
                figures[name] = (statistics.median(timings), rows)
            print(f"  {name}: {figures[name][0]:.1f} ms ({figures[name][1]})", flush=True)
    return figures


def embedded(nquads: bytes, version: str, folder: Path, runs: int) -> tuple[float, dict]:
    directory = BuildDirectory(folder / "build")
    start = time.perf_counter()
    directory.write_store(version, nquads)
    directory.publish(version, nquads)
    seconds = time.perf_counter() - start
    print(f"embedded: written in {seconds:.1f} s", flush=True)
    with santecyber_serve(directory.root, {}, folder / "serve.log") as url:
        return seconds, latencies(url, runs)


def remote(
    settings: StoreSettings, nquads: bytes, version: str, folder: Path, runs: int
) -> tuple[float, dict]:
    store = RemoteStore(settings, timeout=1800)
    start = time.perf_counter()
    try:
        load_build(store, nquads, version, report=print)
    finally:
        store.close()
    seconds = time.perf_counter() - start
    print(f"{redact(settings.query_url)}: loaded in {seconds:.1f} s", flush=True)
    env = {
        "SANTECYBER_STORE": settings.query_url,
        "SANTECYBER_STORE_UPDATE": settings.update_url,
        "SANTECYBER_STORE_USER": settings.user,
        "SANTECYBER_STORE_PASSWORD": settings.password,
        "SANTECYBER_STORE_AUTH": settings.auth,
        "SANTECYBER_STORE_DEFAULT_GRAPH": settings.default_graph,
    }
    (folder / "build").mkdir(exist_ok=True)
    with santecyber_serve(folder / "build", env, folder / "serve.log") as url:
        return seconds, latencies(url, runs)


@contextmanager
def oxigraph_serve(folder: Path) -> Iterator[StoreSettings]:
    port = free_port()
    process = subprocess.Popen(
        [OXIGRAPH, "serve", "--location", str(folder / "db"), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/query", process)
        yield StoreSettings(f"http://127.0.0.1:{port}/query")
    finally:
        process.kill()
        process.wait(30)


@contextmanager
def virtuoso(folder: Path) -> Iterator[StoreSettings]:
    """deploy/virtuoso.sh on free ports; raises RuntimeError with its output if it fails."""
    http, sql = free_port(), free_port()
    started = time.perf_counter()
    done = subprocess.run(
        ["bash", str(ROOT / "deploy" / "virtuoso.sh"), str(folder), str(http), str(sql)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError((done.stdout + done.stderr).strip()[-500:])
    print(f"deploy/virtuoso.sh: ready in {time.perf_counter() - started:.1f} s")
    pid = int((folder / "virtuoso.pid").read_text())
    try:
        yield StoreSettings(
            f"http://127.0.0.1:{http}/sparql",
            update_url=f"http://127.0.0.1:{http}/sparql-graph-crud-auth",
            user="dba",
            password="dba",
            auth="digest",
            default_graph="urn:x-santecyber:default",
        )
    finally:
        os.kill(pid, 15)
        for _ in range(60):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-virtuoso", action="store_true")
    options = parser.parse_args(argv)
    dump = synthetic_dump(options.quads)
    nquads = dump.read_bytes()
    version = data_version(nquads)
    lines = nquads.count(b"\n")
    print(f"# {dump.name}: {lines} quads; load average {os.getloadavg()}", flush=True)
    results: dict[str, tuple[float, dict]] = {}
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as temporary:
        root = Path(temporary)
        (root / "embedded").mkdir()
        results["embedded"] = embedded(nquads, version, root / "embedded", options.runs)
        (root / "oxigraph").mkdir()
        with oxigraph_serve(root / "oxigraph") as settings:
            results["oxigraph serve"] = remote(
                settings, nquads, version, root / "oxigraph", options.runs
            )
        if not options.no_virtuoso:
            try:
                with virtuoso(root / "virtuoso") as settings:
                    results["virtuoso"] = remote(
                        settings, nquads, version, root / "virtuoso", options.runs
                    )
            except (RuntimeError, subprocess.TimeoutExpired, OSError, *LOAD_ERRORS) as error:
                failures["virtuoso"] = str(error)
    names = list(results)
    print("\n## Load: seconds (embedded: write_store; remote: santecyber build --store loading)")
    for name in names:
        print(f"{name:<16}{results[name][0]:>10.1f}")
    print("\n## Named queries through santecyber /sparql: median ms (rows)")
    print(f"{'query':<34}" + "".join(f"{name:>22}" for name in names))
    for query in named_queries():
        cells = []
        for name in names:
            ms, rows = results[name][1][query]
            cells.append(f"{ms:>12.1f} ({rows:>6})" if ms == ms else f"{'HTTP ' + str(rows):>21}")
        print(f"{query:<34}" + "".join(f"{cell:>22}" for cell in cells))
    for name, why in failures.items():
        print(f"\n{name}: not measured: {why}")
    print(f"\nload average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
