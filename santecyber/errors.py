"""Errors about bad input that name where the problem is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Location:
    """A place in an input file; line and column count from 1 (0: unknown)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        place = self.file
        if self.line:
            place += f":{self.line}"
            if self.column:
                place += f":{self.column}"
        return place

    @classmethod
    def of(cls, path: Path | str, line: int = 0, column: int = 0) -> Location:
        return cls(display_path(path), line, column)


def display_path(path: Path | str) -> str:
    """The path relative to the working directory when it is below it, else as given."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # not below it; a symbolic link loop
        return str(path)


@dataclass(frozen=True, order=True)
class Problem:
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class InputError(Exception):
    """Bad input: one or more problems, each with its place. Nothing was changed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(map(str, self.problems)))


def not_a_file(path: Path, what: str = "file") -> str | None:
    """Why ``path`` is not a ``what`` to read, or None when it is a regular file.

    Asked before opening it: opening a FIFO waits for a writer (for ever), and a missing file
    and a directory, both "no such file" to a check with ``is_file``, call for other fixes.
    """
    if path.is_file():
        return None
    if path.is_dir():
        return f"is a directory, not a {what}"
    if path.exists():
        return f"not a regular file (a FIFO, a socket, a device): not read as a {what}"
    return f"no such {what}"


def line_column(text: str | bytes, offset: int) -> tuple[int, int]:
    r"""1-based line and column of ``offset`` in ``text`` (counted in characters, or in bytes).

    >>> line_column("ab\ncd", 4), line_column(b"x", 0)
    ((2, 2), (1, 1))
    """
    newline = b"\n" if isinstance(text, bytes) else "\n"
    line = text.count(newline, 0, offset) + 1  # type: ignore[arg-type]
    return line, offset - (text.rfind(newline, 0, offset) + 1) + 1  # type: ignore[arg-type]


def decode_utf8(path: Path, content: bytes) -> str:
    """``content`` as UTF-8 text, or InputError at the line and column of the first bad byte."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = line_column(content, error.start)
        message = f"not UTF-8: byte 0x{content[error.start]:02x} cannot be decoded"
        raise InputError([Problem(Location.of(path, line, column), message)]) from None
