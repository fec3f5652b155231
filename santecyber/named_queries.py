"""The named queries of queries/: each ``NAME.rq`` starts with a header of ``# key: value`` lines.

Header keys: ``title`` (en), ``title-fr``, ``question`` (en), ``question-fr``. The expected
answer of a SELECT/ASK query sits beside it as ``NAME.expected.tsv`` (SPARQL TSV results).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from santecyber.errors import InputError, Location, Problem, decode_utf8, not_a_file
from santecyber.paths import QUERIES_DIR

_HEADER = re.compile(r"^#\s*([a-z-]+)\s*:\s*(.+?)\s*$")


@dataclass(frozen=True)
class NamedQuery:
    name: str
    text: str
    header: dict[str, str]
    path: Path

    @property
    def title(self) -> str:
        return self.header.get("title", self.name)

    @property
    def expected_path(self) -> Path:
        return self.path.with_name(f"{self.name}.expected.tsv")


def read_named_query(path: Path) -> NamedQuery:
    """A .rq file; InputError at the line and column of a byte that is not UTF-8. A byte
    order mark (some editors write one) is not part of the query or its header."""
    text = decode_utf8(path, path.read_bytes()).removeprefix("\ufeff")
    header: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER.match(line)
        if match:
            header[match.group(1)] = match.group(2)
    return NamedQuery(path.stem, text, header, path)


def named_queries(directory: Path = QUERIES_DIR) -> dict[str, NamedQuery]:
    """Every named query, by name, in file-name order."""
    return {p.stem: read_named_query(p) for p in sorted(directory.glob("*.rq"))}


def resolve_query(name_or_file: str, directory: Path = QUERIES_DIR) -> NamedQuery:
    """A named query by name (``01-lab-leak-vendor``), or any .rq file by path (InputError
    if there is none, or it is a folder)."""
    path = Path(name_or_file)
    if path.suffix == ".rq":
        if (why := not_a_file(path)) is not None:
            raise InputError([Problem(Location.of(path), why)])
        return read_named_query(path)
    queries = named_queries(directory)
    if name_or_file in queries:
        return queries[name_or_file]
    matches = [q for n, q in queries.items() if n.split("-", 1)[-1] == name_or_file]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(queries) or "none"
    raise FileNotFoundError(f"no query named {name_or_file!r} (known: {known})")
