"""Strict decoding of what a request sends as text: query strings, form bodies, paths.

Starlette and uvicorn replace bytes that are not UTF-8 with U+FFFD and keep malformed
percent-escapes, so another query ran or another IRI was looked up than the one sent; here
either is a 400 naming the parameter (or the path).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

#: a ``%`` that does not start a ``%XX`` escape
BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
#: a ``%`` that does not start the escape of an ASCII byte
NOT_ASCII_ESCAPE = re.compile(rb"%(?![0-7][0-9A-Fa-f])")


class ProtocolError(Exception):
    """A request the protocol does not allow, with the status and message to send."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def decode_utf8(data: bytes, what: str, where: str = "") -> str:
    """``data`` as UTF-8, else 400 naming ``what`` and the first bad byte (never U+FFFD,
    which would run another query than the one sent)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = f"byte 0x{data[error.start]:02X} at offset {error.start}{where}"
        raise ProtocolError(400, f"{what} is not valid UTF-8 ({byte})") from None


def percent_decode(encoded: bytes, what: str, plus_is_space: bool = True) -> str:
    """One name or value of ``application/x-www-form-urlencoded`` (or, with
    ``plus_is_space=False``, a URL path), strictly.

    Every ``%`` must start a ``%XX`` escape, and the decoded bytes (raw UTF-8 too, as
    browsers send it) must be UTF-8; else 400 naming ``what``.
    """
    bad = BAD_ESCAPE.search(encoded)
    if bad is not None:
        shown = encoded[bad.start() : bad.start() + 3].decode("latin-1")
        raise ProtocolError(
            400,
            f"{what} has a malformed percent-escape {shown!r}"
            f" at offset {bad.start()} of its encoded value",
        )
    decoded = unquote_to_bytes(encoded.replace(b"+", b" ") if plus_is_space else encoded)
    return decode_utf8(decoded, what, " of its decoded value")


def parse_parameters(encoded: bytes) -> list[tuple[str, str]]:
    """``name=value&…``, from a query string or a form body, decoded strictly.

    Starlette's query_params replace bad bytes with U+FFFD and keep malformed escapes, so a
    different query ran, or the error blamed the SPARQL; here either is a 400 naming the
    parameter.

    >>> parse_parameters(b"query=ASK%7B%7D&format=csv&&x&lang=%C3%A9t%C3%A9+1")
    [('query', 'ASK{}'), ('format', 'csv'), ('x', ''), ('lang', 'été 1')]
    """
    pairs = []
    for field in encoded.split(b"&"):
        if not field:
            continue
        raw_name, _, raw_value = field.partition(b"=")
        if b"%" not in field and field.isascii():  # nothing to check: 0.2 µs, not 2
            pairs.append(
                (raw_name.decode().replace("+", " "), raw_value.decode().replace("+", " "))
            )
            continue
        name = percent_decode(raw_name, "a parameter name")
        pairs.append((name, percent_decode(raw_value, f"parameter {name!r}")))
    return pairs


def check_target(raw_path: bytes, query_string: bytes) -> None:
    """ProtocolError (400) unless the path and every query parameter decode strictly.

    >>> check_target(b"/id/attack/%C3%A9", b"lang=fr")
    >>> for target in ((b"/id/%FF", b""), (b"/", b"query=%ZZ")):
    ...     try:
    ...         check_target(*target)
    ...     except ProtocolError as error:
    ...         print(error.status, error)
    400 the path is not valid UTF-8 (byte 0xFF at offset 4 of its decoded value)
    400 parameter 'query' has a malformed percent-escape '%ZZ' at offset 0 of its encoded value
    """
    for encoded in (raw_path, query_string):
        # ASCII with ASCII escapes only always decodes: the usual case, checked in 1 µs
        if not (encoded.isascii() and NOT_ASCII_ESCAPE.search(encoded) is None):
            break
    else:
        return
    percent_decode(raw_path, "the path", plus_is_space=False)
    parse_parameters(query_string)
