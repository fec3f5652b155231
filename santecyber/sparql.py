"""Running SPARQL queries on a pyoxigraph store and writing their results in standard formats.

The default graph is the union of all graphs unless a request names default graphs.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import BinaryIO

import pyoxigraph as ox

from santecyber.namespaces import PREFIXES, RDF
from santecyber.query_policy import (
    READ_ONLY_MESSAGE,
    QueryRefused,
    QuerySyntaxError,
    check_allowed,
    check_nesting,
    check_no_hidden_service,
    code_only,
    is_update,
    syntax_error,
)

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
    "n3": "text/turtle",  # Turtle is N3 (SPARQLWrapper's N3 sends format=n3)
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "json-ld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
    "rdf": "application/rdf+xml",
    "rdf+xml": "application/rdf+xml",  # what SPARQLWrapper sends
    "nquads": "application/n-quads",
    "nq": "application/n-quads",
    "trig": "application/trig",
}

EMPTY_QUERY_MESSAGE = "empty query: write a SELECT, ASK, CONSTRUCT or DESCRIBE query"

#: bytes of an answer (or of its TSV copy) held in memory before it spills to a temporary file
SPOOL_BYTES = 1 << 20


@dataclass(frozen=True)
class QueryResult:
    """A query's answer: ``form`` is 'bindings', 'boolean' or 'graph'."""

    form: str
    value: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples

    @property
    def default_media_type(self) -> str:
        return "text/turtle" if self.form == "graph" else "application/sparql-results+json"

    def serialize(self, media_type: str) -> bytes:
        if self.form == "graph":
            return self.value.serialize(format=GRAPH_FORMATS[media_type])  # type: ignore[union-attr]
        return self.value.serialize(format=RESULT_FORMATS[media_type])  # type: ignore[union-attr]

    def serialize_limited(
        self, media_type: str, limit: int, max_bytes: int = 0
    ) -> tuple[bytes, bool]:
        """At most ``limit`` rows or triples in ``media_type``, and whether some were cut.

        ``max_bytes`` (0: none) bounds the text of their terms too (as TSV or N-Triples write
        them): a few rows of long strings can weigh gigabytes, whatever the row count.

        >>> store = ox.Store()
        >>> for i in range(3):
        ...     store.add(ox.Quad(ox.NamedNode(f"http://e.org/{i}"), RDF_TYPE, RDF_TYPE))
        >>> body, cut = run_query(store, "SELECT ?s { ?s a ?t }").serialize_limited("text/csv", 2)
        >>> body.count(b"http://e.org/"), cut
        (2, True)
        """
        output = io.BytesIO()
        truncated = self.write_limited(output, media_type, limit, max_bytes)
        return output.getvalue(), truncated

    def write_limited(
        self, output: BinaryIO, media_type: str, limit: int, max_bytes: int = 0
    ) -> bool:
        """``serialize_limited`` into ``output``, a file or any object with ``write``.

        pyoxigraph's result serialisers take a whole result, so solutions are first written
        as TSV (lossless: every term in N-Triples syntax, one row per line) through a filter
        that keeps the header and the rows within the limits, then read back as a result of
        their own. That copy is spooled to a temporary file past ``SPOOL_BYTES``, and
        pyoxigraph writes 8 KiB at a time: given a spooled ``output`` too, neither the copy
        nor the answer is held in memory beyond ``SPOOL_BYTES``.

        pyoxigraph notices the cut when it writes its 8 KiB buffer, so a query is evaluated
        up to that many bytes of rows past the limit (the rows are not sent).

        Raises NotRepresentable when ``media_type`` is XML and the answer holds a character
        that XML 1.0 cannot carry.
        """
        if media_type in XML_TYPES:
            output = XmlChecked(output, self.form)
        if self.form == "boolean":
            self.value.serialize(output, format=RESULT_FORMATS[media_type])  # type: ignore[union-attr]
            return False
        budget = max_bytes or float("inf")
        if self.form == "graph":
            answer = iter(self.value)  # type: ignore[call-overload]
            prefixes = PREFIXES if media_type in _PREFIXED else None
            cut = False

            def within_budget() -> Iterator[ox.Triple]:
                nonlocal budget, cut
                for triple in islice(answer, limit):
                    budget -= len(str(triple).encode())  # bytes, as the rows count them
                    if budget < 0:
                        cut = True
                        return
                    yield triple

            triples = within_budget()
            ox.serialize(triples, output, format=GRAPH_FORMATS[media_type], prefixes=prefixes)
            return cut or next(answer, None) is not None
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as tsv:
            rows = RowsWithin(tsv, limit, budget)
            try:
                self.value.serialize(rows, format=ox.QueryResultsFormat.TSV)  # type: ignore[union-attr]
                truncated = False
            except AnswerFull:
                truncated = True
            tsv.seek(0)
            if media_type == "text/tab-separated-values":
                shutil.copyfileobj(tsv, output)
            else:
                copy = ox.parse_query_results(tsv, ox.QueryResultsFormat.TSV)
                copy.serialize(output, format=RESULT_FORMATS[media_type])
        return truncated


class NotRepresentable(Exception):
    """An answer holds something the format asked for cannot carry (HTTP 406);
    ``supported``: the media types that can."""

    def __init__(self, message: str, supported: Sequence[str]) -> None:
        super().__init__(message)
        self.supported = tuple(supported)


#: bytes of the characters XML 1.0 cannot carry, even as references (its Char production):
#: C0 controls but tab and line ends, and U+FFFE/U+FFFF in UTF-8
XML_FORBIDDEN_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
XML_FORBIDDEN_NONCHARACTERS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")
XML_FORBIDDEN = re.compile(b"[" + re.escape(XML_FORBIDDEN_BYTES) + rb"]|\xef\xbf[\xbe\xbf]")
XML_TYPES = {"application/sparql-results+xml", "application/rdf+xml"}
#: how pyoxigraph's RDF/XML writer opens the element of a predicate IRI that has no suffix
#: that an XML name can be (``http://e.org/1``, ``urn:x:``), leaving the document unreadable
UNNAMED_ELEMENT = b"<oxprefix: "
UNNAMED_PREDICATE = re.compile(rb'<oxprefix: xmlns:oxprefix="([^"]*)"')
#: formats that carry any string, to name in the refusal
CARRY_ANY_STRING = {"graph": "Turtle, N-Triples or JSON-LD", "bindings": "JSON, CSV or TSV"}


class WriteFilter:
    """Base of the file-like objects that pyoxigraph writes through: each passes what it
    keeps of the bytes on to its ``output``."""

    def flush(self) -> None:
        """pyoxigraph flushes when done; the file written to is flushed by its owner."""


class XmlChecked(WriteFilter):
    r"""Passes pyoxigraph's XML on to ``output`` and raises NotRepresentable at the first
    character XML 1.0 cannot carry: pyoxigraph writes them as they are, so the client would
    get a 200 whose document does not parse. The same for RDF/XML's element of a predicate
    IRI without an XML name at its end. Carriage returns become ``&#13;``.

    >>> out = io.BytesIO()
    >>> XmlChecked(out, "bindings").write(b"<literal>a\r\nb</literal>"), out.getvalue()
    (23, b'<literal>a&#13;\nb</literal>')

    >>> XmlChecked(io.BytesIO(), "bindings").write(b"<literal>a\x01</literal>")
    Traceback (most recent call last):
    santecyber.sparql.NotRepresentable: the answer holds U+0001, which XML 1.0 cannot carry: ...
    """

    def __init__(self, output: BinaryIO, form: str) -> None:
        self.output = output
        self.form = form
        self.tail = b""  # a U+FFFE/U+FFFF or an element name may be split between writes

    def write(self, data: bytes) -> int:
        seen = self.tail + data
        # translate() and two substring tests take a tenth of a regex search: the regex
        # only runs to name the character found
        if len(seen.translate(None, XML_FORBIDDEN_BYTES)) != len(seen) or any(
            noncharacter in seen for noncharacter in XML_FORBIDDEN_NONCHARACTERS
        ):
            found = XML_FORBIDDEN.search(seen)
            assert found is not None
            character = ord(found.group().decode())
            formats = GRAPH_FORMATS if self.form == "graph" else RESULT_FORMATS
            raise NotRepresentable(
                f"the answer holds U+{character:04X}, which XML 1.0 cannot carry:"
                f" ask for {CARRY_ANY_STRING.get(self.form, 'another format')}",
                [media_type for media_type in formats if media_type not in XML_TYPES],
            )
        if self.form == "graph" and UNNAMED_ELEMENT in seen:
            found_iri = UNNAMED_PREDICATE.search(seen)
            which = f" <{found_iri[1].decode()}>" if found_iri else ""
            raise NotRepresentable(
                f"the answer has a predicate{which} that RDF/XML cannot write: an element name"
                " must end it, and no suffix of this IRI is one (XML's NCName): ask for"
                f" {CARRY_ANY_STRING['graph']}",
                [media_type for media_type in GRAPH_FORMATS if media_type not in XML_TYPES],
            )
        self.tail = bytes(seen[-len(UNNAMED_ELEMENT) :])
        # pyoxigraph writes a carriage return as it is, and XML parsers read it as a line
        # feed; outside markup (where its XML has none), the reference keeps it
        self.output.write(data.replace(b"\r", b"&#13;") if b"\r" in data else data)
        return len(data)


class AnswerFull(Exception):
    """The next row of an answer would pass its row or byte limit."""


class RowsWithin(WriteFilter):
    r"""Where pyoxigraph writes a result as TSV: passes the header line and the rows (one per
    line) on to ``output`` while they stay within ``limit`` rows and ``budget`` bytes, then
    raises AnswerFull at the first row that would not (whole rows only, however the writes
    split them).

    >>> kept = io.BytesIO()
    >>> rows = RowsWithin(kept, limit=2, budget=100)
    >>> rows.write(b"?x\n1\n2") and rows.write(b"2\n3\n")
    Traceback (most recent call last):
    santecyber.sparql.AnswerFull
    >>> kept.getvalue()
    b'?x\n1\n22\n'
    """

    def __init__(self, output: BinaryIO, limit: int, budget: float) -> None:
        self.output = output
        self.rows_left = limit
        self.bytes_left = budget
        self.header = True
        #: the start of a line not ended yet
        self.pending = b""
        #: past the limits: pyoxigraph's buffer writes its bytes again when dropped
        self.full = False

    def write(self, data: bytes) -> int:
        if self.full:
            raise AnswerFull
        size = len(data)
        data = self.pending + data
        end = data.rfind(b"\n") + 1
        if self.header and not end:  # the variables' line, not ended yet: not a row either
            self.pending = data
            return size
        if self.header:
            first = data.index(b"\n") + 1
            self.output.write(data[:first])
            data, end, self.header = data[first:], end - first, False
        complete, self.pending = data[:end], data[end:]
        begun = complete.count(b"\n") + (1 if self.pending else 0)
        if begun <= self.rows_left and len(complete) + len(self.pending) <= self.bytes_left:
            self.output.write(complete)
            self.rows_left -= complete.count(b"\n")
            self.bytes_left -= len(complete)
            return size
        self.full = True
        for row in complete.split(b"\n")[:-1]:  # the rare last write: row by row
            if self.rows_left == 0 or len(row) + 1 > self.bytes_left:
                raise AnswerFull
            self.output.write(row + b"\n")
            self.rows_left -= 1
            self.bytes_left -= len(row) + 1
        raise AnswerFull  # the row begun cannot fit


RDF_TYPE = ox.NamedNode(str(RDF.type))
#: FROM or FROM NAMED, in a query's code (an IRI with "from" in it only costs a listing)
DATASET_CLAUSE = re.compile(r"\bFROM\b", re.IGNORECASE)
_PREFIXED = {"text/turtle", "application/trig", "application/rdf+xml"}


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
    allowed_services: Sequence[str] = (),
) -> QueryResult:
    """Run a read-only query; raises QueryRefused or QuerySyntaxError for bad queries.

    >>> store = ox.Store()
    >>> ex = "http://example.org/"
    >>> s, p, g = ox.NamedNode(ex + "s"), ox.NamedNode(ex + "p"), ox.NamedNode(ex + "g")
    >>> store.add(ox.Quad(s, p, ox.Literal("o"), g))
    >>> result = run_query(store, "SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    >>> result.form, [str(row["o"]) for row in result.value]
    ('bindings', ['"o"'])
    """
    query = query.removeprefix("\ufeff")  # a byte order mark from an editor is not the query
    check_allowed(query, allowed_services)
    check_nesting(query)  # before pyoxigraph parses it: past ~3,000 levels its stack overflows
    check_no_hidden_service(query)
    options: dict[str, object] = {"prefixes": PREFIXES}
    # each graph once: the same one given twice would count its triples twice
    default_graphs, named_graphs = (
        list(dict.fromkeys(default_graphs)),
        list(dict.fromkeys(named_graphs)),
    )
    if default_graphs:
        options["default_graph"] = [ox.NamedNode(iri) for iri in default_graphs]
    if named_graphs:
        options["named_graphs"] = [ox.NamedNode(iri) for iri in named_graphs]
    if (default_graphs or named_graphs) and DATASET_CLAUSE.search(code_only(query)):
        # the protocol's dataset replaces the query's FROM and FROM NAMED (SPARQL 1.1
        # Protocol 2.1.4), the side it leaves out too, as if the query had none: pyoxigraph
        # would keep the query's clause for that side
        options.setdefault("default_graph", ox.DefaultGraph())
        options.setdefault("named_graphs", list(store.named_graphs()))
    # Otherwise the store's default graph (the merge of all graphs, written by the build)
    # and all its named graphs, unless the query says otherwise.
    try:
        result = store.query(query, **options)
    except SyntaxError as error:
        if not code_only(query).strip():  # rdflib parses it as an empty update
            raise QuerySyntaxError(EMPTY_QUERY_MESSAGE) from None
        if is_update(query):
            raise QueryRefused(READ_ONLY_MESSAGE, 403) from None
        raise syntax_error(error, query) from None
    return QueryResult(query_form(result), result)
