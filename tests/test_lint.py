"""The code stays ruff clean (lint and format), as `make lint` checks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from santecyber.paths import ROOT


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
