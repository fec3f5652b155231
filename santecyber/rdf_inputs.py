"""Reading RDF to validate: files (with the line of a statement about each subject) or a
SPARQL endpoint.

Files are parsed with pyoxigraph (fast, and its syntax errors carry line and column), then
handed to pySHACL as rdflib's in-memory graph. Where a statement about a node was written is
found by scanning the text again (best effort, see docs/validation.md):

- N-Triples, N-Quads: the first line whose subject is the node (exact).
- Turtle, TriG: the first line that starts a statement with the node as subject, written as a
  full IRI, an IRI relative to ``@base``, or a prefixed name (a statement's first line must
  begin with it; multi-line strings can mislead the scan).
- JSON-LD: the first line with ``"@id": "…"`` naming the node (full IRI, or compact with a
  prefix of the top-level ``@context``).
- RDF/XML: the first line with ``rdf:about="…"`` naming the node.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin

import pyoxigraph as ox
from rdflib import Graph

from santecyber.errors import InputError, Location, Problem

FORMATS: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".turtle": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
}


def rdf_format(path: Path) -> ox.RdfFormat:
    """The RDF format of a file, from its extension.

    >>> rdf_format(Path("data.nq")) == ox.RdfFormat.N_QUADS
    True
    """
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise InputError(
            [Problem(Location.of(path), f"unknown RDF file extension (one of {known})")]
        ) from None


BOM = b"\xef\xbb\xbf"


def open_rdf(path: Path) -> BinaryIO:
    """``path`` opened for reading past a UTF-8 byte order mark, which some editors write and
    pyoxigraph's parsers take for a term ("\ufeff is not a valid subject")."""
    stream = path.open("rb")
    if stream.read(len(BOM)) != BOM:
        stream.seek(0)
    return stream


def read_quads(path: Path) -> list[ox.Quad]:
    """Every quad of an RDF file; InputError naming file:line:column on bad syntax."""
    fmt = rdf_format(path)
    try:
        with open_rdf(path) as stream:
            return list(ox.parse(stream, format=fmt, base_iri=path.resolve().as_uri()))
    except SyntaxError as error:
        message = str(error.msg if hasattr(error, "msg") else error)
        line, column = error.lineno or 0, error.offset or 0
        raise InputError([Problem(Location.of(path, line, column), message)]) from None
    except OSError as error:
        raise InputError([Problem(Location.of(path), error.strerror or str(error))]) from None


def _not_a_conversion_failure(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("Failed to convert Literal lexical form")


@contextmanager
def quiet_literal_conversion() -> Iterator[None]:
    """Without rdflib's warning (and traceback) for each literal whose lexical form is not of
    its datatype (``"2021-02-30"^^xsd:date``): the literal is kept as written, and the shapes
    report it as a result at its line, so the traceback on standard error was only noise."""
    logger = logging.getLogger("rdflib.term")
    logger.addFilter(_not_a_conversion_failure)
    try:
        yield
    finally:
        logger.removeFilter(_not_a_conversion_failure)


def as_graph(quads: Iterable[ox.Quad | ox.Triple]) -> Graph:
    """The union of the statements as rdflib's in-memory graph (the form pySHACL is right with)."""
    text = "".join(f"{q.subject} {q.predicate} {q.object} .\n" for q in quads)
    with quiet_literal_conversion():
        return Graph().parse(data=text, format="nt")


def read_graph(path: Path) -> Graph:
    """An RDF file as rdflib's in-memory graph (the union of its graphs)."""
    return as_graph(read_quads(path))


# ---------------------------------------------------------------------------------------------
# Where a statement about each subject was written
# ---------------------------------------------------------------------------------------------

_NT_SUBJECT = re.compile(r"\s*<([^>]*)>")
_TTL_PREFIX = re.compile(r"\s*(?:@prefix|PREFIX)\s+([\w.-]*):\s*<([^>]*)>", re.IGNORECASE)
_TTL_BASE = re.compile(r"\s*(?:@base|BASE)\s+<([^>]*)>", re.IGNORECASE)
_TTL_TOKEN = re.compile(r"<([^>\s]*)>|([A-Za-z][\w.-]*)?:((?:[\w\-%:]|\.(?=[\w\-%:]))*)")
_STRINGS_AND_IRIS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|<[^>]*>')
_JSONLD_ID = re.compile(r'"@id"\s*:\s*"([^"]*)"')
_RDFXML_ABOUT = re.compile(r'rdf:about\s*=\s*"([^"]*)"')


def subject_lines(path: Path) -> dict[str, Location]:
    """For each subject IRI of an RDF file, where a statement about it starts (best effort)."""
    fmt = rdf_format(path)
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    if fmt in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS):
        lines = _nt_lines(text)
    elif fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG):
        lines = _turtle_lines(text, path.resolve().as_uri())
    elif fmt == ox.RdfFormat.JSON_LD:
        lines = _jsonld_lines(text)
    else:
        lines = _rdfxml_lines(text, path.resolve().as_uri())
    shown = Location.of(path).file
    return {iri: Location(shown, line, column) for iri, (line, column) in lines.items()}


def _first(found: dict[str, tuple[int, int]], iri: str, line: int, column: int) -> None:
    found.setdefault(iri, (line, column))


def _nt_lines(text: str) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = _NT_SUBJECT.match(line)
        if match:
            _first(found, match[1], number, match.start(1))
    return found


def _turtle_lines(text: str, base: str) -> dict[str, tuple[int, int]]:
    """Lines of Turtle/TriG where a statement starts with a subject IRI.

    >>> text = '@prefix ex: <http://e/> .\\nex:a ex:p ex:b ;\\n  ex:q ex:c .\\n<x> ex:p 1 .'
    >>> _turtle_lines(text, 'http://b/')
    {'http://e/a': (2, 1), 'http://b/x': (4, 1)}
    """
    prefixes: dict[str, str] = {}
    found: dict[str, tuple[int, int]] = {}
    at_start = True  # the previous statement ended: the next term is a subject (or a graph)
    for number, line in enumerate(text.splitlines(), 1):
        if match := _TTL_PREFIX.match(line):
            prefixes[match[1]] = urljoin(base, match[2])
            continue
        if match := _TTL_BASE.match(line):
            base = urljoin(base, match[1])
            continue
        stripped = line.lstrip()
        if at_start and stripped and not stripped.startswith("#"):
            token = _TTL_TOKEN.match(stripped)
            after = stripped[token.end() :].lstrip() if token else ""
            if token and not after.startswith(("{", "=")) and stripped[:5].upper() != "GRAPH":
                if token[1] is not None:
                    iri = urljoin(base, token[1])
                else:
                    prefix = token[2] or ""
                    iri = prefixes[prefix] + token[3] if prefix in prefixes else ""
                if iri:
                    _first(found, iri, number, len(line) - len(stripped) + 1)
        code = _STRINGS_AND_IRIS.sub('""', line).split("#", 1)[0].rstrip()
        if code:
            at_start = code.endswith((".", "{", "}"))
    return found


def _jsonld_lines(text: str) -> dict[str, tuple[int, int]]:
    prefixes: dict[str, str] = {}
    try:
        document = json.loads(text)
        context = document.get("@context", {}) if isinstance(document, dict) else {}
        if isinstance(context, dict):
            prefixes = {k: v for k, v in context.items() if isinstance(v, str)}
    except (ValueError, RecursionError):  # not JSON, or nested past Python's recursion limit
        pass
    found: dict[str, tuple[int, int]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        for match in _JSONLD_ID.finditer(line):
            value = match[1]
            prefix, _, local = value.partition(":")
            if prefix in prefixes and not local.startswith("//"):
                value = prefixes[prefix] + local
            _first(found, value, number, match.start() + 1)
    return found


def _rdfxml_lines(text: str, base: str) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        for match in _RDFXML_ABOUT.finditer(line):
            _first(found, urljoin(base, match[1]), number, match.start() + 1)
    return found


class FileLocator:
    """Maps a node to the first input file and line where a statement about it starts.

    A hash IRI not found falls back to its document (``…/attack/x#impact-1`` → ``…/attack/x``).
    """

    def __init__(self, paths: Iterable[Path]) -> None:
        self.index: dict[str, Location] = {}
        for path in paths:
            for iri, location in subject_lines(path).items():
                self.index.setdefault(iri, location)

    def __call__(self, node: str) -> Location | None:
        return self.index.get(node) or self.index.get(node.split("#", 1)[0])


# ---------------------------------------------------------------------------------------------
# A SPARQL endpoint
# ---------------------------------------------------------------------------------------------

ALL_STATEMENTS = "CONSTRUCT { ?s ?p ?o } WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"


def fetch_endpoint(url: str, timeout: float = 60) -> list[ox.Triple]:
    """Every statement of a SPARQL 1.1 endpoint (default graph and named graphs, merged).

    InputError naming the URL (without credentials: ``remote.redact``) when the endpoint
    cannot be reached, refuses the query, cuts the answer at a result limit, or has not sent
    its whole answer within ``timeout`` seconds (each wait is bounded by it too, so a server
    that accepts and never answers is given up on).
    """
    import httpx

    from santecyber.remote import redact

    place = Location(redact(url))
    deadline = time.monotonic() + timeout
    late = f"no answer from the SPARQL endpoint within {timeout:g} s (--timeout)"
    try:
        with httpx.stream(
            "POST",
            url,
            data={"query": ALL_STATEMENTS},
            headers={"Accept": "application/n-triples"},
            timeout=timeout,
        ) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if time.monotonic() > deadline:  # a server that trickles its answer
                    raise InputError([Problem(place, late)])
    except httpx.InvalidURL as error:  # not an HTTPError
        raise InputError([Problem(place, f"not a valid URL: {error}")]) from None
    except httpx.TimeoutException:
        raise InputError([Problem(place, late)]) from None
    except httpx.HTTPError as error:
        raise InputError([Problem(place, f"cannot reach the SPARQL endpoint: {error}")]) from None
    if response.status_code != 200:
        detail = bytes(body).decode("utf-8", "replace").strip().splitlines()[:1]
        raise InputError(
            [Problem(place, f"the SPARQL endpoint answered {response.status_code} {detail}")]
        )
    if response.headers.get("X-Santecyber-Truncated", "").lower() in {"1", "true", "yes"}:
        rows = response.headers.get("X-Santecyber-Result-Limit", "?")
        size = response.headers.get("X-Santecyber-Byte-Limit", "?")
        cut = f"the endpoint cut the answer at its limits ({rows} triples, {size} bytes)"
        raise InputError([Problem(place, cut)])
    media = response.headers.get("content-type", "").split(";")[0].strip()
    fmt = ox.RdfFormat.from_media_type(media) or ox.RdfFormat.N_TRIPLES
    try:
        return [q.triple for q in ox.parse(bytes(body), format=fmt)]
    except SyntaxError as error:
        raise InputError([Problem(place, f"unreadable answer ({media}): {error}")]) from None
