"""Where the project's files live; every default path is derived here."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_DIR = ROOT / "ontology"
SHAPES_DIR = Path(os.environ.get("SANTECYBER_SHAPES", ROOT / "shapes"))
QUERIES_DIR = ROOT / "queries"
DATA_DIR = Path(os.environ.get("SANTECYBER_DATA", ROOT / "data"))
BUILD_DIR = Path(os.environ.get("SANTECYBER_BUILD", ROOT / "build"))
