"""Which queries cost at most a constant per row they return: one triple pattern, no more.

A query whose WHERE clause is a single triple pattern (each variable in it once) is one scan
of a store index, and every step of the scan yields a row. Capping its rows therefore caps
its time, so the server may run such a query itself instead of handing it to a worker that
can be killed (server/query_service.py): lookups by IRI, the commonest query an endpoint
gets, skip a process round trip. Everything else, even what merely looks alike (a FILTER, a
second pattern, OFFSET, DISTINCT, ORDER BY, a FROM clause, a property path, a variable
used twice, which all scan rows they do not return), is not recognised and goes to a worker.

The recogniser reads SPARQL's terminals (strings, IRIs, prefixed names, comments) and
accepts nothing it does not know: a query it misreads is at worst sent to a worker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""(?P<skip>[\ \t\r\n]+|\#[^\n\r]*)  # SPARQL's spaces only: not U+00A0, U+2003…
    |(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    |(?P<literal>(?:'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
                   |\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
                   |'(?:[^'\\\n\r]|\\.)*'
                   |"(?:[^"\\\n\r]|\\.)*")
                 (?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*
                   |\^\^(?:<[^<>"{}|^`\\\x00-\x20]*>|(?:[A-Za-z](?:[\w.-]*[\w-])?)?:[\w-]*))?
                 |[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?(?![\w.:])
                 |(?:true|false)(?![\w:-]))
    |(?P<var>[?$]\w+)
    |(?P<name>(?:[A-Za-z](?:[\w.-]*[\w-])?)?:(?:[\w-](?:[\w.-]*[\w-])?)?)
    |(?P<word>[A-Za-z][\w.-]*)  # with the name's other characters: each is read once
    |(?P<punct>[{}.*])""",
    re.VERBOSE | re.DOTALL,
)
#: longer than a one-pattern query, even after a prologue of many prefixes: past it, the
#: query is not read at all, so that reading one costs 3 ms at most (a long string of escapes)
MAX_CHARS = 8192
MAX_TOKENS = 256
_SUBJECT = frozenset({"iri", "name", "var"})
_OBJECT = frozenset({"iri", "name", "var", "literal"})
#: a LIMIT that pyoxigraph takes (a longer one is its error to report, from a worker)
_LIMIT = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class OnePattern:
    """A query of one triple pattern, as ``one_pattern`` found it."""

    form: str  # SELECT, ASK or CONSTRUCT
    limit: int | None
    #: the offset just after the pattern's closing brace (its LIMIT and comments follow)
    end: int

    def capped(self, query: str, rows: int) -> str:
        """``query`` (the text this was read from) asking for at most ``rows`` rows.

        The row cap of an answer cuts what pyoxigraph writes, 8 KiB at a time: rows of a
        byte or two each (a variable left unbound) would be evaluated by the thousand
        past it. A LIMIT stops the evaluation itself.

        >>> query = "SELECT ?x { ?s ?p ?o } # any comment"
        >>> one_pattern(query).capped(query, 1001)
        'SELECT ?x { ?s ?p ?o } LIMIT 1001'
        """
        if self.form == "ASK" or (self.limit is not None and self.limit <= rows):
            return query  # an ASK stops at its first row
        return f"{query[: self.end]} LIMIT {rows}"


def is_one_pattern(query: str) -> bool:
    """Whether ``query`` is a SELECT, ASK or CONSTRUCT WHERE of one triple pattern.

    >>> is_one_pattern("SELECT ?p ?o WHERE { <https://e.org/x> ?p ?o } # a comment")
    True
    >>> is_one_pattern("PREFIX s: <http://schema.org/> ASK { ?x s:name 'Dedalus'@fr }")
    True
    >>> is_one_pattern("SELECT * { ?s ?p ?o } LIMIT 10")
    True
    >>> is_one_pattern("SELECT ?s { ?s ?p ?s }")  # a variable twice: a filter on a scan
    False
    >>> is_one_pattern("SELECT * { ?s ?p ?o } OFFSET 100000")  # skipped rows cost too
    False
    >>> is_one_pattern("SELECT ?o { <https://e.org/x> <https://e.org/p>+ ?o }")  # a path
    False
    """
    return one_pattern(query) is not None


def one_pattern(query: str) -> OnePattern | None:
    """``query`` as a query of one triple pattern, or None if it is not one (or not read)."""
    read = _tokens(query)
    if read is None:
        return None
    tokens, ends = read
    position = _after_prologue(tokens)
    form = _word(tokens, position)
    position += 1
    if form == "SELECT":
        if _at(tokens, position) == ("punct", "*"):
            position += 1
        else:
            start = position
            while _at(tokens, position)[0] == "var":
                position += 1
            if position == start:
                return None
        position += _word(tokens, position) == "WHERE"
    elif form == "ASK":
        position += _word(tokens, position) == "WHERE"
    elif form == "CONSTRUCT":
        if _word(tokens, position) != "WHERE":
            return None
        position += 1
    else:
        return None
    position = _one_pattern_group(tokens, position)
    if position < 0:
        return None
    found = OnePattern(form, None, ends[position - 1])
    if form != "ASK" and _word(tokens, position) == "LIMIT":
        kind, text = _at(tokens, position + 1)
        if kind != "literal" or not _LIMIT.fullmatch(text):
            return None
        found = OnePattern(form, int(text), found.end)
        position += 2
    return found if position == len(tokens) else None


def _tokens(query: str) -> tuple[list[tuple[str, str]], list[int]] | None:
    """(kind, text) of each token, comments and spaces left out, and the offset where each
    ends; None at anything else, or past MAX_CHARS or MAX_TOKENS (spaces and comments
    included)."""
    if len(query) > MAX_CHARS:
        return None
    tokens, ends = [], []
    position, end, read = 0, len(query), 0
    while position < end:
        match = _TOKEN.match(query, position)
        read += 1
        if match is None or read > MAX_TOKENS:
            return None
        kind = match.lastgroup
        assert kind is not None
        position = match.end()
        if kind != "skip":
            tokens.append((kind, match.group()))
            ends.append(position)
    return tokens, ends


def _at(tokens: list[tuple[str, str]], position: int) -> tuple[str, str]:
    return tokens[position] if position < len(tokens) else ("end", "")


def _word(tokens: list[tuple[str, str]], position: int) -> str:
    """The keyword at ``position`` in capitals ('' if none): keywords ignore case."""
    kind, text = _at(tokens, position)
    return text.upper() if kind == "word" else ""


def _after_prologue(tokens: list[tuple[str, str]]) -> int:
    """Where the query form starts, past BASE and PREFIX declarations."""
    position = 0
    while True:
        keyword = _word(tokens, position)
        if keyword == "BASE" and _at(tokens, position + 1)[0] == "iri":
            position += 2
        elif (
            keyword == "PREFIX"
            and _at(tokens, position + 1)[0] == "name"
            and _at(tokens, position + 1)[1].endswith(":")
            and _at(tokens, position + 2)[0] == "iri"
        ):
            position += 3
        else:
            return position


def _one_pattern_group(tokens: list[tuple[str, str]], position: int) -> int:
    """The position after ``{ subject predicate object [.] }``, or -1 if that is not there."""
    if _at(tokens, position) != ("punct", "{"):
        return -1
    subject, predicate, object_ = (_at(tokens, position + i) for i in (1, 2, 3))
    if subject[0] not in _SUBJECT or object_[0] not in _OBJECT:
        return -1
    if predicate[0] not in _SUBJECT and predicate != ("word", "a"):
        return -1
    variables = [text[1:] for kind, text in (subject, predicate, object_) if kind == "var"]
    if len(set(variables)) < len(variables):
        return -1
    position += 4
    position += _at(tokens, position) == ("punct", ".")
    if _at(tokens, position) != ("punct", "}"):
        return -1
    return position + 1
