"""`santecyber serve --processes N`: N server processes share the port and the query workers.

Lookups are answered by the server process itself (docs/endpoint.md, "Where a query runs"),
so on a machine with several cores one process is the bottleneck; several processes take
connections from the same socket, each with its share of the workers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from conftest import (
    LiveServer,
    child_processes,
    command_line,
    query_workers,
    run_cli,
    start_server,
    stop_server,
)

from santecyber.sparql import run_query
from santecyber.store import BuildDirectory

ID = "https://w3id.org/santecyber/id/"
TSV = "text/tab-separated-values"


@pytest.fixture(scope="module")
def two_processes(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"SANTECYBER_PROCESSES": "2", "SANTECYBER_QUERY_WORKERS": "2"}
    server = start_server(built.root, tmp_path_factory.mktemp("two") / "server.log", env)
    yield server
    stop_server(server)


def server_processes(server: LiveServer) -> list[int]:
    """The processes uvicorn started to serve (its own process only supervises them)."""
    pids = child_processes(server.process.pid)
    return [pid for pid in pids if "multiprocessing.spawn" in command_line(pid)]


def settled(server: LiveServer, replaced: Sequence[int] = ()) -> list[int]:
    """The 2 server processes once both run their query workers (a process answers once its
    workers are up), none of them among ``replaced`` and those all gone (uvicorn starts the
    last new process before it ends the last old one, which may still take a connection and
    reset it as it stops); waits up to 60 s for that."""
    deadline = time.monotonic() + 60
    while True:
        running = server_processes(server)
        processes = [pid for pid in running if pid not in replaced]
        gone = not set(replaced) & set(running)
        if gone and len(processes) == 2 and all(query_workers(pid) for pid in processes):
            return processes
        assert time.monotonic() < deadline, (processes, replaced)
        time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_each_process_serves_with_its_share_of_the_workers(two_processes, built):
    processes = settled(two_processes)
    assert [len(query_workers(pid)) for pid in processes] == [1, 1]
    store, _ = built.open_current()
    attack = ID + "attack/2024-10-hospi-grand-ouest"
    lookup = f"SELECT ?p ?o WHERE {{ <{attack}> ?p ?o }}"
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ <{attack}> ?p ?o . ?o ?q ?r }}"

    def tsv_rows(query: str) -> list[str]:
        return sorted(
            run_query(store, query).serialize_limited(TSV, 100)[0].decode().split("\n")[1:-1]
        )

    expected = {query: tsv_rows(query) for query in (lookup, count)}
    before = {pid: cpu_seconds(pid) for pid in processes}
    for number in range(150):  # a new connection each: the processes take turns to accept
        query = (lookup, count)[number % 2]
        response = httpx.post(
            two_processes.url + "/sparql",
            data={"query": f"{query} # {number}", "format": "tsv"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        assert sorted(response.text.split("\n")[1:-1]) == expected[query]
    used = [cpu_seconds(pid) - before[pid] for pid in processes]
    assert min(used) >= 0.02, used  # both served: each spent CPU on its share


@pytest.mark.parametrize("variable", ["SANTECYBER_PROCESSES", "SANTECYBER_QUERY_WORKERS"])
def test_a_bad_setting_is_told_before_any_process_starts(built, variable):
    wide = {variable: "two", "COLUMNS": "300"}  # typer's box would wrap the name
    result = run_cli("serve", "--build-dir", built.root, "--port", "1", env=wide)
    assert result.returncode != 0
    assert variable in result.stderr and "integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_process_follows_a_new_build_and_sighup_restarts_them(built, tmp_path):
    """A build published while 2 processes serve is seen by both at their next request;
    SIGHUP to the first process makes uvicorn restart the others, on the same build."""
    directory = BuildDirectory(tmp_path / "build")
    data = built.dump.read_bytes()
    directory.write_store("first", data)
    directory.publish("first", data)
    server = start_server(directory.root, tmp_path / "server.log", {"SANTECYBER_PROCESSES": "2"})
    marker = "ASK { <https://e.org/marker> ?p ?o }"

    def answers() -> set[bool]:  # from both processes: a new connection for each request
        return {
            httpx.get(
                server.url + "/sparql", params={"query": f"{marker} # {n}", "format": "json"}
            ).json()["boolean"]
            for n in range(40)
        }

    try:
        assert answers() == {False}
        second = data + b'<https://e.org/marker> <https://e.org/p> "2" <https://e.org/g> .\n'
        directory.write_store("second", second)
        directory.publish("second", second)
        assert answers() == {True}
        before = settled(server)
        os.kill(server.process.pid, signal.SIGHUP)
        settled(server, replaced=before)  # restarted one after the other
        assert answers() == {True}
    finally:
        stop_server(server)


def test_the_processes_end_with_the_first_one_even_when_it_is_killed(built, tmp_path):
    """SIGKILL (or the OOM killer) gives uvicorn's first process no chance to stop the
    others: they end by themselves, and their workers with them, freeing the port."""
    server = start_server(built.root, tmp_path / "server.log", {"SANTECYBER_PROCESSES": "2"})
    try:
        processes = settled(server)
        workers = [worker for pid in processes for worker in query_workers(pid)]
        server.process.kill()
        server.process.wait(10)
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() for pid in processes + workers):
            assert time.monotonic() < deadline, "server processes outlived the first one"
            time.sleep(0.2)
        with pytest.raises(httpx.TransportError):
            httpx.get(server.url + "/sparql", params={"query": "ASK {}"}, timeout=5)
    finally:
        stop_server(server)


ORPHAN = """
import multiprocessing, os, sys, time
from pathlib import Path


def child(marker: str, wait: float) -> None:
    time.sleep(wait)  # the parent may be gone by now, before the child asks to follow it
    from santecyber.server.app import end_with_parent

    end_with_parent()
    Path(marker).write_text("still running")


if __name__ == "__main__":
    marker, leave = sys.argv[1], sys.argv[2] == "leave"
    process = multiprocessing.get_context("spawn").Process(target=child, args=(marker, 1.0))
    process.start()
    print(process.pid, flush=True)
    if leave:
        os._exit(0)  # gone before the child's request, with no chance to stop it
    process.join()
"""


@pytest.mark.parametrize("parent", ["leave", "stay"])
def test_a_process_whose_parent_died_before_it_started_ends(tmp_path, parent):
    """uvicorn's first process killed while the others import the app: they end at once."""
    script, marker = tmp_path / "orphan.py", tmp_path / "marker"
    script.write_text(ORPHAN)
    done = subprocess.run(
        [sys.executable, str(script), str(marker), parent], capture_output=True, text=True
    )
    child = int(done.stdout.split()[0])
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{child}").exists()
    assert marker.exists() == (parent == "stay")
