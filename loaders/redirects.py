"""The redirects table, ``data/redirects.yaml``: IRIs that moved, old → new.

The build checks it against the graph and publishes it beside the dumps
(:func:`santecyber.dumps.stage_dumps`); the server answers 301 from the published copy.
"""

from __future__ import annotations

import re
from pathlib import Path

from santecyber.errors import InputError, Location, Problem
from santecyber.loaders.yaml_files import locate, read_yaml
from santecyber.namespaces import BASE

FILE = "redirects.yaml"
_IRI_PATH = re.compile(
    r"^(?:id|vocab|graph)(?:/[a-z0-9][a-z0-9.\-]*)+$|^ontology(?:/[a-z0-9.\-]+)?$"
)


def _iri_path(value: object) -> str | None:
    text = str(value).strip()
    if text.startswith(BASE):
        text = text[len(BASE) :]
    text = text.strip("/")
    return text if _IRI_PATH.match(text) and ".." not in text else None


def load_redirects(path: Path, resources: set[str] | None = None) -> dict[str, str]:
    """Read ``redirects.yaml`` (old → new, IRIs or paths like ``id/facility/old``); may be empty.

    Every problem is an InputError at its line. With ``resources`` (the IRI paths of the
    graph), a redirect must lead from an IRI the graph no longer has (else it would hide a
    live resource) to one it has, in one step (no chain, no loop).
    """
    if not path.exists():
        return {}
    data = read_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError([Problem(Location.of(path, 1), "expected a mapping old IRI → new IRI")])
    table: dict[str, str] = {}
    problems = []
    for old, new in data.items():
        at = locate(path, data, (old,))
        old_path, new_path = _iri_path(old), _iri_path(new)
        if old_path is None or new_path is None:
            problems.append(Problem(at, f"not one of our IRIs: {old!r} → {new!r}"))
        elif old_path == new_path:
            problems.append(Problem(at, f"redirects to itself: {old!r}"))
        elif resources is not None and old_path in resources:
            problems.append(Problem(at, f"{old_path} is in the graph: a redirect would hide it"))
        elif resources is not None and new_path not in resources:
            problems.append(Problem(at, f"redirects to {new_path}, which is not in the graph"))
        else:
            table[old_path] = new_path
    for old_path, new_path in table.items():
        if new_path in table:
            at = locate(path, data, (next(k for k in data if _iri_path(k) == old_path),))
            problems.append(
                Problem(at, f"{old_path} → {new_path} → {table[new_path]}: point at the last one")
            )
    if problems:
        raise InputError(problems)
    return table
