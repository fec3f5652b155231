"""The package as pre-commit installs it: a wheel, not this checkout, run at the root of the
repository being committed. It must import whole and check that repository's records."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from santecyber.paths import ROOT


def run(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout's tracked files, as from a fresh clone (the
    checkout's egg-info and build/ would slip other files in), installed alone into a folder
    (its dependencies are this environment's); no network: the build backend is installed."""
    folder = tmp_path_factory.mktemp("wheel")
    tracked = run("git", "ls-files", "-z", cwd=ROOT)
    assert tracked.returncode == 0, tracked.stderr
    source = folder / "source"
    for name in filter(None, tracked.stdout.split("\0")):
        if (ROOT / name).is_file():  # a file deleted but not yet committed is skipped
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    built = run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "-w", folder / "dist", source, cwd=folder,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (folder / "dist").glob("santecyber-*.whl")
    site = folder / "site"
    target = ("--no-deps", "--no-index", "--target", site)
    installed = run(sys.executable, "-m", "pip", "install", "-q", *target, wheel, cwd=folder)
    assert installed.returncode == 0, installed.stderr
    return site


def test_the_wheel_checks_the_records_of_the_repository_it_runs_in(
    installed: Path, tmp_path: Path
) -> None:
    repository = tmp_path / "records"
    for folder in ("data", "ontology", "shapes"):
        shutil.copytree(ROOT / folder, repository / folder)
    environment = {"PYTHONPATH": str(installed), "SANTECYBER_DATA": "", "SANTECYBER_SHAPES": ""}

    def santecyber(*args: str) -> subprocess.CompletedProcess[str]:
        return run(sys.executable, "-m", "santecyber.cli", *args, cwd=repository, env=environment)

    where = run(
        sys.executable, "-c", "import santecyber.paths as p, santecyber.shacl as s;"
        " print(p.__file__); print(p.ROOT); print(s.__file__)",
        cwd=repository, env=environment,
    )  # fmt: skip
    assert where.returncode == 0, where.stderr
    module, root, engine = where.stdout.split()
    assert Path(module).is_relative_to(installed), "ran this checkout, not the wheel"
    assert Path(engine).is_relative_to(installed)
    assert Path(root) == repository
    passed = santecyber("validate")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "0 violation(s)" in passed.stdout

    # the repository's own records are the ones checked: break one there
    record = repository / "data" / "incidents" / "2023-06-chu-rennes.yaml"
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace("targets: [chu-rennes]", "targets: [chu-nowhere]"), "utf-8")
    failed = santecyber("check")
    assert failed.returncode == 2
    assert "2023-06-chu-rennes.yaml:" in failed.stderr + failed.stdout
    assert "chu-nowhere" in failed.stderr + failed.stdout
