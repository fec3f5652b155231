"""Live reloads: tell a running server to serve the build that CURRENT now names.

The query service already follows CURRENT: every request reads it (``QueryService.refresh``)
and plans its query against one version, which the worker opens read-only; the previous store
is kept on disk (``BuildDirectory.publish``), so a query in flight finishes on the data it
started on while new requests see the new build. A reload only makes that switch happen now
rather than on the next request, and says which version is served:

- ``POST /admin/reload`` with ``Authorization: Bearer $SANTECYBER_ADMIN_TOKEN`` (the route
  answers 404 when the server was started without that variable);
- ``SIGHUP`` to the server process;
- ``santecyber reload [--build] [--url URL | --pid PID]`` does one of these (after a build).

A reload that cannot open the new store leaves the old one served and says why (409).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import signal
import threading
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from types import FrameType
from typing import Protocol

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

LOG = logging.getLogger("santecyber.reload")
TOKEN_VARIABLE = "SANTECYBER_ADMIN_TOKEN"


class Refreshable(Protocol):
    """What a reload needs of the query service (``QueryService`` fits)."""

    version: str
    #: why the build CURRENT names could not be opened ('' if it is served)
    unopened: str

    @property
    def in_flight(self) -> int: ...

    def refresh(self) -> str: ...


@dataclass(frozen=True)
class Outcome:
    previous: str
    version: str
    changed: bool
    #: queries that were running or waiting when the switch happened (they finish on ``previous``)
    in_flight: int


def reload_service(service: Refreshable) -> Outcome:
    """Switch ``service`` to the version CURRENT names; raises OSError if it cannot be opened."""
    previous = service.version
    in_flight = service.in_flight
    version = service.refresh()
    if service.unopened:
        raise OSError(service.unopened)
    LOG.warning("reload: %s → %s (%d queries in flight)", previous, version, in_flight)
    return Outcome(previous, version, version != previous, in_flight)


def _authorised(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def install_reload(app: FastAPI, service: Refreshable, token: str | None = None) -> None:
    """Add ``POST /admin/reload`` (if a token is set) and the SIGHUP handler."""
    token = token if token is not None else os.environ.get(TOKEN_VARIABLE) or None

    async def admin_reload(request: Request) -> Response:
        if token is None:
            return JSONResponse({"error": "not found", "status": 404}, status_code=404)
        if not _authorised(request, token):
            return JSONResponse(
                {"error": "a valid admin token is required", "status": 401},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="santecyber admin"'},
            )
        try:
            outcome = reload_service(service)
        except OSError as error:
            message = f"the new build cannot be opened, {service.version} stays served: {error}"
            return JSONResponse({"error": message, "status": 409}, status_code=409)
        return JSONResponse(asdict(outcome), headers={"Cache-Control": "no-store"})

    app.add_api_route("/admin/reload", admin_reload, methods=["POST"], include_in_schema=False)
    install_sighup(service)


def install_sighup(service: Refreshable) -> None:
    """SIGHUP reloads (only possible from the main thread, where ``santecyber serve`` runs)."""
    if threading.current_thread() is not threading.main_thread():
        return

    def reload_logged() -> None:
        try:
            reload_service(service)
        except OSError as error:
            LOG.error("reload failed, %s stays served: %s", service.version, error)

    def on_sighup(signum: int, frame: FrameType | None) -> None:
        try:  # run it on the event loop, between requests, not inside whatever was interrupted
            asyncio.get_running_loop().call_soon_threadsafe(reload_logged)
        except RuntimeError:
            reload_logged()

    signal.signal(signal.SIGHUP, on_sighup)


class ReloadFailed(Exception):
    """The server could not be told, or refused."""


def request_reload(url: str, token: str, timeout: float = 30) -> Outcome:
    """POST /admin/reload on the server at ``url``; raises ReloadFailed with the reason."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        response = httpx.post(url.rstrip("/") + "/admin/reload", headers=headers, timeout=timeout)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as error:
        reason = str(error) or type(error).__name__  # some httpx errors have no message
        raise ReloadFailed(f"cannot reach {url}: {reason}") from None
    if response.is_error:
        detail = response.text
        with contextlib.suppress(ValueError, KeyError, TypeError):
            detail = response.json()["error"]
        raise ReloadFailed(f"{url} answered {response.status_code}: {detail}") from None
    try:
        return Outcome(**response.json())
    except (ValueError, TypeError) as error:
        raise ReloadFailed(f"{url} answered what is not a reload outcome: {error}") from None


def signal_reload(pid: int) -> None:
    """Send SIGHUP to ``pid``, which must be a running ``santecyber serve``.

    SIGHUP ends most other processes, -1 would reach every process and 0 our own group, and a
    mistyped or reused PID is someone else's: so the target's command line is checked first.
    The signal goes through a pidfd opened before that check, so if the process ends and its
    PID is reused meanwhile, nothing is sent to the newcomer.
    """
    if pid < 2:
        raise ReloadFailed(f"--pid {pid}: not a process id (it must be 2 or more)")
    try:
        handle = os.pidfd_open(pid)
    except (ProcessLookupError, OverflowError):
        raise ReloadFailed(f"--pid {pid}: no such process") from None
    except (AttributeError, OSError) as error:  # no pidfd here (macOS, old kernels, sandboxes)
        why = f"cannot signal it safely here ({error}); use --url"
        raise ReloadFailed(f"--pid {pid}: {why}") from None
    try:
        command = _command_line(pid)
        if not _is_server(command):
            shown = " ".join(command) or "no command line"
            raise ReloadFailed(f"--pid {pid} is not a `santecyber serve` process ({shown})")
        signal.pidfd_send_signal(handle, signal.SIGHUP)
    except ProcessLookupError:
        raise ReloadFailed(f"--pid {pid}: no such process") from None
    except PermissionError:
        raise ReloadFailed(f"--pid {pid}: not allowed to signal that process") from None
    finally:
        os.close(handle)


def _command_line(pid: int) -> list[str]:
    """The arguments ``pid`` was started with ([] for a zombie); ProcessLookupError if gone."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        raise ProcessLookupError(pid) from None
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def _is_server(command: list[str]) -> bool:
    """``santecyber serve …`` or ``python -m santecyber.cli serve …``."""
    return any(
        (Path(word).name == "santecyber" or word == "santecyber.cli") and following == "serve"
        for word, following in pairwise(command)
    )
