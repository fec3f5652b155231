"""What a query may do here, decided before it runs: read only, no outbound request.

Two layers. ``check_allowed`` is cheap enough for every request: a lexer blanks strings,
IRIs and comments, then refuses updates, SERVICE outside the operator's allow-list, and
nesting deep enough to overflow the parser's stack. ``check_no_hidden_service`` runs just
before a query does (in the worker that can be killed): it asks pyoxigraph's own parser
whether any other spelling of "service" in the text is the keyword, so that a lexer gap
can never become a request to the network.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from santecyber.errors import line_column
from santecyber.namespaces import PREFIXES


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


READ_ONLY_MESSAGE = "SPARQL Update (including LOAD) is not allowed: this endpoint is read-only"
#: where the first keyword (the query's form) is looked for; past it the form is left unclear
#: and the worker decides (a prologue of prefixes is far shorter)
PROLOGUE_CHARS = 8192
#: pyoxigraph's parser recurses per bracket and overflows its stack near 3,000 levels
MAX_NESTING = 500

# The terminals in which SERVICE is not a keyword, after SPARQL 1.1's grammar (section
# 19.8): long and short strings with their escapes, IRIs, comments (to the end of a line,
# \r or \n), and a backslash escape in a prefixed name (id:a\#b), which is blanked with
# the name so that its '#' or quote starts no comment or string.
_NOT_CODE = re.compile(
    r"'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''"
    r'|"""(?:(?:"|"")?(?:[^"\\]|\\.))*"""'
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r"|<[^<>\"{}|^`\\\x00-\x20]*>"
    r"|#[^\n\r]*"
    r"|\\.",
    re.DOTALL,
)
# not the end of a name (ak:police-service, ex:a.service); "?o.SERVICE" is left to the worker
_SERVICE = re.compile(
    r"(?<![?$\w:\-])(?<![\w\-]\.)SERVICE(?![\w:-])(?:\s+SILENT(?![\w:-]))?", re.IGNORECASE
)
#: the word anywhere: in a string, an IRI, a comment, a name, or the keyword
_SERVICE_WORD = re.compile(r"service", re.IGNORECASE)
_IRI = re.compile(r"\s*<([^<>\"{}|^`\\\x00-\x20]*)>")
# After blanking, a prologue is only keywords and prefix names; the next word gives the form.
_FIRST_KEYWORD = re.compile(r"\A(?:\s*(?:BASE|PREFIX\s*[^\s:]*:))*\s*([A-Za-z]+)", re.IGNORECASE)
_FORMS = {"SELECT": "bindings", "ASK": "boolean", "CONSTRUCT": "graph", "DESCRIBE": "graph"}
_UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
)
_BRACKETS = re.compile(r"[{}()\[\]]")
#: a sentence among pyoxigraph's expected tokens: the real reason
_SEMANTIC = re.compile(r"Prefix not found|The [A-Z]+ [^,\[\]]+")
#: the prefixed name just before an error: its prefix
_PREFIXED_NAME = re.compile(r"([A-Za-z][\w.-]*|):[^\s]*$")
#: a prefix as declared, and a prefixed name as used, in a query's code (strings, IRIs and
#: comments blanked, where a colon only ever ends a prefix)
_DECLARED_PREFIX = re.compile(r"(?i)\bPREFIX\s+([A-Za-z][\w.-]*)?:")
_USED_PREFIX = re.compile(r"(?<![\w?$-])([A-Za-z][\w.-]*)?:")
#: characters before an error searched for it: the search costs the square of its length
#: (0.7 s on 8,000 characters, on the event loop), and a prefix is never that long
_NAME_WINDOW = 256
_POSITION = re.compile(r"line (\d+) between columns (\d+)|at line (\d+) column (\d+)|(\d+):(\d+)")


@dataclass(frozen=True)
class ServiceClause:
    """A SERVICE keyword as the lexer sees it: where it is, and its endpoint if an IRI."""

    start: int
    end: int
    endpoint: str | None


def code_only(query: str) -> str:
    """``query`` with strings, IRIs and comments blanked, every offset kept.

    >>> code_only('ASK { <x:s> ?p "# not a comment" } # a comment')
    'ASK {       ?p                   }            '
    """
    return _NOT_CODE.sub(lambda m: " " * len(m.group(0)), query)


def query_form_of(query: str) -> str | None:
    r"""'bindings', 'boolean', 'graph' or 'update' from the first keyword; None if unclear.

    Cheap enough to run before anything touches the store, so that content negotiation
    and refusals happen first.

    >>> query_form_of("PREFIX ask: <x:> # SELECT\nCONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    'graph'
    >>> query_form_of("load <http://example.org/data.ttl>")
    'update'
    """
    return _form_of_code(code_only(query))


def _form_of_code(code: str) -> str | None:
    match = _FIRST_KEYWORD.match(code)
    if not match:
        return None
    keyword = match.group(1).upper()
    if keyword in _UPDATE_KEYWORDS:
        return "update"
    return _FORMS.get(keyword)


def is_update(text: str) -> bool:
    """Whether ``text`` parses as SPARQL Update (parsed only, never run)."""
    from rdflib.plugins.sparql.parser import parseUpdate  # slow import: only when needed

    try:
        parseUpdate(text)
    except Exception:  # any parse failure means: not an update
        return False
    return True


def service_clauses(query: str) -> list[ServiceClause]:
    r"""Every SERVICE keyword the lexer finds, with its endpoint (None unless a plain IRI).

    >>> [c.endpoint for c in service_clauses("SELECT * { SERVICE SILENT <http://e.org/q> {} }")]
    ['http://e.org/q']
    >>> [c.endpoint for c in service_clauses('SELECT * { ?s ?p "SERVICE <x:y>" SERVICE ?at {} }')]
    [None]
    >>> [c.start for c in service_clauses(r"SELECT * { ?s id:a\#b ?o SERVICE <x:y> {} }")]
    [25]
    """
    return list(_clauses(query, code_only(query)))


def _clauses(query: str, code: str) -> Iterator[ServiceClause]:
    for match in _SERVICE.finditer(code):
        iri = _IRI.match(query, match.end())
        yield ServiceClause(match.start(), match.end(), iri.group(1) if iri else None)


def check_allowed(query: str, allowed_services: Sequence[str] = ()) -> str | None:
    """Refuse updates and federation before anything runs; the query's form if allowed.

    SERVICE is refused unless its endpoint is one of ``allowed_services`` (an operator's
    allow-list, empty by default: no outbound requests at all). This runs on the server's
    event loop for every request, so the text is blanked once and only searched for
    SERVICE when the word is in it; the nesting is left to ``check_nesting`` in the worker.
    """
    form = _form_of_code(code_only(query[:PROLOGUE_CHARS]))
    if form == "update":
        raise QueryRefused(READ_ONLY_MESSAGE, 403)
    if not _SERVICE_WORD.search(query):
        return form
    for clause in _clauses(query, code_only(query)):
        if clause.endpoint is None or clause.endpoint not in allowed_services:
            where = (
                f" <{clause.endpoint}>" if clause.endpoint else " with a variable or prefixed name"
            )
            raise QueryRefused(
                f"SERVICE{where} is not allowed: this endpoint makes no outbound requests"
                + (" except to its allow-list" if allowed_services else ""),
                403,
            )
    return form


def check_nesting(query: str) -> None:
    """Refuse brackets nested past MAX_NESTING, counted over the whole text (strings too:
    a lexer gap must not let a query crash the parser), with the place it goes too deep.

    >>> check_nesting("ASK " + "{" * 600 + "}" * 600)
    Traceback (most recent call last):
    ...
    santecyber.query_policy.QuerySyntaxError: brackets nested deeper than 500
    """
    if sum(query.count(opening) for opening in "{([") <= MAX_NESTING:
        return  # cannot nest deeper than it has brackets: no walk through the text
    depth = 0
    for match in _BRACKETS.finditer(query):
        depth = depth + 1 if match.group() in "{([" else max(depth - 1, 0)
        if depth > MAX_NESTING:
            line, column = line_column(query, match.start())
            raise QuerySyntaxError(f"brackets nested deeper than {MAX_NESTING}", line, column)


def check_no_hidden_service(query: str) -> None:
    """Refuse a SERVICE keyword that the lexer took for a string, IRI, comment or name.

    Each other spelling of "service" gets its last letter turned into "_" (which breaks the
    keyword and keeps a name a name) and each SERVICE the lexer found becomes GRAPH (same
    shape, no request; those were already checked against the allow-list). pyoxigraph
    then parses that text on an empty store. If it fails at or after a changed word, the
    query is refused: 403 when rdflib's parser reads the original as valid SPARQL (so the
    change broke a keyword), else 400 with pyoxigraph's message, as the original would get.
    """
    words = list(_SERVICE_WORD.finditer(query))
    if not words:  # most queries: nothing to look for
        return
    clauses = service_clauses(query)
    found = {clause.start for clause in clauses}
    hidden = [word for word in words if word.start() not in found]
    if not hidden:
        return
    text = list(query)
    for word in hidden:
        text[word.end() - 1] = "_"
    for clause in clauses:
        text[clause.start : clause.end] = "GRAPH".ljust(clause.end - clause.start)
    try:
        ox.Store().query("".join(text), prefixes=PREFIXES)
    except SyntaxError as error:
        failure = syntax_error(error, query)
        at = _offset(query, failure.line, failure.column)
        if at is not None and at < hidden[0].start():
            return  # the original fails there too: the run reports it
        if _SEMANTIC.search(str(error)):
            raise failure from None  # an undeclared prefix…: the original's, refused as such
        if _parses_elsewhere(query):
            raise QueryRefused(
                f"SERVICE at line {failure.line}, column {failure.column} is not allowed:"
                " this endpoint makes no outbound requests",
                403,
            ) from None
        raise failure from None


def syntax_error(error: SyntaxError, query: str = "") -> QuerySyntaxError:
    """pyoxigraph's SyntaxError with its line and column, in words an analyst can act on.

    pyoxigraph lists every character class it expected; a semantic error (an undeclared
    prefix, an unbound variable) hides among them. That sentence is what is kept, with the
    prefix named; otherwise the list is shortened.

    >>> failure = syntax_error(
    ...     SyntaxError("error at 1:23: expected one of Prefix not found, ['%']"),
    ...     "SELECT * { ?s nosuch:p ?o }",
    ... )
    >>> print(failure.line, failure.column, failure)
    1 23 undeclared prefix 'nosuch:': declare it with PREFIX nosuch: <…>
    """
    message = str(error)
    match = _POSITION.search(message)
    line, column = ([int(g) for g in match.groups() if g is not None] if match else [0, 0])[:2]
    message = re.sub(r"^error at \d+:\d+: ", "", message)
    sentence = _SEMANTIC.search(message)
    at = _offset(query, line, column)
    prefix = None
    if sentence and sentence.group(0) == "Prefix not found":
        name = _PREFIXED_NAME.search(query[max(0, at - _NAME_WINDOW) : at]) if at else None
        prefix = name.group(1) if name else ""
    elif not sentence and at is not None:
        prefix = _undeclared_prefix(query, at)
    if prefix is not None:
        message = f"undeclared prefix {prefix + ':'!r}: declare it with PREFIX {prefix}: <…>"
    elif sentence:
        message = sentence.group(0)
    elif len(message) > 300:  # keep the gist of the list of expected characters
        message = message[:300].rsplit(",", 1)[0] + ", …"
    return QuerySyntaxError(message, line, column)


def _undeclared_prefix(query: str, at: int) -> str | None:
    """The first prefix used before offset ``at`` and never declared, if any.

    pyoxigraph does not always say so: ``?s ex:p ?o`` fails with "expected OPTIONAL".

    >>> _undeclared_prefix("PREFIX sc: <x:> SELECT * { ?s sc:a ex:p ?o }", 42)
    'ex'
    >>> _undeclared_prefix("PREFIX ex: <x:> SELECT * { ?s ex:p ?o . ?s a }", 45) is None
    True
    >>> _undeclared_prefix("SELECT * { ?s a sc:Attack ; } LIMT 3", 36) is None  # predeclared
    True
    >>> _undeclared_prefix("SELECT * { ?s ?p ?o.ex:s ?p ?z }", 31)  # not inside ?o
    'ex'
    """
    code = code_only(query)
    declared = {m.group(1) or "" for m in _DECLARED_PREFIX.finditer(code)} | set(PREFIXES)
    for used in _USED_PREFIX.finditer(code, 0, at + 1):
        if (used.group(1) or "") not in declared:
            return used.group(1) or ""
    return None


def _parses_elsewhere(query: str) -> bool:
    from rdflib.plugins.sparql.parser import parseQuery  # slow import: only when needed

    try:
        parseQuery(query)
    except Exception:  # any parse failure means: not valid SPARQL for rdflib either
        return False
    return True


def _offset(text: str, line: int, column: int) -> int | None:
    """The character offset of a 1-based line and column (pyoxigraph counts characters)."""
    if line < 1 or column < 1:
        return None
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return None
    return start + column - 1
