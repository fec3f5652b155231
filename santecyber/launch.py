"""`santecyber serve` in a subprocess on a free loopback port, for the tests (tests/conftest.py)
and the load test (bench/load_test.py): one launcher, so both measure the same server.

It lives in the package because tests/ and bench/ are not importable from each other.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

READY_SECONDS = 60


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
    """Serve ``build_dir``; returns once /sparql answers, RuntimeError (with the log) if not."""
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
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            httpx.get(url + "/sparql", params={"query": "ASK {}"}, timeout=2)
            return LiveServer(url, process, log)
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not answer within {READY_SECONDS} s: {log.read_text()}")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
