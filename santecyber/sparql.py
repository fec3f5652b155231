"""Running SPARQL queries on a pyoxigraph store and writing their results in standard formats.

The default graph is the union of all graphs unless a request names default graphs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib.plugins.sparql.parser import parseUpdate

from santecyber.namespaces import PREFIXES

RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
}
#: short names accepted by ``format=`` / ``output=`` and the CLI
FORMAT_NAMES: dict[str, str] = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "json-ld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
    "rdf": "application/rdf+xml",
    "nquads": "application/n-quads",
    "nq": "application/n-quads",
    "trig": "application/trig",
}

# Strings, IRIs and comments are blanked before looking for forbidden keywords, so that
# "SERVICE" inside a literal or an IRI is not mistaken for the keyword.
_NOT_CODE = re.compile(
    r"'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|<[^<>\"{}|^`\\\s]*>|#[^\n]*",
    re.DOTALL,
)
_SERVICE = re.compile(r"(?<![?$\w])SERVICE\b", re.IGNORECASE)


class QueryRefused(Exception):
    """A query that is valid but not allowed here (update, federation)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class QuerySyntaxError(Exception):
    """A query the parser rejects; ``line`` and ``column`` count from 1 (0: unknown)."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def code_only(query: str) -> str:
    return _NOT_CODE.sub(lambda m: " " * len(m.group(0)), query)


def is_update(text: str) -> bool:
    """Whether ``text`` parses as SPARQL Update (parsed only, never run)."""
    try:
        parseUpdate(text)
    except Exception:  # any parse failure means: not an update
        return False
    return True


def check_allowed(query: str) -> None:
    """Refuse federation before anything runs: this endpoint makes no outbound requests."""
    if _SERVICE.search(code_only(query)):
        raise QueryRefused("SERVICE is not allowed: this endpoint makes no outbound requests", 403)


@dataclass(frozen=True)
class QueryResult:
    """A query's answer: ``form`` is 'bindings', 'boolean' or 'graph'."""

    form: str
    value: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples

    @property
    def default_media_type(self) -> str:
        return "text/turtle" if self.form == "graph" else "application/sparql-results+json"

    def media_types(self) -> list[str]:
        return list(GRAPH_FORMATS if self.form == "graph" else RESULT_FORMATS)

    def serialize(self, media_type: str) -> bytes:
        if self.form == "graph":
            return self.value.serialize(format=GRAPH_FORMATS[media_type])  # type: ignore[union-attr]
        return self.value.serialize(format=RESULT_FORMATS[media_type])  # type: ignore[union-attr]


_POSITION = re.compile(r"line (\d+) between columns (\d+)|at line (\d+) column (\d+)|(\d+):(\d+)")


def _syntax_error(error: SyntaxError) -> QuerySyntaxError:
    message = str(error)
    if len(message) > 300:  # the parser lists every expected character class: keep the gist
        message = message[:300].rsplit(",", 1)[0] + ", …"
    match = _POSITION.search(message)
    if match:
        numbers = [int(g) for g in match.groups() if g is not None]
        return QuerySyntaxError(message, numbers[0], numbers[1])
    return QuerySyntaxError(message)


def query_form(result: object) -> str:
    if isinstance(result, ox.QuerySolutions):
        return "bindings"
    if isinstance(result, ox.QueryBoolean):
        return "boolean"
    return "graph"


def run_query(
    store: ox.Store,
    query: str,
    default_graphs: Sequence[str] = (),
    named_graphs: Sequence[str] = (),
) -> QueryResult:
    """Run a read-only query; raises QueryRefused or QuerySyntaxError for bad queries.

    >>> store = ox.Store()
    >>> ex = "http://example.org/"
    >>> s, p, g = ox.NamedNode(ex + "s"), ox.NamedNode(ex + "p"), ox.NamedNode(ex + "g")
    >>> store.add(ox.Quad(s, p, ox.Literal("o"), g))
    >>> result = run_query(store, "SELECT ?o WHERE { ?s ?p ?o }")
    >>> result.form, [str(row["o"]) for row in result.value]
    ('bindings', ['"o"'])
    """
    check_allowed(query)
    options: dict[str, object] = {"prefixes": PREFIXES}
    if default_graphs:
        options["default_graph"] = [ox.NamedNode(iri) for iri in default_graphs]
    else:
        options["use_default_graph_as_union"] = True
    if named_graphs:
        options["named_graphs"] = [ox.NamedNode(iri) for iri in named_graphs]
    try:
        result = store.query(query, **options)
    except SyntaxError as error:
        if is_update(query):
            raise QueryRefused(
                "SPARQL Update (including LOAD) is not allowed: this endpoint is read-only", 403
            ) from None
        raise _syntax_error(error) from None
    return QueryResult(query_form(result), result)
