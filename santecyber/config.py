"""Server settings, from arguments or SANTECYBER_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from santecyber.paths import BUILD_DIR


def _env(name: str, default: str) -> str:
    return os.environ.get(f"SANTECYBER_{name}", default)


@dataclass(frozen=True)
class ServerConfig:
    build_dir: Path = field(default_factory=lambda: Path(_env("BUILD", str(BUILD_DIR))))
    query_timeout: float = field(default_factory=lambda: float(_env("QUERY_TIMEOUT", "30")))
    max_results: int = field(default_factory=lambda: int(_env("MAX_RESULTS", "100000")))
    max_query_length: int = field(default_factory=lambda: int(_env("MAX_QUERY_LENGTH", "100000")))
    workers: int = field(default_factory=lambda: int(_env("QUERY_WORKERS", "4")))
