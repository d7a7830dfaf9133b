"""The one error type users see: a located, one-line complaint about their input."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InputError(Exception):
    """Bad input, reported as ``file:line: dotted.key: message`` with exit code 2.

    ``key`` is the dotted path into the space file (empty when the file itself is
    the problem); the CLI turns it into a line number with the file's line map.
    """

    message: str
    key: str = ""
    file: str = ""
    line: int | None = None

    def __str__(self) -> str:
        return format_error(self.file, self.line, self.key, self.message)


def format_error(file: str, line: int | None, key: str, message: str) -> str:
    """Join the parts that are known into ``file:line: key: message``."""
    where = file
    if file and line is not None:
        where = f"{file}:{line}"
    parts = [part for part in (where, key, message) if part]
    return ": ".join(parts)


class SearchStoppedError(Exception):
    """A search that ran but cannot go on or be trusted: one line, exit code 1, everything done so far kept."""
