"""Debian's chromium, headless, for tests that look at pages: screenshots and the rendered DOM.

``ensure_chromium()`` installs it with apt-get when /usr/bin/chromium is missing (as root) and
returns its path, or None with the reason in ``missing_reason()`` so a test can skip clearly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
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


def _run(arguments: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    binary = ensure_chromium()
    if binary is None:
        raise RuntimeError(missing_reason())
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        command = [
            str(binary),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *arguments,
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def screenshot(url: str, path: Path, width: int = 1280, height: int = 1600) -> Path:
    """Save a PNG of ``url`` as rendered by chromium at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    done = _run([f"--screenshot={path}", f"--window-size={width},{height}", url], timeout=120)
    if not path.exists():
        raise RuntimeError(f"chromium wrote no screenshot: {done.stderr[-1000:]}")
    return path


def dump_dom(url: str) -> str:
    """The DOM of ``url`` after chromium rendered it, serialised as HTML."""
    done = _run(["--dump-dom", url], timeout=120)
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"chromium --dump-dom failed: {done.stderr[-1000:]}")
    return done.stdout
