"""Shared fixtures: a real build of the project's records, and the real app under uvicorn."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from santecyber.build import build
from santecyber.paths import ROOT
from santecyber.store import BuildDirectory

ARTIFACTS = ROOT / "tests" / "artifacts"


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen
    log: Path

    def client(self, **options: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **options)


def start_server(build_dir: Path, log: Path, env: dict[str, str] | None = None) -> LiveServer:
    """`santecyber serve` in a subprocess on a free loopback port; returns once it answers."""
    port = free_port()
    with log.open("wb") as stream:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "santecyber.cli",
                "serve",
                "--port",
                str(port),
                "--build-dir",
                str(build_dir),
            ],
            stdout=stream,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            httpx.get(url + "/sparql", params={"query": "ASK {}"}, timeout=2)
            return LiveServer(url, process, log)
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not answer within 60 s: {log.read_text()}")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def live_server(
    built: BuildDirectory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The real app under uvicorn on 127.0.0.1, serving the real build."""
    server = start_server(built.root, tmp_path_factory.mktemp("logs") / "server.log")
    yield server
    stop_server(server)


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
