"""Where the project's files live; every default path is derived here."""

from __future__ import annotations

import os
from pathlib import Path


def _project_root() -> Path:
    """Where ontology/, shapes/, data/ and queries/ are: the checkout this package runs from
    (an editable install, as the Makefile makes), else the working directory. pre-commit
    installs the package as a wheel, which holds none of those folders, and runs it at the
    root of the repository being committed: its records, shapes and ontology are the ones to
    check."""
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()


ROOT = _project_root()


def path_from_environment(name: str, default: Path) -> Path:
    """``$name``, or ``default`` when it is unset or empty: an empty one (an unset CI
    variable passed on) would be Path(""), the working directory, written into by a build."""
    return Path(os.environ.get(name) or default)


ONTOLOGY_DIR = ROOT / "ontology"
SHAPES_DIR = path_from_environment("SANTECYBER_SHAPES", ROOT / "shapes")
QUERIES_DIR = ROOT / "queries"
DATA_DIR = path_from_environment("SANTECYBER_DATA", ROOT / "data")
BUILD_DIR = path_from_environment("SANTECYBER_BUILD", ROOT / "build")
