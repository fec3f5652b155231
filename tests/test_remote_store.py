"""The remote store backend: a real `oxigraph serve` on 127.0.0.1, loaded by
`santecyber build --store`, served by `santecyber serve` with SANTECYBER_STORE.

The same checks run on both backends (``backend`` is the live server of each); expected
answers come from the embedded build, never written down.
"""

from __future__ import annotations

import base64
import functools
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from conftest import (
    LiveServer,
    free_port,
    mount_tmpfs,
    run_cli,
    start_server,
    stop_server,
    used_bytes,
)
from rdflib.compare import isomorphic

from santecyber.config import StoreSettings
from santecyber.namespaces import BASE
from santecyber.remote import BUILD_GRAPH, RemoteStore, load_build
from santecyber.sparql import run_query

OXIGRAPH = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
USER, SECRET = "reader", "s3cret-never-logged"
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
BACKENDS = ["embedded", "remote", "virtuoso"]
SERVERS = {"embedded": "live_server", "remote": "remote_server", "virtuoso": "virtuoso_server"}
GRAPH_SIZES = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
SD_GRAPH = SD["graph"]
VOID_TRIPLES = rdflib.URIRef("http://rdfs.org/ns/void#triples")


@dataclass
class Oxigraph:
    """One `oxigraph serve` process on a free loopback port, with its own database folder."""

    location: Path
    port: int
    log: Path
    process: subprocess.Popen | None = None

    @property
    def query_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/query"

    def start(self, *flags: str) -> Oxigraph:
        with self.log.open("ab") as stream:
            self.process = subprocess.Popen(
                [
                    *(OXIGRAPH, "serve", "--location", str(self.location)),
                    *("--bind", f"127.0.0.1:{self.port}", "--timeout-s", "20", *flags),
                ],
                stdout=stream,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.query_url, params={"query": "ASK {}"}, timeout=2)
                return self
            except httpx.TransportError:
                assert self.process.poll() is None, self.log.read_text()
                time.sleep(0.1)
        raise RuntimeError(f"oxigraph did not answer: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


def new_oxigraph(folder: Path, *flags: str) -> Oxigraph:
    folder.mkdir(parents=True, exist_ok=True)
    return Oxigraph(folder / "db", free_port(), folder / "oxigraph.log").start(*flags)


def santecyber(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return run_cli(*arguments, env=env)


def build_into(remote: Oxigraph, build_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    return santecyber("build", "--store", remote.query_url, "--build-dir", str(build_dir), *extra)


def remote_env(remote: Oxigraph, **more: str) -> dict[str, str]:
    env = {
        "SANTECYBER_STORE": remote.query_url,
        "SANTECYBER_STORE_USER": USER,
        "SANTECYBER_STORE_PASSWORD": SECRET,
        "SANTECYBER_STORE_REFRESH": "0.2",
        "SANTECYBER_QUERY_WORKERS": "2",
    }
    return {**env, **{f"SANTECYBER_{k.upper()}": v for k, v in more.items()}}


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oxigraph]:
    remote = new_oxigraph(tmp_path_factory.mktemp("oxigraph"))
    yield remote
    remote.stop()


@pytest.fixture(scope="module")
def remote_build(oxigraph: Oxigraph, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`santecyber build --store`: dumps and redirects locally, the graphs in oxigraph."""
    build_dir = tmp_path_factory.mktemp("remote-build")
    done = build_into(oxigraph, build_dir)
    assert done.returncode == 0, done.stderr
    return build_dir


@pytest.fixture(scope="module")
def remote_server(
    oxigraph: Oxigraph, remote_build: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    log = tmp_path_factory.mktemp("remote-logs") / "server.log"
    server = start_server(remote_build, log, remote_env(oxigraph))
    yield server
    stop_server(server)


def start_virtuoso(folder: Path) -> dict[str, str]:
    """deploy/virtuoso.sh on free ports (it installs Debian's virtuoso-opensource when it is
    missing and it runs as root); the SANTECYBER_STORE* settings it prints. Skips when the
    package is missing and cannot be installed here (exit 2, or apt-get failing)."""
    script = Path(__file__).parents[1] / "deploy" / "virtuoso.sh"
    ports = [str(free_port()), str(free_port())]
    done = subprocess.run(
        ["bash", str(script), str(folder), *ports], capture_output=True, text=True, timeout=900
    )
    if done.returncode == 3 or (done.returncode == 2 and not shutil.which("virtuoso-t")):
        pytest.skip(done.stderr.strip()[-300:])
    assert done.returncode == 0, done.stdout + done.stderr
    env = {}
    for line in done.stdout.splitlines():
        if line.startswith("export "):
            env.update(item.split("=", 1) for item in line.split()[1:])
    assert env["SANTECYBER_STORE_DEFAULT_GRAPH"]
    return {**env, "SANTECYBER_STORE_REFRESH": "0.2", "SANTECYBER_QUERY_WORKERS": "2"}


def stop_virtuoso(folder: Path) -> None:
    os.kill(int((folder / "virtuoso.pid").read_text()), 9)


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A Virtuoso for the module's checks, started by deploy/virtuoso.sh."""
    folder = tmp_path_factory.mktemp("virtuoso")
    yield start_virtuoso(folder)
    stop_virtuoso(folder)


@pytest.fixture(scope="module")
def virtuoso_build(virtuoso: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    build_dir = tmp_path_factory.mktemp("virtuoso-build")
    done = santecyber("build", "--build-dir", str(build_dir), env=virtuoso)
    assert done.returncode == 0, done.stderr
    return build_dir


@pytest.fixture(scope="module")
def virtuoso_server(
    virtuoso: dict[str, str], virtuoso_build: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    log = tmp_path_factory.mktemp("virtuoso-logs") / "server.log"
    server = start_server(virtuoso_build, log, virtuoso)
    yield server
    stop_server(server)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> LiveServer:
    """The live server of the embedded store, of oxigraph serve, and of Virtuoso if installed."""
    return request.getfixturevalue(SERVERS[request.param])


def rows(store: ox.Store, query: str) -> list[dict[str, str]]:
    result = run_query(store, query)
    names = [v.value for v in result.value.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in result.value]


def sorted_rows(found: list[dict[str, str]]) -> list[tuple[tuple[str, str], ...]]:
    return sorted(tuple(sorted(row.items())) for row in found)


def json_rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    bindings = response.json()["results"]["bindings"]
    return [{k: v["value"] for k, v in b.items()} for b in bindings]


# --- the same checks on both backends ---------------------------------------------------------


def test_default_graph_is_the_merge_counted_once(backend: LiveServer, built) -> None:
    """COUNT(*) over the default graph is the number of distinct statements of all graphs."""
    statements = {q.triple for q in ox.parse(built.dump.read_bytes(), format=ox.RdfFormat.N_QUADS)}
    with backend.client() as client:
        response = client.post(
            "/sparql", data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}
        )
    assert json_rows(response) == [{"n": str(len(statements))}]


@pytest.mark.parametrize("how", ["get", "form", "direct"])
def test_select_in_every_way_gives_the_store_rows(backend: LiveServer, store, how: str) -> None:
    query = "SELECT ?a ?l WHERE { ?a a sc:Attack ; rdfs:label ?l } ORDER BY ?a ?l"
    with backend.client() as client:
        if how == "get":
            response = client.get("/sparql", params={"query": query})
        elif how == "form":
            response = client.post("/sparql", data={"query": query})
        else:
            headers = {"Content-Type": "application/sparql-query"}
            response = client.post("/sparql", content=query.encode(), headers=headers)
    # the same rows; their order differs among labels in several languages (engines order
    # literals of different language tags their own way)
    assert sorted_rows(json_rows(response)) == sorted_rows(rows(store, query))
    assert len(rows(store, query)) > 5


@pytest.mark.parametrize(
    "media_type",
    ["application/sparql-results+xml", "text/csv", "text/tab-separated-values"],
)
def test_select_formats_match_the_embedded_answer(
    backend: LiveServer, live_server: LiveServer, media_type: str
) -> None:
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(?g != <%s>) } "
    query = query % BUILD_GRAPH + "GROUP BY ?g ORDER BY ?g"
    headers = {"Accept": media_type}
    with backend.client() as client, live_server.client() as reference:
        got = client.get("/sparql", params={"query": query}, headers=headers)
        expected = reference.get("/sparql", params={"query": query}, headers=headers)
    assert got.status_code == 200
    assert got.headers["content-type"].startswith(media_type)
    assert got.content == expected.content


@pytest.mark.parametrize(
    ("media_type", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_construct_in_rdf_formats(backend: LiveServer, store, media_type, rdflib_format) -> None:
    query = "CONSTRUCT { ?a rdfs:label ?l } WHERE { ?a a sc:Attack ; rdfs:label ?l }"
    with backend.client() as client:
        response = client.post("/sparql", data={"query": query}, headers={"Accept": media_type})
    assert response.status_code == 200, response.text
    graph = rdflib.Graph().parse(data=response.content, format=rdflib_format)
    expected = rdflib.Graph().parse(data=run_query(store, query).serialize("text/turtle"))
    assert isomorphic(graph, expected)
    assert len(graph) > 5


def test_ask_and_dataset_parameters(backend: LiveServer, store) -> None:
    source = next(
        r["g"]
        for r in rows(store, "SELECT DISTINCT ?g { GRAPH ?g { ?a a sc:Attack } } ORDER BY ?g")
    )
    query = "SELECT DISTINCT ?a WHERE { ?a a sc:Attack } ORDER BY ?a"
    expected = rows(
        store, f"SELECT DISTINCT ?a FROM <{source}> WHERE {{ ?a a sc:Attack }} ORDER BY ?a"
    )
    with backend.client() as client:
        assert client.get("/sparql", params={"query": "ASK { ?a a sc:Attack }"}).json()["boolean"]
        assert not client.get("/sparql", params={"query": "ASK { ?a a sc:Nothing }"}).json()[
            "boolean"
        ]
        one = client.get("/sparql", params={"query": query, "default-graph-uri": source})
        named = client.get(
            "/sparql",
            params={
                "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                "named-graph-uri": source,
            },
        )
    assert json_rows(one) == expected
    assert 0 < len(expected) < len(rows(store, query))
    assert json_rows(named) == [{"g": source}]


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("SELECT ?x WHERE { ?x ?y }", 400, "line 1"),
        ("INSERT DATA { <x:a> <x:b> <x:c> }", 403, "read-only"),
        ("LOAD <http://example.org/data.ttl>", 403, "read-only"),
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", 403, "SERVICE"),
    ],
)
def test_refusals_happen_before_the_store(backend: LiveServer, query, status, words) -> None:
    with backend.client() as client:
        response = client.post("/sparql", data={"query": query})
    assert response.status_code == status
    assert words in response.json()["error"]


def test_same_version_etag_and_304(backend: LiveServer, live_server: LiveServer) -> None:
    """Both backends serve the same build: the same ETag, and If-None-Match gives 304."""
    params = {"query": "SELECT ?a WHERE { ?a a sc:Attack }"}
    with backend.client() as client, live_server.client() as reference:
        first = client.get("/sparql", params=params)
        again = client.get(
            "/sparql", params=params, headers={"If-None-Match": first.headers["etag"]}
        )
        assert first.headers["etag"] == reference.get("/sparql", params=params).headers["etag"]
    assert again.status_code == 304


def test_dereferencing_matches_the_embedded_store(
    backend: LiveServer, live_server: LiveServer, store
) -> None:
    """Resources in Turtle and N-Quads, the HTML page, 404 and 406, as on the embedded store."""
    iris = [
        r["s"]
        for r in rows(
            store,
            f'SELECT DISTINCT ?s {{ ?s a ?t FILTER(STRSTARTS(STR(?s), "{BASE}id/") '
            '&& !CONTAINS(STR(?s), "#")) } ORDER BY ?s',
        )
    ]
    assert len(iris) > 20
    with backend.client() as client, live_server.client() as reference:
        for iri in iris[:: max(1, len(iris) // 8)]:
            path = "/" + iri[len(BASE) :]
            for extension, parse_as in (("ttl", "turtle"), ("nq", "nquads")):
                got = client.get(f"{path}.{extension}")
                expected = reference.get(f"{path}.{extension}")
                assert got.status_code == 200, (path, got.text)
                graphs = [
                    rdflib.Dataset().parse(data=r.content, format=parse_as) for r in (got, expected)
                ]
                assert set(graphs[0].quads()) == set(graphs[1].quads()), path
            page = client.get(path, headers={"Accept": "text/html"})
            assert page.status_code == 200
            assert "<html" in page.text
        assert client.get("/id/facility/no-such-place.ttl").status_code == 404
        assert client.get(path, headers={"Accept": "image/png"}).status_code == 406


def test_service_description_sizes_every_graph(backend: LiveServer, store) -> None:
    sizes = {r["g"]: r["n"] for r in rows(store, GRAPH_SIZES)}
    with backend.client() as client:
        response = client.get("/sparql", headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.content, format="nt")
    named = {
        str(name): str(graph.value(graph.value(node, SD_GRAPH), VOID_TRIPLES))
        for node, name in graph.subject_objects(SD["name"])
    }
    assert len(sizes) > 3
    assert {g: named.get(g) for g in sizes} == sizes


def test_void_lists_the_same_graphs(backend: LiveServer, live_server: LiveServer) -> None:
    with backend.client() as client, live_server.client() as reference:
        got = client.get("/void", headers={"Accept": "application/n-triples"})
        expected = reference.get("/void", headers={"Accept": "application/n-triples"})
    assert got.status_code == 200
    graph = rdflib.Graph().parse(data=got.content, format="nt")
    assert len(graph) > 10
    data_graphs = [
        line for line in expected.text.splitlines() if "graph/" in line and "void#triples" in line
    ]
    for line in data_graphs:
        assert line in got.text


# --- the server's limits hold in front of the remote ------------------------------------------


def limited_server(request: pytest.FixtureRequest, log: Path, limits: dict[str, str]) -> LiveServer:
    """A server of the backend ``request.param`` with ``limits``."""
    if request.param == "embedded":
        return start_server(request.getfixturevalue("built").root, log, limits)
    if request.param == "virtuoso":
        env = request.getfixturevalue("virtuoso")
        return start_server(request.getfixturevalue("virtuoso_build"), log, {**env, **limits})
    oxigraph = request.getfixturevalue("oxigraph")
    build_dir = request.getfixturevalue("remote_build")
    return start_server(build_dir, log, {**remote_env(oxigraph), **limits})


@pytest.fixture(params=BACKENDS)
def capped(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A server of each backend with a result cap of 3."""
    server = limited_server(request, tmp_path / "server.log", {"SANTECYBER_MAX_RESULTS": "3"})
    yield server
    stop_server(server)


@pytest.fixture(params=BACKENDS)
def timed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A server of each backend with a time limit of one second."""
    server = limited_server(request, tmp_path / "server.log", {"SANTECYBER_QUERY_TIMEOUT": "1"})
    yield server
    stop_server(server)


@pytest.mark.parametrize(
    ("query", "media_type"),
    [
        ("SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o", "text/csv"),
        ("SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o", "application/sparql-results+json"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples"),
    ],
)
def test_result_cap(capped: LiveServer, live_server: LiveServer, query, media_type) -> None:
    with capped.client() as client:
        response = client.post("/sparql", data={"query": query}, headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.headers["x-santecyber-truncated"] == "true"
    assert response.headers["x-santecyber-result-limit"] == "3"
    if media_type == "text/csv":
        assert len(response.text.strip().splitlines()) == 1 + 3
    elif media_type == "application/n-triples":
        assert len(response.text.strip().splitlines()) == 3
    else:
        assert len(response.json()["results"]["bindings"]) == 3
    if "ORDER BY" in query:  # the same first rows as the embedded store, byte for byte
        with live_server.client() as reference:
            whole = reference.post("/sparql", data={"query": query}, headers={"Accept": "text/csv"})
        if media_type == "text/csv":
            assert whole.text.splitlines()[:4] == response.text.splitlines()


def test_time_limit(timed: LiveServer) -> None:
    with timed.client() as client:
        response = client.post("/sparql", data={"query": HEAVY})
        after = client.post("/sparql", data={"query": "ASK {}"})
    assert response.status_code == 503
    assert response.json()["timeout_seconds"] == 1
    assert "time limit" in response.json()["error"]
    assert after.status_code == 200  # the worker was replaced


def test_a_query_the_store_fails_on_is_502_without_retry(
    virtuoso_server: LiveServer, store
) -> None:
    """Virtuoso cannot sort groups holding a long GROUP_CONCAT and answers 500: the same query
    would fail again, so 502 with its message and no Retry-After (503 invites a retry)."""
    query = """SELECT ?p (GROUP_CONCAT(STR(?o); separator=" ") AS ?all)
        WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?p"""
    longest = max(len(row["all"]) for row in rows(store, query))
    assert longest > 10_000  # the embedded store answers it
    with virtuoso_server.client() as client:
        response = client.post("/sparql", data={"query": query})
        after = client.post("/sparql", data={"query": "ASK { ?s ?p ?o }"})
    assert response.status_code == 502, response.text[:500]
    assert "retry-after" not in response.headers
    # the store's own words: SR319 (row length) or SR478 (column too long) on Virtuoso 7.2
    assert re.search(r"\(HTTP 500\): Virtuoso \w+ Error SR\d+", response.json()["error"])
    assert after.status_code == 200 and after.json()["boolean"] is True


# --- the remote store's life: new builds, outages, bad loads, credentials ---------------------


def test_new_build_outage_and_recovery(tmp_path: Path, data_copy: Path) -> None:
    remote = new_oxigraph(tmp_path / "oxigraph")
    server: LiveServer | None = None
    try:
        build_dir = tmp_path / "build"
        assert build_into(remote, build_dir, "--data", str(data_copy)).returncode == 0
        server = start_server(build_dir, tmp_path / "server.log", remote_env(remote))
        with server.client() as client:
            first = client.get("/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 1"})
            assert first.status_code == 200
            # a new build with one record fewer: served without a restart, under a new ETag
            incident = sorted((data_copy / "incidents").glob("*.yaml"))[0]
            incident.unlink()
            rebuilt = build_into(remote, build_dir, "--data", str(data_copy))
            assert rebuilt.returncode == 0, rebuilt.stderr
            version = rebuilt.stdout.split("built version ")[1].split()[0]
            assert eventually(
                lambda: version in client.get("/sparql", params={"query": "ASK {}"}).headers["etag"]
            )
            # the store goes down: 503 with a clear message, and no credentials anywhere
            remote.stop()
            down = client.post("/sparql", data={"query": "SELECT ?s { ?s ?p ?o } LIMIT 2"})
            assert down.status_code == 503
            assert down.headers["retry-after"]
            assert "unreachable" in down.json()["error"]
            assert remote.query_url in down.json()["error"]
            page = client.get("/id/attack/no-such-attack-yet", headers={"Accept": "text/html"})
            assert page.status_code == 503
            described = client.get("/sparql", headers={"Accept": "text/turtle"})
            assert described.status_code == 200  # the service description, never a 500
            # it comes back: the service recovers by itself
            remote.start()
            assert eventually(
                lambda: (
                    client.post(
                        "/sparql", data={"query": "SELECT ?s { ?s ?p ?o } LIMIT 2"}
                    ).status_code
                    == 200
                )
            )
        # the version watcher logs the recovery on its next read, maybe after that request
        assert eventually(lambda: "answers again" in (tmp_path / "server.log").read_text())
        stop_server(server)
        server = None
        log = (tmp_path / "server.log").read_text()
        assert "unreachable" in log
        assert SECRET not in log
    finally:
        if server is not None:
            stop_server(server)
        remote.stop()


def eventually(check, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_build_into_a_store_that_is_down_exits_2(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/query"
    done = santecyber("build", "--store", url, "--build-dir", str(tmp_path), "--skip-validation")
    assert done.returncode == 2
    assert f"the SPARQL store at {url} is unreachable" in done.stderr
    assert "Traceback" not in done.stderr
    serve = santecyber("serve", "--store", url, "--build-dir", str(tmp_path))
    assert serve.returncode == 2
    assert "unreachable" in serve.stderr


def test_count_mismatch_exits_1_and_keeps_the_old_version(tmp_path: Path) -> None:
    """Graphs written to one server and counted on another: every count differs."""
    counted = new_oxigraph(tmp_path / "counted")
    written = new_oxigraph(tmp_path / "written")
    try:
        done = santecyber(
            "build",
            "--store",
            counted.query_url,
            "--store-update",
            f"http://127.0.0.1:{written.port}/store",
            "--build-dir",
            str(tmp_path / "build"),
            "--skip-validation",
        )
        assert done.returncode == 1, done.stderr
        assert "graphs differ after loading" in done.stderr
        version = httpx.post(
            counted.query_url,
            data={"query": f"ASK {{ GRAPH <{BUILD_GRAPH}> {{ ?s ?p ?o }} }}"},
            headers={"Accept": "application/sparql-results+json"},
        ).json()["boolean"]
        assert version is False  # the version graph is written last, only after the checks
    finally:
        counted.stop()
        written.stop()


def test_credentials_are_sent_and_never_shown(tmp_path: Path) -> None:
    """A store that refuses the credentials: a clear exit 2, the password nowhere in it."""
    seen: list[str] = []

    class Refusing(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.headers.get("Authorization", ""))
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="test"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{http.server_address[1]}/query"
    try:
        env = {"SANTECYBER_STORE_USER": USER, "SANTECYBER_STORE_PASSWORD": SECRET}
        done = santecyber("serve", "--store", url, "--build-dir", str(tmp_path), env=env)
        in_url = santecyber(
            "serve",
            "--store",
            url.replace("//", f"//{USER}:{SECRET}@"),
            "--build-dir",
            str(tmp_path),
        )
    finally:
        http.shutdown()
    assert done.returncode == 2
    assert "refused access (HTTP 401)" in done.stderr
    assert "SANTECYBER_STORE_PASSWORD" in done.stderr
    assert f"Basic {base64.b64encode(f'{USER}:{SECRET}'.encode()).decode()}" in seen
    for run in (done, in_url):
        assert SECRET not in run.stdout + run.stderr
    assert in_url.returncode == 2


def test_oxigraph_union_default_graph_repeats_statements(tmp_path: Path) -> None:
    """Why the build loads a merged default graph: `--union-default-graph` counts a statement
    once per graph stating it (docs/remote-store.md)."""
    remote = new_oxigraph(tmp_path / "union", "--union-default-graph")
    try:
        quads = "".join(f"<x:s> <x:p> <x:o> <x:g{i}> .\n" for i in range(2))
        store = f"http://127.0.0.1:{remote.port}/store"
        put = httpx.post(store, content=quads, headers={"Content-Type": "application/n-quads"})
        assert put.status_code in (200, 201, 204)
        counted = httpx.post(
            remote.query_url,
            data={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"},
            headers={"Accept": "application/sparql-results+json"},
        ).json()
    finally:
        remote.stop()
    assert counted["results"]["bindings"][0]["n"]["value"] == "2"


# --- dataset mode: a merge graph per version, hidden from GRAPH ?g ----------------------------


def many_graphs(graphs: int, left_out: int) -> bytes:
    """``graphs`` graphs but one (``left_out``), each stating one statement of its own and one
    that every graph states: the merge has one statement per graph, plus one."""
    lines = []
    for i in range(graphs):
        if i != left_out:
            graph = f"<urn:x-test:g{i}>"
            lines.append(f'<urn:x-test:shared> <urn:x-test:p> "in every graph" {graph} .\n')
            lines.append(f'<urn:x-test:s{i}> <urn:x-test:p> "{i}" {graph} .\n')
    return "".join(sorted(lines)).encode()


def served_rows(store: RemoteStore, query: str, version: str) -> list[dict[str, str]]:
    """``query`` as the server sends it while ``version`` is in service."""
    with store.results(query, version=version) as result:
        if result.form == "boolean":
            return [{"ask": str(bool(result.value))}]
        names = [v.value for v in result.value.variables]  # type: ignore[union-attr]
        return [{n: row[n].value for n in names if row[n] is not None} for row in result.value]


@pytest.mark.parametrize("engine", ["oxigraph", "virtuoso"])
def test_dataset_mode_with_thousands_of_graphs(tmp_path: Path, engine: str) -> None:
    """Three builds in dataset mode (SANTECYBER_STORE_DEFAULT_GRAPH), the last of 2,500 graphs
    (Virtuoso hung up on that many ``named-graph-uri``), each merge written in parts: GRAPH ?g
    sees the sources of the build in service and nothing else (no merge graph, no version
    graph, no server graph), the default graph is the merge counted once, and the merge of the
    previous build stays for queries still on it."""
    graphs, merge = 2500, "urn:x-test:merge"
    if engine == "virtuoso":
        env = start_virtuoso(tmp_path / "virtuoso")
        settings = StoreSettings(
            env["SANTECYBER_STORE"],
            update_url=env["SANTECYBER_STORE_UPDATE"],
            user=env["SANTECYBER_STORE_USER"],
            password=env["SANTECYBER_STORE_PASSWORD"],
            auth=env["SANTECYBER_STORE_AUTH"],
            default_graph=merge,
        )
        stop = functools.partial(stop_virtuoso, tmp_path / "virtuoso")
    else:
        oxigraph = new_oxigraph(tmp_path / "oxigraph")
        settings = StoreSettings(oxigraph.query_url, default_graph=merge)
        stop = oxigraph.stop
    store = RemoteStore(settings, timeout=300)
    try:
        versions = [f"v{n}" for n in range(3)]
        for left_out, version in enumerate(versions):  # thousands of graphs in service
            size = graphs if version == "v2" else 50
            load_build(store, many_graphs(size, left_out), version, part=1000)
        on_store = {g for g in store.graph_counts()[0] if store.is_merge_graph(g)}
        # the merge of v0 is gone, that of v1 stays for queries that started on it
        assert on_store == {store.merge_graph("v1"), store.merge_graph("v2")}
        sizes = served_rows(store, GRAPH_SIZES, "v2")
        assert {r["g"]: r["n"] for r in sizes} == {
            f"urn:x-test:g{i}": "2" for i in range(graphs) if i != 2
        }
        count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
        assert served_rows(store, count, "v2") == [{"n": str(graphs)}]  # (graphs - 1) + 1
        # GRAPH inside OPTIONAL is filtered too: at v2 only the merge of v1 states s2
        optional = "SELECT ?g WHERE { OPTIONAL { GRAPH ?g { <urn:x-test:s2> ?p ?o } } }"
        assert served_rows(store, optional, "v2") == [{}]
        assert served_rows(store, "ASK { <urn:x-test:s2> ?p ?o }", "v2") == [{"ask": "False"}]
        # the default graph of the previous build still answers queries planned on it
        stated = "ASK { <urn:x-test:s1> ?p ?o }"
        assert served_rows(store, stated, "v1") == [{"ask": "False"}]
        assert served_rows(store, stated, "v2") == [{"ask": "True"}]
    finally:
        store.close()
        stop()


@pytest.mark.parametrize("kind", ["embedded", "remote"])
def test_a_full_temporary_disk_is_503_and_the_server_goes_on(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
):
    """A streamed answer is spooled to TMPDIR (on disk past 1 MiB); with that disk full the
    client gets 503 with Retry-After and the reason (the server's fault, not the query's),
    and the next query is answered."""
    spool = tmp_path / "tiny-tmp"
    why = mount_tmpfs(spool, 256 << 10)
    if why is not None:
        pytest.skip(why)
    if kind == "embedded":
        root, env = request.getfixturevalue("built").root, {}
    else:
        root = request.getfixturevalue("remote_build")
        env = remote_env(request.getfixturevalue("oxigraph"))
    env |= {"TMPDIR": str(spool), "SANTECYBER_QUERY_WORKERS": "1"}
    server = start_server(root, tmp_path / "server.log", env)
    every_row_per_attack = "SELECT ?s ?p ?o ?a WHERE { ?s ?p ?o . ?a a sc:Attack }"
    try:
        with server.client() as client:
            full = client.get("/sparql", params={"query": every_row_per_attack, "format": "csv"})
            after = client.get("/sparql", params={"query": "ASK { ?a a sc:Attack }"})
        assert full.status_code == 503, full.text
        assert "No space left on device" in full.text
        assert full.headers["retry-after"]
        assert after.status_code == 200 and after.json()["boolean"] is True
        assert used_bytes(spool) < 64 << 10  # the spooled file went with the error
    finally:
        stop_server(server)
        subprocess.run(["umount", "-l", str(spool)], check=False)
