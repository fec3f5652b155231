"""Takes a process off the network: the last line of defence for "no outbound requests".

The query checks (``santecyber.query_policy``) refuse SERVICE before a query runs. A worker
that serves the embedded store with no SERVICE allow-list needs no network at all, so it
also moves into a network namespace of its own, where the only interface is a loopback that
is down: even a query the checks had missed could not reach any host, 127.0.0.1 included.

Linux only. It needs root, or unprivileged user namespaces (then the process maps its own
user and group into the new namespace, so that its files stay its own).
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def leave_network() -> str:
    """Move this (single-threaded) process into a network namespace with no interface up.

    Returns '' when done, else what went wrong (the caller logs it and goes on: the query
    checks still refuse SERVICE).
    """
    if not sys.platform.startswith("linux"):
        return f"they stay on the network: namespaces are Linux only, not {sys.platform}"
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) == 0:
        return ""
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        return f"they stay on the network (unshare: {os.strerror(ctypes.get_errno())})"
    try:  # map our ids to themselves, so that the files we create are still ours
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    except OSError as error:  # off the network all the same, but say what may now fail
        return f"off the network, but user ids not mapped ({error}): temporary files may fail"
    return ""
