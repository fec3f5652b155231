"""Request hardening for every route: security headers, size limits, no path traversal.

One pure ASGI middleware (it never buffers a response, so streamed dumps stay streamed):

- every response carries Content-Security-Policy (this site only; no inline script),
  X-Content-Type-Options: nosniff, Referrer-Policy and X-Frame-Options (and frame-ancestors);
- a request target longer than ``max_uri_bytes`` is answered 414 before any route sees it;
- a body larger than ``max_body_bytes`` is answered 413, from its Content-Length at once, or
  as soon as a streamed (chunked) body goes past the limit;
- a path with a ``..``/``.`` segment, a backslash or a NUL byte once percent-decoded (``%2e%2e``,
  ``..%2f``, ``%252e%252e`` decoded twice…) is answered 404 without reaching /static or /dumps;
- a path, or a query parameter, with a malformed percent-escape or bytes that are not UTF-8
  is answered 400 naming it (server/parameters.py), not read with U+FFFD in their place;
- a Host header that is missing (HTTP/1.1), repeated or not ``host[:port]`` is answered 400:
  routes write it into absolute URLs (service description, VoID, JSON-LD context), where a
  bad one was a 500 from the IRI parser.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI

from santecyber.config import ServerConfig
from santecyber.server.parameters import ProtocolError, check_target

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: the pages load their script, styles and images from this site only, and nothing frames them
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
#: bytes of path and query string; longer targets get 414 (POST long SPARQL queries)
DEFAULT_MAX_URI_BYTES = 8192
#: a Host value: a name or IPv4 address (RFC 3986 unreserved characters only: no
#: percent-encoding, user info or path) or an IPv6 literal, then an optional port
HOST = re.compile(rb"(?:[A-Za-z0-9._~-]+|\[([0-9A-Fa-f:.]+)\])(?::[0-9]{1,5})?")


class BodyTooLarge(Exception):
    """A streamed request body went past the limit."""


def traversal(raw_path: str) -> bool:
    """Whether a path tries to leave its folder, however it was percent-encoded.

    >>> traversal("/static/query.js"), traversal("/dumps/..%2f..%2fCURRENT")
    (False, True)
    >>> traversal("/static/%252e%252e/%252e%252e/pyproject.toml"), traversal("/id/a%5c..%5cb")
    (True, True)
    """
    path = raw_path
    for _ in range(3):  # a path decoded once by us and once by whatever serves the file
        if "\\" in path or "\x00" in path:
            return True
        if any(segment in ("..", ".") for segment in path.split("/")):
            return True
        decoded = unquote(path)
        if decoded == path:
            return False
        path = decoded
    return True


def host_problem(hosts: list[bytes], http_version: str) -> str | None:
    """Why the Host headers of a request cannot be used (None: they can).

    RFC 9112 3.2: HTTP/1.1 needs exactly one; its value must be an authority we can write
    into an absolute URL.

    >>> host_problem([b"data.example.org:8080"], "1.1"), host_problem([], "1.0")
    (None, None)
    >>> host_problem([b"a%zz"], "1.1")
    "invalid Host header 'a%zz': expected a host name or address and optional port"
    >>> host_problem([b"[0:::::]"], "1.1") is not None, host_problem([b"a", b"a"], "1.1")
    (True, '2 Host headers: send exactly one')
    """
    if len(hosts) != 1:
        if not hosts:
            return "missing Host header" if http_version == "1.1" else None
        return f"{len(hosts)} Host headers: send exactly one"
    match = HOST.fullmatch(hosts[0])
    if match is None or (match[1] is not None and not _ipv6(match[1])):
        shown = hosts[0].decode("latin-1")
        return f"invalid Host header {shown!r}: expected a host name or address and optional port"
    return None


def _ipv6(text: bytes) -> bool:
    try:
        ipaddress.IPv6Address(text.decode("ascii"))
    except ValueError:
        return False
    return True


def with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    return [*headers, *((n, v) for n, v in SECURITY_HEADERS if n not in present)]


async def send_error(send: Send, status: int, message: str) -> None:
    """A short JSON error like the SPARQL endpoint's, with the security headers."""
    body = json.dumps({"error": message, "status": status}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        # sent before the CORS middleware: a notebook on another site should read why too
        (b"access-control-allow-origin", b"*"),
    ]
    if status == 413:  # the rest of the body was not read: the connection cannot be reused
        headers.append((b"connection", b"close"))
    await send(
        {"type": "http.response.start", "status": status, "headers": with_security_headers(headers)}
    )
    await send({"type": "http.response.body", "body": body})


class SecurityMiddleware:
    """Headers on every HTTP response; bad Host, 414, 413, traversal refused before the routes."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_uri_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_uri_bytes = max_uri_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hosts: list[bytes] = []
        declared = b""
        for name, value in scope.get("headers", ()):
            if name == b"host":
                hosts.append(value)
            elif name == b"content-length":
                declared = value
        problem = host_problem(hosts, scope.get("http_version", "1.1"))
        if problem is not None:
            await send_error(send, 400, problem)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        target = len(raw_path) + len(scope.get("query_string", b""))
        if target > self.max_uri_bytes:
            message = (
                f"request target of {target} bytes exceeds the limit of {self.max_uri_bytes}:"
                " send long queries with POST"
            )
            await send_error(send, 414, message)
            return
        path = raw_path.decode("latin-1")
        if traversal(path) or traversal(scope["path"]):
            await send_error(send, 404, "no such path")
            return
        try:  # every route reads the path and the parameters as sent, or not at all
            check_target(raw_path, scope.get("query_string", b""))
        except ProtocolError as error:
            await send_error(send, error.status, str(error))
            return
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            message = f"request body of {int(declared)} bytes exceeds the limit of"
            await send_error(send, 413, f"{message} {self.max_body_bytes}")
            return

        started = False
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        async def secured_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = with_security_headers(list(message.get("headers", [])))
            await send(message)

        try:
            await self.app(scope, limited_receive, secured_send)
        except BodyTooLarge:
            if started:
                raise
            message = f"request body exceeds the limit of {self.max_body_bytes} bytes"
            await send_error(send, 413, message)


def max_uri_bytes() -> int:
    """SANTECYBER_MAX_URI_BYTES, at least 1024 (default 8192)."""
    text = os.environ.get("SANTECYBER_MAX_URI_BYTES", str(DEFAULT_MAX_URI_BYTES))
    if not text.isdigit() or int(text) < 1024:
        raise ValueError(f"SANTECYBER_MAX_URI_BYTES must be an integer ≥ 1024, got {text!r}")
    return int(text)


def install_security(app: FastAPI, config: ServerConfig) -> None:
    """Wrap the whole app (outermost middleware): add it after every other middleware."""
    app.add_middleware(
        SecurityMiddleware, max_body_bytes=config.max_body_bytes, max_uri_bytes=max_uri_bytes()
    )
