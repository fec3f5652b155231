"""Read YAML with the line and column of every key and item, for errors that name the place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError

from santecyber.errors import InputError, Location, Problem, decode_utf8, line_column, not_a_file


class _DatesAsText(RoundTripConstructor):
    """Keep timestamps as text so that record models check them and name their line."""


_DatesAsText.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda self, node: self.construct_scalar(node)
)


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; syntax errors become an InputError at the file's line."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _DatesAsText
    yaml.allow_duplicate_keys = False
    if (why := not_a_file(path, "YAML file")) is not None:
        raise InputError([Problem(Location.of(path), why)])
    try:
        content = path.read_bytes()
    except OSError as error:
        raise InputError([Problem(Location.of(path), f"cannot read: {error}")]) from None
    text = decode_utf8(path, content)
    try:
        return yaml.load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        reason = error.problem or error.context or "invalid YAML"
        raise InputError([Problem(Location.of(path, line, column), f"YAML: {reason}")]) from None
    except RecursionError:  # ruamel.yaml reads nested collections recursively
        message = "YAML: collections nested too deeply to read (a few hundred levels)"
        raise InputError([Problem(Location.of(path), message)]) from None
    except ReaderError as error:  # a character YAML does not allow (NUL, other controls)
        line, column = line_column(text, error.position)
        code = error.character if isinstance(error.character, int) else ord(error.character)
        message = f"YAML: the character U+{code:04X} is not allowed in YAML"
        raise InputError([Problem(Location.of(path, line, column), message)]) from None


def locate(path: Path, document: Any, loc: tuple[int | str, ...]) -> Location:
    """Line and column of the value at ``loc`` (keys and indices), or of its nearest parent."""
    node, line, column = document, 0, 0
    for step in loc:
        if isinstance(node, CommentedMap) and step in node:
            line, column = node.lc.value(step)
            node = node[step]
        elif isinstance(node, CommentedSeq) and isinstance(step, int) and step < len(node):
            line, column = node.lc.item(step)
            node = node[step]
        else:
            if isinstance(node, (CommentedMap, CommentedSeq)) and line == 0:
                line, column = node.lc.line, node.lc.col
            break
    return Location.of(path, line + 1, column + 1)


def problems_of(
    path: Path, document: Any, error: ValidationError, prefix: tuple = ()
) -> list[Problem]:
    """Turn pydantic's errors into problems at the lines they concern."""
    problems = []
    for item in error.errors():
        loc = prefix + tuple(item["loc"])
        field = ".".join(str(part) for part in item["loc"]) or "record"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key (see docs/records.md for the keys a record takes)"
        elif item["type"] == "missing":
            message = "required key is missing"
        problems.append(Problem(locate(path, document, loc), f"{field}: {message}"))
    return problems
