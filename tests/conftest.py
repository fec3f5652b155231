"""Shared fixtures: a real build of the project's records, and the real app under uvicorn."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from santecyber.build import build
from santecyber.launch import LiveServer, free_port, start_server, stop_server
from santecyber.paths import ROOT
from santecyber.store import BuildDirectory

ARTIFACTS = ROOT / "tests" / "artifacts"
#: the RDF documents' extensions: their media type, and rdflib's name of the format
FORMATS = {
    "ttl": ("text/turtle", "turtle"),
    "nt": ("application/n-triples", "nt"),
    "jsonld": ("application/ld+json", "json-ld"),
    "rdf": ("application/rdf+xml", "xml"),
    "trig": ("application/trig", "trig"),
    "nq": ("application/n-quads", "nquads"),
}
# the launcher lives in the package (bench/load_test.py uses it too); tests import it from here
__all__ = [
    "FORMATS",
    "LiveServer",
    "free_port",
    "mount_tmpfs",
    "query_workers",
    "run_cli",
    "start_server",
    "stop_server",
    "used_bytes",
]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildDirectory:
    """A build of the real records, validated, in a folder of its own."""
    directory = BuildDirectory(tmp_path_factory.mktemp("build"))
    build(target=directory)
    return directory


def run_cli(
    *args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`santecyber ARGS…` as a user runs it: a subprocess, its exit code and output."""
    return subprocess.run(
        [sys.executable, "-m", "santecyber.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def live_server(
    built: BuildDirectory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The real app under uvicorn on 127.0.0.1, serving the real build."""
    server = start_server(built.root, tmp_path_factory.mktemp("logs") / "server.log")
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def store(built: BuildDirectory) -> ox.Store:
    """The built store, read-only, as the server opens it (files may use their own copy)."""
    return built.open_current()[0]


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with live_server.client() as client:
        yield client


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests leave files for people to look at (screenshots)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    """A private copy of data/ that a test may break."""
    target = tmp_path / "data"
    shutil.copytree(ROOT / "data", target)
    return target


def mount_tmpfs(target: Path, size: int) -> str | None:
    """Mount a tmpfs of ``size`` bytes at ``target``; None on success, else why it could not."""
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return "mounting a size-limited file system needs root (tmpfs or a loop device)"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(target)],
        capture_output=True,
        text=True,
    )
    if done.returncode == 0:
        return None
    return f"mount -t tmpfs failed: {done.stderr.strip()}"


def used_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


def child_processes(pid: int) -> list[int]:
    """Children of process ``pid``, of every thread (threads start the query workers)."""
    tasks = Path(f"/proc/{pid}/task").glob("*/children")
    return [int(child) for task in tasks for child in task.read_text().split()]


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")


def query_workers(server: LiveServer | int) -> list[int]:
    """The worker processes of a server (or of the server process ``pid``): children of its
    forkserver, its own child."""
    pid = server if isinstance(server, int) else server.process.pid
    forkservers = [p for p in child_processes(pid) if "forkserver" in command_line(p)]
    return [worker for forkserver in forkservers for worker in child_processes(forkserver)]
