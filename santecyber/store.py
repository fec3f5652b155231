"""The embedded store on disk: every build is a new store, switched to only once complete.

Layout of the build directory::

    stores/{version}/     one pyoxigraph (RocksDB) store per successful build
    CURRENT               the name of the store in service, replaced atomically
    santecyber.nq         the N-Quads dump of the store in service

A build writes everything that needs space first, then switches by renames only, CURRENT last
(``publish``): a build that fails or is killed before that leaves what was served untouched.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox

from santecyber.paths import BUILD_DIR

KEEP_PREVIOUS = 1  # stores kept besides the current one, so a reader still on it can finish


class Staged(Protocol):
    """Files written beside those in service, switched to by renames only."""

    def switch(self) -> None: ...


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

    def publish(self, version: str, nquads: bytes, staged: Sequence[Staged] = ()) -> None:
        """Make ``version`` current, with the dump and whatever else the caller ``staged``.

        Everything that needs disk space is written first (the dump and the pointer as
        temporary files; ``staged`` before the call); a failure there removes them and changes
        nothing. Then only renames: the dump, each staged switch, the pointer last.
        """
        dump = _write_temporary(self.dump, nquads)
        try:
            pointer = _write_temporary(self.pointer, (version + "\n").encode())
        except BaseException:
            dump.unlink(missing_ok=True)
            raise
        os.replace(dump, self.dump)
        for part in staged:
            part.switch()
        os.replace(pointer, self.pointer)
        self._prune(keep={version})

    def discard_store(self, version: str) -> None:
        """Remove the store of a build that was not published."""
        if version != self.current_version():
            shutil.rmtree(self.stores / version, ignore_errors=True)

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


def _write_temporary(path: Path, content: bytes) -> Path:
    """``content`` written and synced beside ``path``, to be renamed over it; removed on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary
