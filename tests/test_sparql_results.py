"""Answers written within the row and byte caps (santecyber/sparql.py), on a real store.

The server sends every SELECT answer through ``QueryResult.serialize_limited``: within the
caps it must be exactly what pyoxigraph writes for the whole result, and past them a valid
document of the rows that fit, whole, however pyoxigraph's writes split them.
"""

from __future__ import annotations

import csv
import io

import pyoxigraph as ox
import pytest

from santecyber.sparql import (
    RESULT_FORMATS,
    AnswerFull,
    NotRepresentable,
    QueryResult,
    RowsWithin,
    XmlChecked,
    run_query,
)

EX = "http://example.org/"
#: terms whose TSV spelling differs from their value: escapes, language and direction,
#: datatypes with non-canonical forms, numbers TSV writes bare, non-ASCII, a triple term
ODD_OBJECTS = [
    ox.Literal('tab\there, newline\nthere, quote " and backslash \\'),
    ox.Literal("bonjour", language="fr"),
    ox.Literal("مرحبا", language="ar", direction=ox.BaseDirection.RTL),
    ox.Literal("01", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
    ox.Literal("1e0", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#double")),
    ox.Literal(42),
    ox.Literal(True),
    ox.Literal("2021-03-01", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")),
    ox.Literal("Hôpital Saint-François 🏥"),
    ox.NamedNode(EX + "é?x=1#f"),
    ox.Triple(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "p"), ox.Literal("t")),
]


def result(store: ox.Store, query: str) -> QueryResult:
    return run_query(store, query)


def values(body: bytes, media_type: str, variable: str) -> list[str]:
    """The values of ``variable`` in an answer, as text (CSV drops the term syntax)."""
    if media_type == "text/csv":
        return [row[variable] for row in csv.DictReader(io.StringIO(body.decode()))]
    answer = ox.parse_query_results(body, RESULT_FORMATS[media_type])
    return [row[variable].value for row in answer]  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def odd_store() -> ox.Store:
    store = ox.Store()
    for i, term in enumerate(ODD_OBJECTS):
        store.add(ox.Quad(ox.NamedNode(f"{EX}s{i:02}"), ox.NamedNode(EX + "p"), term))
    return store


@pytest.mark.parametrize("media_type", list(RESULT_FORMATS))
def test_an_answer_within_the_caps_is_what_pyoxigraph_writes(odd_store, media_type):
    query = "SELECT ?s ?o ?missing WHERE { ?s ?p ?o } ORDER BY ?s"
    whole = result(odd_store, query).serialize(media_type)
    body, cut = result(odd_store, query).serialize_limited(media_type, 1000, 1 << 20)
    assert cut is False
    assert body == whole
    assert len(ODD_OBJECTS) <= body.count(b"s0") + body.count(b"s1")


@pytest.mark.parametrize("media_type", list(RESULT_FORMATS))
def test_the_row_cap_keeps_the_first_rows(odd_store, media_type):
    query = "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s"
    count = len(ODD_OBJECTS)
    exact, exact_cut = result(odd_store, query).serialize_limited(media_type, count)
    assert exact_cut is False
    assert exact == result(odd_store, query).serialize(media_type)
    body, cut = result(odd_store, query).serialize_limited(media_type, 3)
    assert cut is True
    assert values(body, media_type, "s") == [f"{EX}s{i:02}" for i in range(3)]


@pytest.mark.parametrize("media_type", list(RESULT_FORMATS))
@pytest.mark.parametrize("row_bytes", [100, 20_000, 100_000])
def test_the_byte_cap_keeps_whole_rows_however_the_writes_split_them(row_bytes, media_type):
    """pyoxigraph writes 8 KiB at a time: rows of 20 KB and 100 KB end in other writes than
    they began in."""
    store = ox.Store()
    for i in range(10):
        text = str(i) * (row_bytes - 3)  # "…" and a newline: one TSV row of row_bytes
        store.add(ox.Quad(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(EX + "p"), ox.Literal(text)))
    query = "SELECT ?o WHERE { ?s ?p ?o } ORDER BY ?o"
    for budget, rows in [(row_bytes * 3, 3), (row_bytes * 3 - 1, 2), (row_bytes // 2, 0)]:
        body, cut = result(store, query).serialize_limited(media_type, 1000, budget)
        assert cut is True
        assert values(body, media_type, "o") == [str(i) * (row_bytes - 3) for i in range(rows)]
    body, cut = result(store, query).serialize_limited(media_type, 1000, row_bytes * 10)
    assert cut is False
    assert len(values(body, media_type, "o")) == 10


TSV = b'?a\t?b\n1\t2\n"x\\ty"\t\n<http://e.org/3>\t_:b4\n'


def kept_rows(limit: int, budget: int) -> tuple[bytes, bool]:
    """What RowsWithin must keep of TSV: the header, then whole rows within both limits."""
    header, *rows = TSV.splitlines(keepends=True)
    kept, used = [header], 0
    for row in rows:
        if len(kept) - 1 == limit or used + len(row) > budget:
            return b"".join(kept), True
        kept.append(row)
        used += len(row)
    return b"".join(kept), False


@pytest.mark.parametrize(("limit", "budget"), [(10, 1000), (2, 1000), (10, 12), (1, 3), (3, 0)])
def test_rows_within_keeps_the_same_rows_however_the_writes_split_them(limit, budget):
    """Every way of cutting the text in three writes, the header included (a header split
    in two was taken for a row: the answer lost its variables)."""
    expected = kept_rows(limit, budget)
    for i in range(len(TSV) + 1):
        for j in range(i, len(TSV) + 1):
            kept = io.BytesIO()
            rows = RowsWithin(kept, limit, budget)
            try:
                for piece in (TSV[:i], TSV[i:j], TSV[j:]):
                    rows.write(piece)
                cut = False
            except AnswerFull:
                cut = True
            assert (kept.getvalue(), cut) == expected, (i, j)


def test_the_xml_check_finds_a_noncharacter_split_between_writes():
    checked = XmlChecked(io.BytesIO(), "bindings")
    checked.write("<literal>a\uffff".encode()[:-1])
    with pytest.raises(NotRepresentable, match="U\\+FFFF"):
        checked.write(b"\xbf</literal>")


@pytest.mark.parametrize("split", range(len(b"\t\t<oxprefix: xmlns")))
def test_the_xml_check_finds_an_unnamed_predicate_split_between_writes(split):
    """pyoxigraph writes an element without a name for a predicate such as
    ``http://e.org/1``: RDF/XML cannot carry it, wherever the writes cut it."""
    text = b'\t\t<oxprefix: xmlns:oxprefix="http://e.org/1">x</oxprefix:>'
    checked = XmlChecked(io.BytesIO(), "graph")
    with pytest.raises(NotRepresentable, match="predicate"):
        checked.write(text[:split])
        checked.write(text[split:])
    results = XmlChecked(io.BytesIO(), "bindings")  # in XML results, text like any other
    results.write(b"<literal>&lt;oxprefix: </literal>")
