"""Downloadable dumps of a build, and the redirects table, written beside the store.

Layout of the build directory (besides what :mod:`santecyber.store` writes)::

    dumps -> dumps.{version}.{n}  a link to the dumps in service, replaced atomically
    previous-dumps -> dumps.…     a link to the dumps served before (kept for downloads)
    dumps/santecyber.nq.gz        every graph, N-Quads, gzip (deterministic bytes)
    dumps/{graph-name}.ttl        one Turtle file per named graph
    dumps/shapes.ttl              the SHACL shapes of the build (unchecked with --skip-validation)
    dumps/index.json              file, media type, graph, size, sha256, statements
    redirects.json                old IRI path → new IRI path (from data/redirects.yaml)

The server reads these files; it never parses YAML.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import time
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph
from rdflib.compare import to_canonical_graph

from santecyber.namespaces import BASE, PREFIXES, REPORT_PREFIXES
from santecyber.store import BuildDirectory, replace_file

DUMPS = "dumps"
INDEX = "index.json"
SHAPES = "shapes.ttl"
REDIRECTS = "redirects.json"
PREVIOUS = "previous-dumps"
_TURTLE_PREFIXES = {p: iri for p, iri in PREFIXES.items() if p not in ("id", "vocab", "graph")}


def graph_file_name(graph: str) -> str:
    """The dump file of a named graph.

    >>> graph_file_name("https://w3id.org/santecyber/graph/source/rfi-2022-12-versailles")
    'graph-source-rfi-2022-12-versailles.ttl'
    """
    name = (
        graph[len(BASE) :] if graph.startswith(BASE) else hashlib.sha256(graph.encode()).hexdigest()
    )
    return re.sub(r"[^a-z0-9.\-]+", "-", name.lower()).strip("-") + ".ttl"


def _entry(path: Path, media_type: str, statements: int, graph: str | None) -> dict[str, object]:
    content = path.read_bytes()
    entry: dict[str, object] = {
        "file": path.name,
        "media_type": media_type,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "statements": statements,
    }
    if graph:
        entry["graph"] = graph
    return entry


class StagedDumps:
    """Dumps and redirects of a build, written beside the ones in service, not yet served.

    ``dumps`` is a symbolic link to a folder ``dumps.{version}.{n}``: switching is replacing the
    link (atomic) and renaming the redirects table, so a failure while writing changes nothing.
    """

    def __init__(self, target: BuildDirectory, folder: Path, redirects: Path, index: dict) -> None:
        self.target = target
        self.folder = folder
        self.redirects = redirects
        self.index = index

    def switch(self) -> None:
        """Serve these dumps: renames only, no space needed."""
        root = self.target.root
        link = root / DUMPS
        if link.is_dir() and not link.is_symlink():  # a build directory from before the links
            os.replace(link, root / f"{DUMPS}.{time.time_ns()}")
        before = os.readlink(link) if link.is_symlink() else None
        _link(root, self.folder.name, link)
        if before and before != self.folder.name:
            _link(root, before, root / PREVIOUS)
        os.replace(self.redirects, root / REDIRECTS)
        _prune_dumps(root)

    def discard(self) -> None:
        """Remove what was written (a failed build), unless it is already served."""
        link = self.target.root / DUMPS
        if link.is_symlink() and os.readlink(link) == self.folder.name:
            return
        shutil.rmtree(self.folder, ignore_errors=True)
        self.redirects.unlink(missing_ok=True)


def _link(root: Path, target: str, link: Path) -> None:
    """Point ``link`` at ``target`` atomically (a new link renamed over the old one)."""
    temporary = root / f".{link.name}.{os.getpid()}.link"
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary)
    os.replace(temporary, link)


def _prune_dumps(root: Path) -> None:
    """Remove every dumps folder but the one in service and the previous one (a download may
    still be reading it): older ones, and those of builds killed before switching. Called with
    the build lock held (from ``switch``), so no other build is writing a folder."""
    keep = {os.readlink(p) for p in (root / DUMPS, root / PREVIOUS) if p.is_symlink()}
    folders = [p for p in root.glob(f"{DUMPS}.*") if p.is_dir() and not p.is_symlink()]
    if not (root / PREVIOUS).is_symlink():  # a build directory from before the previous link
        others = sorted(
            (p for p in folders if p.name not in keep),
            key=lambda p: p.stat().st_mtime_ns,
            reverse=True,
        )
        keep.update(p.name for p in others[:1])
    for old in folders:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def stage_dumps(
    target: BuildDirectory,
    nquads: bytes,
    redirects: Mapping[str, str] | None = None,
    version: str | None = None,
    shapes: Graph | None = None,
) -> StagedDumps:
    """Write the dumps, their index and ``redirects`` (old IRI path → new, as
    :mod:`santecyber.loaders.redirects` reads them) of ``version``, not yet served; with
    ``shapes``, those too (``index["shapes"]``: not data, so not among the files).

    Raises OSError (disk full…), leaving nothing behind.
    """
    redirects = dict(redirects or {})
    version = version if version is not None else target.current_version() or ""
    target.root.mkdir(parents=True, exist_ok=True)
    folder = target.root / f"{DUMPS}.{version or 'unversioned'}.{time.time_ns()}"
    redirects_file = target.root / f".{REDIRECTS}.{os.getpid()}.tmp"
    try:
        folder.mkdir()
        index = _write_dumps_into(folder, nquads, version, shapes)
        replace_file(redirects_file, json.dumps(redirects, indent=2, sort_keys=True).encode())
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        redirects_file.unlink(missing_ok=True)
        raise
    return StagedDumps(target, folder, redirects_file, index)


def write_dumps(
    target: BuildDirectory,
    nquads: bytes,
    redirects: Mapping[str, str] | None = None,
    version: str | None = None,
    shapes: Graph | None = None,
) -> dict:
    """Write the dumps and their index for the build in service, and the redirects table."""
    staged = stage_dumps(target, nquads, redirects, version, shapes)
    staged.switch()
    return staged.index


def _write_dumps_into(folder: Path, nquads: bytes, version: str, shapes: Graph | None) -> dict:
    by_graph: dict[str, list[ox.Triple]] = defaultdict(list)
    for quad in ox.parse(nquads, format=ox.RdfFormat.N_QUADS):
        graph = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else ""
        by_graph[graph].append(quad.triple)
    whole = folder / "santecyber.nq.gz"
    replace_file(whole, gzip.compress(nquads, mtime=0))
    files = [_entry(whole, "application/n-quads", nquads.count(b"\n"), None)]
    files[0]["encoding"] = "gzip"
    for graph in sorted(by_graph):
        path = folder / (graph_file_name(graph) if graph else "default-graph.ttl")
        triples = sorted(by_graph[graph], key=str)
        replace_file(
            path, ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=_TURTLE_PREFIXES)
        )
        files.append(_entry(path, "text/turtle", len(triples), graph or None))
    index: dict[str, object] = {"version": version, "files": files}
    if shapes is not None:
        path = folder / SHAPES
        replace_file(path, shapes_turtle(shapes))
        index["shapes"] = _entry(path, "text/turtle", len(shapes), None)
    replace_file(folder / INDEX, json.dumps(index, indent=2).encode())
    return index


def shapes_turtle(shapes: Graph) -> bytes:
    """The shapes in Turtle, the same bytes for the same shapes (so their ETag only changes
    with them): blank nodes labelled from the graph's structure, statements sorted."""
    labelled = to_canonical_graph(shapes).serialize(format="nt", encoding="utf-8")
    triples = sorted((q.triple for q in ox.parse(labelled, format=ox.RdfFormat.N_TRIPLES)), key=str)
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=REPORT_PREFIXES)


def read_redirects(build_dir: Path) -> dict[str, str]:
    """The redirects table the last build wrote (empty before any)."""
    try:
        return json.loads((build_dir / REDIRECTS).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def dump_index(build_dir: Path, folder: str = DUMPS) -> dict:
    """The dumps index the last build wrote (no files before any), or that of ``folder``."""
    try:
        return json.loads((build_dir / folder / INDEX).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": "", "files": []}
