"""HTTP negotiation: Accept headers with q-values, aliases, format= overrides, and ETags.

Kept free of any store or server state so that every router (SPARQL, linked data, pages)
negotiates the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request

from santecyber.sparql import FORMAT_NAMES, GRAPH_FORMATS, RESULT_FORMATS, XML_TYPES

#: media types that clients send for a format we serve under its registered name
RESULT_ALIASES: dict[str, str] = {
    "application/json": "application/sparql-results+json",
    "text/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
    "application/sparql-results+csv": "text/csv",
    "application/sparql-results+tsv": "text/tab-separated-values",
    "text/tsv": "text/tab-separated-values",
}
#: how accepted_media_types marks a type the client refused with q=0
REFUSED = ";q=0"
GRAPH_ALIASES: dict[str, str] = {
    "application/json": "application/ld+json",
    "application/x-turtle": "text/turtle",
    "application/turtle": "text/turtle",
    "text/n3": "text/turtle",  # Turtle is N3
    "text/rdf+n3": "text/turtle",
    "text/plain": "application/n-triples",
    "application/xml": "application/rdf+xml",
    "text/xml": "application/rdf+xml",
    "text/x-nquads": "application/n-quads",
    "application/x-trig": "application/trig",
    # a short format= name meant for results, applied to a graph query
    "application/sparql-results+json": "application/ld+json",
    "application/sparql-results+xml": "application/rdf+xml",
}


#: every media type ``format=``/``output=`` may name: ours and their aliases
FORMAT_MEDIA_TYPES = {*RESULT_FORMATS, *GRAPH_FORMATS, *RESULT_ALIASES, *GRAPH_ALIASES}


class BadParameter(HTTPException):
    """A query parameter's value refused: 400 naming it, in the format of the page that was
    asked for (the app's handler, server/app.py)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


class BadFormat(ValueError):
    """A ``format=``/``output=`` value we do not know, or two that disagree (HTTP 400)."""


class NotAcceptable(Exception):
    """No format the client accepts can carry this answer; ``supported`` lists ours."""

    def __init__(
        self, supported: Sequence[str], asked: Sequence[str] = (), message: str = ""
    ) -> None:
        asked_text = f" (asked for {', '.join(asked)})" if asked else ""
        message = message or f"no acceptable format{asked_text}; supported: " + ", ".join(supported)
        super().__init__(message)
        self.supported = list(supported)


def accepted_media_types(accept: str | None) -> list[str]:
    """Media types of an Accept header, most preferred first; then the refused ones.

    Ties keep header order, except that a more specific type beats a wildcard. A type given
    q=0 is "not acceptable" (RFC 9110 12.5.1): it comes last, marked ``;q=0``, so that
    choose_media_type never picks it for a wildcard. An entry whose q is not a number is
    dropped.

    >>> accepted_media_types("text/csv;q=0.5, application/sparql-results+json")
    ['application/sparql-results+json', 'text/csv']
    >>> accepted_media_types("text/turtle;q=0, */*, text/csv")
    ['text/csv', '*/*', 'text/turtle;q=0']
    """
    if not accept:
        return []
    ranked, refused = [], []
    for position, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media_type, quality = fields[0].lower(), 1.0
        for parameter in fields[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        if not media_type:
            continue
        if quality > 0:
            specificity = _specificity(media_type)
            ranked.append((-quality, specificity, position, media_type))
        elif quality == 0:
            refused.append(media_type + REFUSED)
    return [media_type for *_, media_type in sorted(ranked)] + refused


def _specificity(media_range: str) -> int:
    """0 for a media type, 1 for ``type/*``, 2 for ``*/*``."""
    return 2 if media_range in ("*/*", "*") else 1 if media_range.endswith("/*") else 0


def _covers(media_range: str, media_type: str) -> bool:
    if media_range in ("*/*", "*"):
        return True
    if media_range.endswith("/*"):
        return media_type.startswith(media_range[:-1])
    return media_range == media_type


def format_override(values: Sequence[tuple[str, str]]) -> tuple[str | None, list[str]]:
    """The media types ``format=``/``output=`` ask for, and the parameter they came from.

    ``values``: the (parameter, value) pairs of both, in request order. A value is a short
    name or a media type (its parameters, such as ``;charset=``, dropped), or several
    separated by commas (then the ones we know); an empty one counts as not given. Values
    must agree, since SPARQLWrapper repeats one format under several spellings
    (``format=tsv&format=text/tab-separated-values&output=tsv…``). An unknown value, or two
    that disagree, raise BadFormat naming the parameters.

    >>> format_override([("format", "csv")]), format_override([("format", "")])
    (('format', ['text/csv']), (None, []))
    >>> format_override([("output", "text/csv;charset=utf-8"), ("format", "csv")])
    ('output', ['text/csv'])
    >>> try:
    ...     format_override([("format", "csv"), ("output", "json")])
    ... except BadFormat as error:
    ...     print(error)
    'format=csv' and 'output=json' ask for different formats: send one
    """
    source: str | None = None
    chosen: list[str] = []
    first = ""
    for parameter, value in values:
        pieces = [piece.split(";")[0].strip().lower() for piece in value.split(",")]
        if not any(pieces):
            continue
        types = [FORMAT_NAMES.get(p, p) for p in pieces]
        known = [t for t in types if t in FORMAT_MEDIA_TYPES]
        if not known:
            names = ", ".join(FORMAT_NAMES)
            raise BadFormat(
                f"parameter '{parameter}': {value!r} is not a known format:"
                f" use {names}, or a media type"
            )
        if source is None:
            source, chosen, first = parameter, known, f"{parameter}={value}"
        elif not _meanings(known) & _meanings(chosen):
            raise BadFormat(
                f"'{first}' and '{parameter}={value}' ask for different formats: send one"
            )
    return source, chosen


def _meanings(media_types: Sequence[str]) -> set[str]:
    """The registered types these may stand for (``application/json``: results or JSON-LD)."""
    return {m for t in media_types for m in (t, RESULT_ALIASES.get(t, t), GRAPH_ALIASES.get(t, t))}


def supported_for(form: str) -> list[str]:
    """The media types an answer of ``form`` ('bindings', 'boolean', 'graph') can take."""
    return list(GRAPH_FORMATS if form == "graph" else RESULT_FORMATS)


def default_for(form: str) -> str:
    return "text/turtle" if form == "graph" else "application/sparql-results+json"


def choose_media_type(
    accepted: Sequence[str],
    supported: Sequence[str],
    default: str,
    aliases: Mapping[str, str] | None = None,
) -> str:
    """The first of ``accepted`` (ordered by preference) that ``supported`` offers.

    No preference at all, or ``*/*``, gives ``default``; aliases (``application/json``…)
    map to the registered type of the same format (by default the aliases of results or of
    graphs, after ``default``). As RFC 9110 12.5.1 says, the most specific range that covers
    a type gives its quality:

    - a type refused with q=0 is never chosen for a wildcard (``text/csv;q=0, */*`` is
      anything but CSV), nor for a name: its own or an alias (``text/xml;q=0`` refuses XML
      results asked for as ``text/xml``, not as ``application/sparql-results+xml``);
    - a wildcard does not choose a type that a more specific range ranks lower
      (``text/*;q=0.9, text/csv;q=0.1`` prefers TSV).

    >>> choose_media_type(["text/html", "text/*"], ["text/csv", "text/turtle"], "text/csv")
    'text/csv'
    >>> choose_media_type(["application/json"], ["application/ld+json"], "text/turtle")
    'application/ld+json'
    >>> choose_media_type(["*/*", "text/csv;q=0"], ["text/csv", "text/turtle"], "text/csv")
    'text/turtle'
    >>> choose_media_type(["text/*", "text/csv"], ["text/csv", "text/turtle"], "text/csv")
    'text/turtle'
    """
    if not accepted:
        return default
    if aliases is None:
        aliases = GRAPH_ALIASES if default in GRAPH_FORMATS else RESULT_ALIASES
    named_refusals: list[str] = []
    if accepted[-1].endswith(REFUSED):  # they come last; most requests have none
        named_refusals = refusals(accepted)
    refused = [aliases.get(r, r) for r in named_refusals]
    ranges = [aliases.get(r, r) for r in accepted if not r.endswith(REFUSED)]
    for index, (written, media_range) in enumerate(zip(accepted, ranges, strict=False)):
        specificity = _specificity(media_range)
        if specificity == 0:  # a name: refused only by itself or by the name it stands for
            if media_range in supported and not {written, media_range} & set(named_refusals):
                return media_range
            continue
        # a wildcard: the default first, then in the order of ``supported``
        candidates: Sequence[str] = (default, *supported)
        if specificity == 1:
            candidates = [t for t in candidates if t.startswith(media_range[:-1])]
        ranked_lower = ranges[index + 1 :]  # sorted by quality: these have less
        for candidate in candidates:
            if any(_covers(r, candidate) and _specificity(r) <= specificity for r in refused):
                continue
            if any(_covers(r, candidate) and _specificity(r) < specificity for r in ranked_lower):
                continue  # its own range, further down, gives it a lower quality
            return candidate
    raise NotAcceptable(supported, accepted)


def refusals(accepted: Sequence[str]) -> list[str]:
    """The media ranges given q=0 in preferences from accepted_media_types."""
    return [t.removesuffix(REFUSED) for t in accepted if t.endswith(REFUSED)]


def negotiate(form: str, accepted: Sequence[str]) -> str:
    """The media type for an answer of ``form`` given the client's preferences.

    >>> negotiate("graph", ["*/*"]), negotiate("bindings", ["text/csv"])
    ('text/turtle', 'text/csv')
    """
    return choose_media_type(accepted, supported_for(form), default_for(form))


def prefers(accepted: Sequence[str], media_type: str, over: Sequence[str]) -> bool:
    """Whether ``media_type`` comes before every one of ``over`` in the client's preferences.

    >>> prefers(["text/html", "*/*"], "text/html", ["text/turtle"])
    True
    >>> prefers(["*/*"], "text/html", ["text/turtle"])
    False
    """
    for candidate in accepted:
        if candidate == media_type:
            return True
        if candidate in over or candidate == "*/*":
            return False
    return False


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2), as GET conditionals use.

    >>> etag_matches('"x", W/"v1-abc"', 'W/"v1-abc"'), etag_matches('"v2"', 'W/"v1"')
    (True, False)
    """
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


def negotiate_language(request: Request, languages: Sequence[str]) -> str:
    """``?lang=`` first (one of ``languages``, in any case), then the first language of
    Accept-Language that we speak, else the first of ``languages`` not refused with q=0
    (``languages[0]`` if all are); a bad ``lang=`` is 400 naming it.

    >>> from starlette.requests import Request as R
    >>> header = [(b"accept-language", b"de-DE, en;q=0.8, fr;q=0.5")]
    >>> languages = ["fr", "en"]
    >>> negotiate_language(R({"type": "http", "query_string": b"", "headers": header}), languages)
    'en'
    >>> asked = R({"type": "http", "query_string": b"lang=EN", "headers": []})
    >>> negotiate_language(asked, languages)
    'en'
    """
    values = request.query_params.getlist("lang")
    if values:
        asked = values[0].strip().lower()
        if len(values) > 1:
            raise BadParameter("parameter 'lang': given more than once")
        if asked not in languages:
            known = ", ".join(languages)
            raise BadParameter(f"parameter 'lang': {values[0][:20]!r} is not one of {known}")
        return asked
    tags = accepted_media_types(request.headers.get("accept-language"))
    for tag in tags:
        if tag.endswith(REFUSED) or tag == "*":  # refused ones come last; * adds nothing
            break
        if (primary := tag.split("-")[0]) in languages:
            return primary
    refused = set(refusals(tags))
    return next((language for language in languages if language not in refused), languages[0])


def content_type(media_type: str) -> str:
    """The Content-Type of an answer in ``media_type``: XML says its charset.

    Starlette adds ``charset=utf-8`` to ``text/*`` only; without it, clients may read an
    ``application/…+xml`` body as Latin-1 (R's SPARQL package, through RCurl, did).

    >>> content_type("application/rdf+xml"), content_type("application/n-triples")
    ('application/rdf+xml; charset=utf-8', 'application/n-triples')
    """
    return f"{media_type}; charset=utf-8" if media_type in XML_TYPES else media_type
