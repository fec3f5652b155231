"""The embedded store on disk: every build is a new store, switched to only once complete.

Layout of the build directory::

    stores/{version}/     one pyoxigraph (RocksDB) store per successful build
    CURRENT               the name of the store in service, replaced atomically
    santecyber.nq         the N-Quads dump of the store in service
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from santecyber.paths import BUILD_DIR

KEEP_PREVIOUS = 1  # stores kept besides the current one, so a reader still on it can finish


@dataclass(frozen=True)
class BuildDirectory:
    """Where builds are written and which one is current."""

    root: Path = BUILD_DIR

    @property
    def stores(self) -> Path:
        return self.root / "stores"

    @property
    def pointer(self) -> Path:
        return self.root / "CURRENT"

    @property
    def dump(self) -> Path:
        return self.root / "santecyber.nq"

    def current_version(self) -> str | None:
        """The version (store name) in service, or None before the first build."""
        try:
            version = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return version if (self.stores / version).is_dir() else None

    def current_store_path(self) -> Path | None:
        version = self.current_version()
        return self.stores / version if version else None

    def open_current(self) -> tuple[ox.Store, str]:
        """Open the store in service read-only; raises FileNotFoundError before any build."""
        version = self.current_version()
        if version is None:
            raise FileNotFoundError(f"no built store in {self.root}: run `santecyber build`")
        return ox.Store.read_only(str(self.stores / version)), version

    def write_store(self, version: str, nquads: bytes) -> Path:
        """Write a new store for ``version`` beside the others; nothing in service changes."""
        staging = self.stores / f".staging-{version}-{os.getpid()}"
        if staging.exists():
            shutil.rmtree(staging)
        staging.parent.mkdir(parents=True, exist_ok=True)
        try:
            store = ox.Store(str(staging))
            store.bulk_load(input=nquads, format=ox.RdfFormat.N_QUADS)
            store.bulk_extend(merged_default_graph(nquads))
            store.flush()
            del store
            final = self.stores / version
            if final.exists():
                shutil.rmtree(final)
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return final

    def publish(self, version: str, nquads: bytes) -> None:
        """Make ``version`` current: dump first, then the pointer, each replaced atomically."""
        _atomic_write(self.dump, nquads)
        _atomic_write(self.pointer, (version + "\n").encode())
        self._prune(keep={version})

    def _prune(self, keep: set[str]) -> None:
        stores = sorted(
            (p for p in self.stores.iterdir() if not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        kept = [p for p in stores if p.name in keep]
        others = [p for p in stores if p.name not in keep]
        for old in others[KEEP_PREVIOUS:] if kept else []:
            shutil.rmtree(old, ignore_errors=True)


def merged_default_graph(nquads: bytes) -> Iterator[ox.Quad]:
    """Every statement of every graph, in the default graph, once.

    The default graph is the RDF merge of all graphs. pyoxigraph's own union default graph
    would repeat a statement once per graph stating it, and COUNTs would be wrong; writing the
    merge at build time costs disk and load time, not query time.
    """
    default = ox.DefaultGraph()
    for quad in ox.parse(input=nquads, format=ox.RdfFormat.N_QUADS):
        yield ox.Quad(quad.subject, quad.predicate, quad.object, default)


def _atomic_write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as stream:
        stream.write(content)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)
