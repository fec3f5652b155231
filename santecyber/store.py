"""The embedded store on disk: every build is a new store, switched to only once complete.

Layout of the build directory::

    stores/{version}/     one pyoxigraph (RocksDB) store per successful build
    CURRENT               the name of the store in service, replaced atomically
    santecyber.nq         the N-Quads dump of the store in service

A build writes everything that needs space first, then switches by renames only, CURRENT last
(``publish``): a build that fails or is killed before that leaves what was served untouched.

A build holds ``.build.lock`` (``building``) while it writes; whoever takes it next removes
what a killed build left (``.staging-*`` stores, ``.*.tmp`` files), since no build is writing
them any more. ``stores/`` keeps the store in service and the one in service before it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox

from santecyber.paths import BUILD_DIR

#: what writes a store (its layout here, pyoxigraph's version): part of the data version, so
#: that a rebuild after either changes writes a new store instead of reusing the old one
STORE_WRITER = f"santecyber-store-1 pyoxigraph-{ox.__version__}"


def data_version(nquads: bytes) -> str:
    """A build's version: a hash of its N-Quads and of STORE_WRITER (ETags derive from it)."""
    return hashlib.sha256(STORE_WRITER.encode() + b"\n" + nquads).hexdigest()[:16]


LOCK = ".build.lock"
#: what a build writes beside what is served before renaming it: left behind only by a
#: build that was killed (any other failure removes its own)
ABANDONED = (".staging-*", ".*.tmp", ".*.link")


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
        """The version (store name) in service, or None before the first build (or if CURRENT
        does not name a store: garbled, emptied; the next build writes it again)."""
        try:
            version = self.pointer.read_bytes().decode("utf-8", "replace").strip()
        except FileNotFoundError:
            return None
        named = version and "/" not in version and not version.startswith(".")
        return version if named and (self.stores / version).is_dir() else None

    def current_store_path(self) -> Path | None:
        version = self.current_version()
        return self.stores / version if version else None

    def open_current(self) -> tuple[ox.Store, str]:
        """Open the store in service read-only; FileNotFoundError before any build, OSError
        naming the store when RocksDB finds it damaged (files missing or cut short)."""
        path = self.current_store_path()
        if path is None:
            raise FileNotFoundError(f"no built store in {self.root}: run `santecyber build`")
        try:
            return ox.Store.read_only(str(path)), path.name
        except (OSError, RuntimeError) as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise OSError(
                f"{path}: the built store cannot be opened ({reason}); "
                "run `santecyber build` to write it again"
            ) from None

    @contextmanager
    def building(self) -> Iterator[None]:
        """Hold the build lock of this directory (waiting for a build in progress), after
        removing what killed builds left. The lock goes with its process, even on SIGKILL."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / LOCK).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.remove_abandoned()
            yield

    def remove_abandoned(self) -> list[Path]:
        """Remove the staging stores and temporary files of builds that were killed; only
        with the lock held, when no build is writing them. Returns what was removed."""
        found = [
            p for folder in (self.root, self.stores) for g in ABANDONED for p in folder.glob(g)
        ]
        for path in found:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        return found

    def write_store(self, version: str, nquads: bytes) -> Path:
        """Write a new store for ``version`` beside the others; nothing in service changes.

        A version names its content (a build's is a hash of its N-Quads) and a store appears
        under that name only complete, renamed from its staging folder. So a store of this
        version that opens is reused as it is: it is often the one in service (the same data
        rebuilt), and removing it to rename a new one in left CURRENT naming a broken store
        if the build was killed in between. One that does not open is broken and is replaced.
        """
        final = self.stores / version
        if _opens(final):
            return final
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
        in_service = self.current_version()
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
        self._prune(keep={version, in_service or version})

    def discard_store(self, version: str) -> None:
        """Remove the store of a build that was not published."""
        if version != self.current_version():
            shutil.rmtree(self.stores / version, ignore_errors=True)

    def _prune(self, keep: set[str]) -> None:
        """Remove every store but ``keep``: the new one and the one served until now.

        A server plans each query on the version CURRENT names when it arrives, so a query
        still running after this switch is on the store served until now, which stays. Older
        stores (and stores of builds killed before they published) are no longer planned on;
        a worker that still has one open keeps reading its files after they are removed
        (RocksDB keeps them open, Linux frees them on close).
        """
        if not self.stores.is_dir():
            return
        for old in self.stores.iterdir():
            if not old.name.startswith(".") and old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)


def _opens(path: Path) -> bool:
    """Whether ``path`` is a store RocksDB opens (it checks every file the store lists)."""
    if not path.is_dir():
        return False
    try:
        ox.Store.read_only(str(path))
    except (OSError, RuntimeError):
        return False
    return True


def merged_default_graph(nquads: bytes) -> Iterator[ox.Quad]:
    """Every statement of every graph, in the default graph, once.

    The default graph is the RDF merge of all graphs. pyoxigraph's own union default graph
    would repeat a statement once per graph stating it, and COUNTs would be wrong; writing the
    merge at build time costs disk and load time, not query time.
    """
    default = ox.DefaultGraph()
    for quad in ox.parse(input=nquads, format=ox.RdfFormat.N_QUADS):
        yield ox.Quad(quad.subject, quad.predicate, quad.object, default)


def replace_file(path: Path, content: bytes) -> None:
    """``path`` holds ``content`` whole or is left as it was: written beside it, then renamed."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(content)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


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
