"""Debian's chromium, headless, for tests that look at pages: the one place that runs it
(rendered DOM, screenshots, console output, and a DevTools session for keyboard and clicks).

``ensure_chromium()`` installs it with apt-get when /usr/bin/chromium is missing (as root) and
returns its path, or None with the reason in ``missing_reason()``; ``require_chromium()`` skips
the calling test with that reason.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]
#: lets the page's scripts run (and their fetches come back) before the DOM or a screenshot
SETTLE = "--virtual-time-budget=5000"
_reason = ""


def ensure_chromium() -> Path | None:
    """The chromium binary, installed from Debian's packages if needed; None if impossible."""
    global _reason
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        _reason = "chromium is missing and apt-get cannot run here (not root or not Debian)"
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            _reason = f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}"
            return None
    if not CHROMIUM.exists():
        _reason = "apt-get installed chromium but /usr/bin/chromium is not there"
        return None
    return CHROMIUM


def missing_reason() -> str:
    return _reason or "chromium is not available"


def require_chromium() -> Path:
    """The chromium binary, or skip the calling test saying why there is none."""
    binary = ensure_chromium()
    if binary is None:
        pytest.skip(missing_reason())
    return binary


def run(url: str, *options: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Headless chromium on ``url`` with a fresh profile; fails the test if chromium fails."""
    binary = require_chromium()
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        command = [str(binary), *FLAGS, f"--user-data-dir={profile}", *options, url]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def screenshot(url: str, path: Path, width: int = 1280, height: int = 1600) -> Path:
    """Save a PNG of ``url`` as rendered by chromium at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    done = run(url, SETTLE, f"--window-size={width},{height}", f"--screenshot={path}")
    assert path.exists(), f"chromium wrote no screenshot: {done.stderr[-1000:]}"
    assert path.stat().st_size > 10_000, "a blank screenshot (a rendered page weighs more)"
    return path


def dump_dom(url: str) -> str:
    """The DOM of ``url`` after chromium rendered it (and its scripts ran), as HTML."""
    done = run(url, SETTLE, "--dump-dom")
    assert done.stdout.strip(), f"chromium --dump-dom printed nothing: {done.stderr[-1000:]}"
    return done.stdout


class DevTools:
    """Headless chromium driven over ``--remote-debugging-pipe`` (DevTools protocol on fds 3/4),
    for what a user does with the keyboard and the picker."""

    def __init__(self) -> None:
        binary = require_chromium()
        self.profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        commands_read, self.commands = os.pipe()
        self.events, events_write = os.pipe()

        def wire() -> None:  # in the child: commands on fd 3, answers on fd 4
            read, write = (
                fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (commands_read, events_write)
            )
            os.dup2(read, 3)
            os.dup2(write, 4)

        self.process = subprocess.Popen(
            [
                str(binary),
                *FLAGS,
                f"--user-data-dir={self.profile.name}",
                "--remote-debugging-pipe",
                "--window-size=1280,1000",
                "about:blank",
            ],
            pass_fds=(3, 4),
            preexec_fn=wire,
            start_new_session=True,  # its helper processes go with it at close
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands_read)
        os.close(events_write)
        self.buffer = b""
        self.next_id = 0
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]

    def send(self, method: str, session: str | None = None, **params: object) -> dict:
        self.next_id += 1
        message: dict[str, object] = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            while b"\0" not in self.buffer:
                ready, _, _ = select.select([self.events], [], [], 1)
                if ready:
                    chunk = os.read(self.events, 1 << 16)
                    assert chunk, "chromium closed its DevTools pipe"
                    self.buffer += chunk
                elif time.monotonic() > deadline:
                    raise TimeoutError(method)
            raw, self.buffer = self.buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self.next_id:
                assert "error" not in answer, answer["error"]
                return answer["result"]
        raise TimeoutError(method)

    def evaluate(self, expression: str) -> object:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send(
            "Runtime.evaluate",
            self.session,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.send("Page.navigate", self.session, url=url)
        self.wait_for("document.readyState === 'complete' && !!document.getElementById('run')")

    def wait_for(self, condition: str, timeout: float = 10) -> None:
        expression = f"""new Promise((resolve) => {{
            const started = Date.now();
            const poll = () => {{
                if ({condition}) resolve(true);
                else if (Date.now() - started > {timeout * 1000}) resolve(false);
                else setTimeout(poll, 25);
            }};
            poll();
        }})"""
        assert self.evaluate(expression) is True, f"not true within {timeout} s: {condition}"

    def press_ctrl_enter(self) -> None:
        for kind in ("rawKeyDown", "keyUp"):
            self.send(
                "Input.dispatchKeyEvent",
                self.session,
                type=kind,
                modifiers=2,  # Ctrl
                key="Enter",
                code="Enter",
                windowsVirtualKeyCode=13,
            )

    def close(self) -> None:
        """Stop chromium and every helper it started, then remove the profile.

        Waiting for the main process alone is not enough: a helper still writing into the
        profile made its removal fail ("Directory not empty") once in a full run.
        """
        for stop in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, stop)
            try:
                self.process.wait(10)
                break
            except subprocess.TimeoutExpired:
                continue
        self._wait_for_group()
        os.close(self.commands)
        os.close(self.events)
        self.profile.cleanup()

    def _wait_for_group(self, timeout: float = 10) -> None:
        """Until no process of chromium's group is left (helpers exit after the browser)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
