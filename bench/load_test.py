"""Load test: many clients on one server for a while; throughput, latency, statuses, memory.

    python -m bench.load_test [--clients 64] [--seconds 120] [--url http://127.0.0.1:PORT]
    python -m bench --load ...        (the same, after the other figures)

Without ``--url`` it starts ``santecyber serve`` on a free loopback port over ``--build-dir``
(the project's build by default) and stops it at the end. Only loopback addresses are allowed.
Each client sends one request at a time, picked at random from a fixed mix:

- cheap: ASK, a label lookup, small SELECTs with a varying LIMIT (some cached, some not);
- heavy: the named queries of queries/, a cross product of all statements counted (seconds),
  and, rarely, a bigger one that runs past the time limit (a 503 is its intended answer;
  a heavy query may also get 503 when every worker stays busy);
- malformed: syntax errors, updates, unknown media types, bad content types (4xx intended);
- pages: IRIs in Turtle and HTML, the index pages, VoID, the query page, dumps index.

It stops by itself after ``--seconds`` (then waits for the requests in flight, each bounded by
``--timeout``), and prints requests/s, latency percentiles per kind, statuses per kind, errors
(any other 5xx, or a transport error) and the server's resident memory (its process and the
query workers) sampled every second.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from santecyber.launch import LiveServer, start_server, stop_server
from santecyber.named_queries import named_queries
from santecyber.paths import BUILD_DIR

JSON = "application/sparql-results+json"
ID = "https://w3id.org/santecyber/id/"
ATTACKS = [
    "2023-06-chu-rennes",
    "2022-08-corbeil-essonnes",
    "2021-02-ch-dax",
    "2022-12-ch-versailles",
    "2023-03-chu-brest",
    "2024-10-hospi-grand-ouest",
]
PREFIX = "PREFIX sc: <https://w3id.org/santecyber/ontology#>\n"
RDFS = "<http://www.w3.org/2000/01/rdf-schema#label>"


@dataclass(frozen=True)
class Call:
    kind: str
    method: str
    path: str
    params: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    content: bytes | None = None
    #: statuses this request is meant to get (anything else 4xx is reported, 5xx is an error)
    expected: frozenset[int] = frozenset({200})


def cheap(rng: random.Random) -> Call:
    choice = rng.randrange(4)
    if choice == 0:
        query = "ASK { ?a a sc:Attack }"
    elif choice == 1:
        query = f"SELECT ?l WHERE {{ <{ID}attack/{rng.choice(ATTACKS)}> {RDFS} ?l }}"
    elif choice == 2:
        query = f"SELECT ?a WHERE {{ ?a a sc:Attack }} LIMIT {rng.randint(1, 30)}"
    else:  # never the same text twice: no cache
        query = f"SELECT ?s WHERE {{ ?s sc:target ?t }} LIMIT 5 # {rng.random()}"
    return Call("cheap", "GET", "/sparql", {"query": PREFIX + query}, {"Accept": JSON})


def heavy(rng: random.Random, named: list[str]) -> Call:
    roll = rng.random()
    if roll < 0.02:  # runs until the time limit kills it: 503 is its answer
        query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        return Call(
            "heavy", "POST", "/sparql", {"query": query}, {"Accept": JSON}, None, frozenset({503})
        )
    if roll < 0.25:  # a cross product of every statement with every other, counted (~2 s)
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f }} # {rng.random()}"
    else:  # the analysts' named queries, 50 texts each: some cache hits
        query = rng.choice(named) + f"\n# {rng.randrange(50)}"
    return Call(
        "heavy",
        "POST",
        "/sparql",
        {"query": query},
        {"Accept": JSON},
        expected=frozenset({200, 503}),
    )


MALFORMED = [
    Call(
        "malformed",
        "GET",
        "/sparql",
        {"query": "SELEC * WHERE { ?s ?p ?o"},
        None,
        None,
        frozenset({400}),
    ),
    Call(
        "malformed",
        "GET",
        "/sparql",
        {"query": "SELECT * WHERE { ?s unknown:p ?o }"},
        None,
        None,
        frozenset({400}),
    ),
    Call("malformed", "POST", "/sparql", {"update": "CLEAR ALL"}, None, None, frozenset({403})),
    Call(
        "malformed",
        "GET",
        "/sparql",
        {"query": "ASK {}"},
        {"Accept": "image/png"},
        None,
        frozenset({406}),
    ),
    Call(
        "malformed",
        "POST",
        "/sparql",
        None,
        {"Content-Type": "text/plain"},
        b"ASK {}",
        frozenset({415}),
    ),
    Call(
        "malformed",
        "GET",
        "/sparql",
        {"query": "ASK {} # " + "x" * 9000},
        None,
        None,
        frozenset({414}),
    ),
    Call(
        "malformed",
        "GET",
        "/id/attack/no-such-attack",
        None,
        {"Accept": "text/turtle"},
        None,
        frozenset({404}),
    ),
    Call(
        "malformed", "GET", "/static/..%2f..%2fpyproject.toml", None, None, None, frozenset({404})
    ),
]


def page(rng: random.Random) -> Call:
    attack = rng.choice(ATTACKS)
    choice = rng.randrange(7)
    if choice == 0:
        return Call("page", "GET", f"/id/attack/{attack}", None, {"Accept": "text/html"})
    if choice == 1:
        return Call("page", "GET", f"/id/attack/{attack}", None, {"Accept": "text/turtle"})
    if choice == 2:
        return Call("page", "GET", f"/id/attack/{attack}.jsonld")
    if choice == 3:
        return Call("page", "GET", "/id/attack/", None, {"Accept": "text/html"})
    if choice == 4:
        return Call("page", "GET", "/void", None, {"Accept": "text/turtle"})
    if choice == 5:
        return Call("page", "GET", "/", None, {"Accept": "text/html"})
    return Call("page", "GET", "/dumps/index.json")


def make_mix(seed: int) -> Callable[[], Call]:
    rng = random.Random(seed)
    named = [q.text for q in named_queries().values()]

    def pick() -> Call:
        roll = rng.random()
        if roll < 0.45:
            return cheap(rng)
        if roll < 0.60:
            return heavy(rng, named)
        if roll < 0.70:
            return rng.choice(MALFORMED)
        return page(rng)

    return pick


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    unexpected: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    memory: list[tuple[float, int, int]] = field(default_factory=list)  # (s, server, workers)


async def client_loop(
    client: httpx.AsyncClient, pick: Callable[[], Call], stop: float, results: Results
) -> None:
    while time.monotonic() < stop:
        call = pick()
        started = time.perf_counter()
        try:
            if call.method == "POST" and call.content is None:
                response = await client.post(call.path, data=call.params, headers=call.headers)
            elif call.method == "POST":
                response = await client.post(call.path, content=call.content, headers=call.headers)
            else:
                response = await client.get(call.path, params=call.params, headers=call.headers)
            await response.aread()
        except httpx.HTTPError as error:
            results.errors[f"{call.kind}: {type(error).__name__}"] += 1
            continue
        results.latencies[call.kind].append(time.perf_counter() - started)
        results.statuses[call.kind][response.status_code] += 1
        if response.status_code not in call.expected:
            if response.status_code >= 500 and response.status_code != 503:
                results.errors[f"{call.kind}: {response.status_code} {call.path}"] += 1
            else:
                results.unexpected[f"{call.kind}: {response.status_code} {call.path}"] += 1


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as stream:
                    children = [int(c) for c in stream.read().split()]
                found += children
                todo += children
        except OSError:
            continue
    return found


def rss(pid: int) -> int:
    """Resident memory of ``pid`` in bytes (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as stream:
            for line in stream:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


async def sample_memory(pid: int, stop: float, results: Results, start: float) -> None:
    while time.monotonic() < stop:
        workers = sum(rss(child) for child in descendants(pid))
        results.memory.append((time.monotonic() - start, rss(pid), workers))
        await asyncio.sleep(1)


async def run(
    url: str, clients: int, seconds: float, timeout: float, pid: int | None, seed: int
) -> tuple[Results, float]:
    results = Results()
    start = time.monotonic()
    stop = start + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:
        tasks = [
            asyncio.create_task(client_loop(client, make_mix(seed + n), stop, results))
            for n in range(clients)
        ]
        if pid is not None:
            tasks.append(asyncio.create_task(sample_memory(pid, stop, results, start)))
        await asyncio.gather(*tasks)
    return results, time.monotonic() - start


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(results: Results, elapsed: float, clients: int) -> bool:
    """Print the figures; True when no request failed (5xx other than 503, transport error)."""
    total = sum(len(v) for v in results.latencies.values())
    print(
        f"# load test: {clients} clients, {elapsed:.0f} s, {total:,} answers, "
        f"{total / elapsed:,.0f} requests/s"
    )
    print(
        f"{'kind':<10} {'n':>7} {'req/s':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8}  statuses"
    )
    for kind in ("cheap", "heavy", "malformed", "page"):
        values = results.latencies.get(kind, [])
        if not values:
            continue
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(results.statuses[kind].items()))
        print(
            f"{kind:<10} {len(values):>7,} {len(values) / elapsed:>7.1f} "
            f"{percentile(values, 0.5) * 1000:>8.1f} {percentile(values, 0.9) * 1000:>8.1f} "
            f"{percentile(values, 0.99) * 1000:>8.1f} {max(values) * 1000:>8.1f}  {statuses}"
        )
    if results.unexpected:
        print("unexpected (not errors):", dict(results.unexpected.most_common(8)))
    print("errors:", dict(results.errors) if results.errors else "none")
    if results.memory:
        mib = 1 << 20
        print("server memory (RSS MiB: server + workers), every 10 s:")
        line = [f"{t:>4.0f}s {s / mib:.0f}+{w / mib:.0f}" for t, s, w in results.memory[::10]]
        print("  " + "  ".join(line))
        totals = [s + w for _, s, w in results.memory]
        third = max(1, len(totals) // 3)
        print(
            f"  min {min(totals) / mib:.0f} MiB, max {max(totals) / mib:.0f} MiB; "
            f"median of the first third {statistics.median(totals[:third]) / mib:.0f} MiB, "
            f"of the last third {statistics.median(totals[-third:]) / mib:.0f} MiB"
        )
    return not results.errors


def loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        if host == "localhost" or ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SystemExit(f"refusing to load {url}: loopback addresses only")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--timeout", type=float, default=60, help="per request, seconds")
    parser.add_argument("--url", help="a running server (loopback); default: start one")
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 1024 or not 0 < args.seconds <= 3600:
        raise SystemExit("--clients must be 1-1024 and --seconds 0-3600")
    server: LiveServer | None = None
    if args.url:
        loopback(args.url)
        url, pid = args.url, None
    else:
        log = Path(os.environ.get("TMPDIR", "/tmp")) / f"santecyber-load-{os.getpid()}.log"
        try:
            server = start_server(args.build_dir, log)
        except RuntimeError as error:
            raise SystemExit(str(error)[-2000:]) from None
        url, pid = server.url, server.process.pid
    try:
        results, elapsed = asyncio.run(
            run(url, args.clients, args.seconds, args.timeout, pid, args.seed)
        )
    finally:
        if server is not None:
            stop_server(server)
    if not report(results, elapsed, args.clients):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
