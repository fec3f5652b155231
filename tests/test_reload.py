"""Live reloads: a running server switches to a new build and loses nothing on the way.

The real server (uvicorn, worker processes) serves a private build of a copy of the records;
the copy is changed and rebuilt while a slow query is in flight and clients hammer the server.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, run_cli, start_server, stop_server

from santecyber.build import build, compile_graph
from santecyber.dumps import stage_dumps
from santecyber.paths import ROOT
from santecyber.store import BuildDirectory

TOKEN = "test-admin-token-not-secret"
ATTACK = "https://w3id.org/santecyber/id/attack/2021-02-ch-dax"
OLD_LABEL = "Cyberattack on Dax Hospital (February 2021)"
LABEL_QUERY = (
    f"SELECT ?label WHERE {{ <{ATTACK}> <http://www.w3.org/2000/01/rdf-schema#label> ?label "
    'FILTER(lang(?label) = "en") }'
)
#: several seconds of work on the records, answering with the label of the data it ran on
SLOW_QUERY = (
    "SELECT ?label (COUNT(*) AS ?n) WHERE { "
    f"<{ATTACK}> <http://www.w3.org/2000/01/rdf-schema#label> ?label "
    'FILTER(lang(?label) = "en") ?a ?b ?c . ?d ?e ?f . VALUES ?k { 1 2 3 } } GROUP BY ?label'
)
JSON = {"Accept": "application/sparql-results+json"}


@dataclass
class Site:
    data: Path
    directory: BuildDirectory
    server: LiveServer
    labels: list[str] = field(default_factory=list)


def relabel(data: Path, label: str) -> None:
    """Change the English label of the Dax attack in the copy of the records."""
    path = data / "incidents" / "2021-02-ch-dax.yaml"
    text = path.read_text(encoding="utf-8")
    current = text.split("  en: ", 1)[1].split("\n", 1)[0]
    path.write_text(text.replace(f"  en: {current}\n", f"  en: {label}\n", 1), encoding="utf-8")


def label_of(response: httpx.Response) -> str:
    bindings = response.json()["results"]["bindings"]
    return bindings[0]["label"]["value"]


def admin(server: LiveServer, token: str = TOKEN) -> httpx.Response:
    return httpx.post(
        server.url + "/admin/reload", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("reload")
    data = root / "data"
    shutil.copytree(ROOT / "data", data)
    directory = BuildDirectory(root / "build")
    build(data, directory, validate=False)  # the real records are validated elsewhere
    env = {"SANTECYBER_ADMIN_TOKEN": TOKEN, "SANTECYBER_QUERY_TIMEOUT": "120"}
    server = start_server(directory.root, root / "server.log", env)
    yield Site(data, directory, server)
    stop_server(server)


def publish_new_version(site: Site, label: str) -> str:
    """Rebuild the changed copy: the slow part first, then the switch of CURRENT."""
    relabel(site.data, label)
    compiled = compile_graph(site.data)
    site.directory.write_store(compiled.version, compiled.nquads)
    staged = stage_dumps(site.directory, compiled.nquads, compiled.redirects, compiled.version)
    site.directory.publish(compiled.version, compiled.nquads, [staged])
    return compiled.version


class Hammer:
    """Clients sending a bounded number of mixed requests until told to stop."""

    REQUESTS = (
        ("get", "/sparql", {"query": LABEL_QUERY}, JSON),
        ("post", "/sparql", {"query": "ASK { ?s ?p ?o }"}, JSON),
        ("get", "/id/attack/2021-02-ch-dax.ttl", None, {}),
        ("get", "/id/attack/2021-02-ch-dax", None, {"Accept": "text/html"}),
        ("get", "/void", None, {"Accept": "text/turtle"}),
        ("get", "/dumps/index.json", None, {}),
    )

    def __init__(self, url: str, clients: int = 12, limit: int = 1500) -> None:
        self.url = url
        self.clients = clients
        self.limit = limit
        self.stop = threading.Event()
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []
        #: (started after the reload answered?, label) for every label query
        self.labels: list[tuple[bool, str]] = []
        self.reloaded = threading.Event()
        self._sent = 0
        self._lock = threading.Lock()

    def _client(self, number: int) -> None:
        with httpx.Client(base_url=self.url, timeout=120) as client:
            turn = number
            while not self.stop.is_set():
                with self._lock:
                    if self._sent >= self.limit:
                        return
                    self._sent += 1
                method, path, params, headers = self.REQUESTS[turn % len(self.REQUESTS)]
                turn += 1
                after = self.reloaded.is_set()
                try:
                    if method == "post":
                        response = client.post(path, data=params, headers=headers)
                    else:
                        response = client.get(path, params=params, headers=headers)
                except httpx.HTTPError as error:
                    self.failures.append(f"{path}: {error!r}")
                    continue
                with self._lock:
                    self.statuses[response.status_code] += 1
                if not 200 <= response.status_code < 300:
                    self.failures.append(f"{path}: {response.status_code} {response.text[:200]}")
                elif params and params.get("query") == LABEL_QUERY:
                    self.labels.append((after, label_of(response)))

    def __enter__(self) -> Hammer:
        self._pool = ThreadPoolExecutor(self.clients)
        self._futures = [self._pool.submit(self._client, n) for n in range(self.clients)]
        return self

    def sent(self) -> int:
        with self._lock:
            return self._sent

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for future in self._futures:
            future.result()
        self._pool.shutdown()


def wait_for(condition: object, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_reload_switches_with_no_failed_request(site: Site):
    server = site.server
    with server.client() as client:
        before = client.get("/sparql", params={"query": LABEL_QUERY}, headers=JSON)
        page_before = client.get("/id/attack/2021-02-ch-dax.ttl")
    assert before.status_code == 200 and label_of(before) == OLD_LABEL
    old_version = site.directory.current_version()

    slow: dict[str, httpx.Response] = {}

    def run_slow() -> None:
        with httpx.Client(base_url=server.url, timeout=180) as client:
            slow["response"] = client.get("/sparql", params={"query": SLOW_QUERY}, headers=JSON)

    slow_thread = threading.Thread(target=run_slow)
    slow_thread.start()
    # a reload with nothing new changes nothing and says how many queries are in flight
    wait_for(lambda: admin(server).json()["in_flight"] >= 1, "the slow query to be in flight")
    assert admin(server).json()["version"] == old_version

    new_label = "Cyberattack on Dax Hospital (February 2021), reloaded"
    with Hammer(server.url) as hammer:
        wait_for(lambda: hammer.sent() >= 100, "requests before the reload")
        new_version = publish_new_version(site, new_label)
        outcome = admin(server)
        hammer.reloaded.set()
        sent_at_reload = hammer.sent()
        wait_for(
            lambda: hammer.sent() >= min(hammer.limit, sent_at_reload + 300),
            "requests after the reload",
        )
    slow_thread.join(180)

    assert outcome.status_code == 200, outcome.text
    # the service follows CURRENT on every request: the hammer's next request may have
    # switched it before the reload came, so "previous" is either version
    assert outcome.json()["version"] == new_version
    assert outcome.json()["previous"] in (old_version, new_version)
    assert outcome.json()["in_flight"] >= 1  # the slow query at least
    # no request failed during the switch
    assert hammer.failures == []
    assert sum(hammer.statuses.values()) == hammer.sent()
    assert set(hammer.statuses) <= {200}
    # the query in flight finished on the data it started on
    assert slow["response"].status_code == 200, slow["response"].text
    assert label_of(slow["response"]) == OLD_LABEL
    # requests sent after the reload see the new data; before it, one or the other
    assert {label for after, label in hammer.labels if after} == {new_label}
    assert {label for _, label in hammer.labels} <= {OLD_LABEL, new_label}
    with server.client() as client:
        after = client.get("/sparql", params={"query": LABEL_QUERY}, headers=JSON)
        page_after = client.get("/id/attack/2021-02-ch-dax.ttl")
        stale = client.get(
            "/sparql",
            params={"query": LABEL_QUERY},
            headers={**JSON, "If-None-Match": before.headers["etag"]},
        )
    assert label_of(after) == new_label
    assert after.headers["etag"] != before.headers["etag"]
    assert page_after.headers["etag"] != page_before.headers["etag"]
    assert new_label in page_after.text and new_label not in page_before.text
    assert stale.status_code == 200  # the old ETag no longer matches


def test_admin_route_needs_the_token(site: Site):
    missing = httpx.post(site.server.url + "/admin/reload", timeout=30)
    wrong = admin(site.server, "not-the-token")
    assert missing.status_code == 401 and wrong.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert admin(site.server).status_code == 200


def test_admin_route_is_off_without_a_token(built: BuildDirectory, tmp_path: Path):
    server = start_server(built.root, tmp_path / "server.log", {"SANTECYBER_ADMIN_TOKEN": ""})
    try:
        refused = admin(server, "anything")
        with server.client() as client:
            schema = client.get("/openapi.json").json()
    finally:
        stop_server(server)
    assert refused.status_code == 404
    assert "/admin/reload" not in schema["paths"]


def cli(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*arguments, env=env, timeout=300)


def test_reload_command_builds_then_switches(site: Site):
    label = "Cyberattack on Dax Hospital (February 2021), by the command"
    relabel(site.data, label)
    arguments = ["reload", "--build", "--data", str(site.data)]
    arguments += ["--build-dir", str(site.directory.root), "--url", site.server.url]
    done = cli(*arguments, env={"SANTECYBER_ADMIN_TOKEN": TOKEN})
    assert done.returncode == 0, done.stderr
    version = site.directory.current_version()
    assert f"serves {version}" in done.stdout and "→" in done.stdout
    with site.server.client() as client:
        answer = client.get("/sparql", params={"query": LABEL_QUERY}, headers=JSON)
    assert label_of(answer) == label


def test_reload_command_with_a_failed_build_changes_nothing(site: Site):
    version = site.directory.current_version()
    path = site.data / "incidents" / "2021-02-ch-dax.yaml"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace("targets: [ch-dax]", "targets: [ch-dax"), encoding="utf-8")
    try:
        arguments = ["reload", "--build", "--data", str(site.data)]
        arguments += ["--build-dir", str(site.directory.root), "--url", site.server.url]
        done = cli(*arguments, env={"SANTECYBER_ADMIN_TOKEN": TOKEN})
    finally:
        path.write_text(original, encoding="utf-8")
    assert done.returncode == 2
    assert "2021-02-ch-dax.yaml:" in done.stderr and "Traceback" not in done.stderr
    assert site.directory.current_version() == version
    assert admin(site.server).json() == {
        "previous": version,
        "version": version,
        "changed": False,
        "in_flight": 0,
    }


def test_reload_command_refusals_are_clear(site: Site):
    wrong = cli("reload", "--url", site.server.url, env={"SANTECYBER_ADMIN_TOKEN": "wrong"})
    unset = cli("reload", "--url", site.server.url, env={"SANTECYBER_ADMIN_TOKEN": ""})
    nobody = cli("reload", "--pid", "999999999")
    token = {"SANTECYBER_ADMIN_TOKEN": "any"}
    closed = cli("reload", "--url", "http://127.0.0.1:9", env=token)
    garbled = cli("reload", "--url", "not a url", env=token)
    for done in (wrong, unset, nobody, closed, garbled):
        assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot reach http://127.0.0.1:9" in closed.stderr
    assert "cannot reach not a url" in garbled.stderr
    assert "401" in wrong.stderr
    assert "SANTECYBER_ADMIN_TOKEN" in unset.stderr
    assert "999999999" in nobody.stderr


def test_pid_must_be_a_running_server(site: Site):
    """SIGHUP ends most processes, and -1 or 0 would reach every process or our own group."""
    bystander = subprocess.Popen(["sleep", "600"])
    try:
        # first: a command that signals this one would also signal -1 and 0, so stop here
        done = cli("reload", "--pid", str(bystander.pid))
        assert bystander.poll() is None, "reload --pid killed a process that is not a server"
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert f"--pid {bystander.pid}" in done.stderr and "santecyber serve" in done.stderr
        for pid in ("-1", "0", "1", "99999999999"):
            done = cli("reload", "--pid", pid)
            assert done.returncode == 2 and "Traceback" not in done.stderr, (pid, done.stderr)
            assert f"--pid {pid}" in done.stderr
        assert bystander.poll() is None and site.server.process.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
    # the process is gone: as for any other input error
    done = cli("reload", "--pid", str(bystander.pid))
    assert done.returncode == 2 and f"--pid {bystander.pid}" in done.stderr


def test_sighup_reloads_and_the_server_keeps_serving(site: Site):
    label = "Cyberattack on Dax Hospital (February 2021), after SIGHUP"
    version = publish_new_version(site, label)
    done = cli("reload", "--pid", str(site.server.process.pid))
    assert done.returncode == 0, done.stderr
    # the server switched on the signal itself, before any request asked
    wait_for(lambda: f"→ {version}" in site.server.log.read_text(errors="replace"), "the log")
    os.kill(site.server.process.pid, signal.SIGHUP)  # again: the handler stays installed
    with site.server.client() as client:
        answer = client.get("/sparql", params={"query": LABEL_QUERY}, headers=JSON)
    assert site.server.process.poll() is None
    assert label_of(answer) == label


def test_a_damaged_build_leaves_the_served_one_in_place(built, tmp_path: Path):
    """CURRENT naming a store that cannot be opened: every request is still answered from
    the store in service, a reload says why it did not switch (409), and the next good
    build is served."""
    directory = BuildDirectory(tmp_path / "build")
    data = built.dump.read_bytes()
    directory.write_store("good", data)
    directory.publish("good", data)
    env = {"SANTECYBER_ADMIN_TOKEN": TOKEN}
    server = start_server(directory.root, tmp_path / "server.log", env)
    marker = "ASK { <https://e.org/marker> ?p ?o }"
    joined = f"ASK {{ <{ATTACK}> ?p ?o . ?o ?q ?r }}"  # two patterns: a worker answers

    def asks(query: str) -> list[bool]:
        answers = [
            httpx.get(server.url + "/sparql", params={"query": f"{query} # {n}"}, headers=JSON)
            for n in range(2)
        ]
        assert [a.status_code for a in answers] == [200, 200], answers[0].text
        return [a.json()["boolean"] for a in answers]

    try:
        damaged = directory.stores / "damaged"
        damaged.mkdir()
        (damaged / "CURRENT").write_text("MANIFEST-000009\n")  # names a file not there
        directory.pointer.write_text("damaged\n")
        assert asks(joined) == [True, True] and asks(marker) == [False, False]
        page = httpx.get(server.url + "/id/attack/2021-02-ch-dax", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "Dax" in page.text
        refused = admin(server)
        assert refused.status_code == 409, refused.text
        assert "good stays served" in refused.json()["error"]
        assert "MANIFEST-000009" in refused.json()["error"]
        fixed = data + b'<https://e.org/marker> <https://e.org/p> "1" <https://e.org/g> .\n'
        directory.write_store("fixed", fixed)
        directory.publish("fixed", fixed)
        assert asks(marker) == [True, True] and asks(joined) == [True, True]
        assert admin(server).json()["version"] == "fixed"
    finally:
        stop_server(server)
