"""Every failure a user can meet: one base class, one line each, and the exit code the command ends with.

The CLI maps them to exit codes in one place (``tuner.cli.main``); library callers catch ``TunerError``.
They are plain exceptions: they pickle (a worker's error can cross a process boundary) and take notes.
"""

from __future__ import annotations

import signal
from typing import ClassVar

from tuner.text import SHOWN_CHARACTERS, visible

__all__ = [
    "AddressInUseError",
    "ChiefUnreachableError",
    "InputError",
    "NoSpaceError",
    "NotReproducibleError",
    "NotWritableError",
    "RunBusyError",
    "RunFormatError",
    "SearchHungUpError",
    "SearchInterruptedError",
    "SearchStoppedError",
    "SearchTerminatedError",
    "TrialsFailedError",
    "TunerError",
    "WorkersFailedError",
]


class TunerError(Exception):
    """A failure reported as ``file:line: dotted.key: message``; the parts that are unknown are left out.

    ``key`` is the dotted path into the space file the failure is about (empty when none is); the CLI
    turns it into a line number with the file's line map.
    """

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, key: str = "", file: str = "", line: int | None = None) -> None:
        super().__init__(message, key, file, line)
        self.message = message
        self.key = key
        self.file = file
        self.line = line

    def __str__(self) -> str:
        return format_error(self.file, self.line, self.key, self.message)

    def located(self, file: str, line: int | None) -> TunerError:
        """The same error, placed in ``file`` at ``line``."""
        return type(self)(self.message, self.key, file, line)


class InputError(TunerError):
    """Bad input: a space file, a flag or a folder the user gave. Nothing was trained or written."""

    exit_code = 2


class RunFormatError(InputError):
    """A run directory written by a newer tuner, in a format this one cannot read."""


class SearchStoppedError(TunerError):
    """A search that ran but cannot go on or be trusted; everything done so far is kept."""


class TrialsFailedError(SearchStoppedError):
    """Too many trials in a row failed (``search.max_consecutive_failures``)."""

    exit_code = 3


class NotReproducibleError(SearchStoppedError):
    """``--check-reproducible``: the best trial trained again gave other losses."""

    exit_code = 4


class RunBusyError(TunerError):
    """Another search holds the run directory; retrying later can succeed."""

    exit_code = 5


class WorkersFailedError(TunerError):
    """Every worker stopped while trials were unfinished; the same command resumes the search."""

    exit_code = 6


class ChiefUnreachableError(TunerError):
    """A worker found no chief at its address, or lost it for good."""

    exit_code = 7


class AddressInUseError(TunerError):
    """The chief cannot listen where it was asked to: the port is taken or the host is not this machine's."""

    exit_code = 8


class NoSpaceError(TunerError):
    """The device a run directory lives on is full (or the disk quota is spent).

    Every file written before is whole (writes are atomic); once space is freed, the same command resumes.
    """

    exit_code = 9


class NotWritableError(TunerError):
    """A folder tuner must write in refuses it: a read-only file system, or a folder that is not this user's.

    The files already there are kept as they were; once it can be written, the same command resumes.
    """

    exit_code = 10


class SearchInterruptedError(TunerError):
    """Ctrl-C: the search stopped at a safe point; the same command resumes it.

    Each stop signal has its own kind, ending with the code a shell gives a process that signal ended (128 + it).
    """

    exit_code = 130
    signum: ClassVar[int] = signal.SIGINT
    reason: ClassVar[str] = "interrupted"


class SearchTerminatedError(SearchInterruptedError):
    """SIGTERM (kill, timeout, systemd, CI runners, Kubernetes): stopped at a safe point, as on Ctrl-C."""

    exit_code = 143
    signum = signal.SIGTERM
    reason = "terminated"


class SearchHungUpError(SearchInterruptedError):
    """SIGHUP (the terminal or the SSH session closed): stopped at a safe point, as on Ctrl-C."""

    exit_code = 129
    signum = signal.SIGHUP
    reason = "hung up"


class TunerWarning(UserWarning):
    """Something tuner worked around (a cache it could not write, an image it skipped): the CLI shows one line."""


# The signals that stop a search at its next safe point, each with the error the command ends with.
STOP_SIGNALS: dict[int, type[SearchInterruptedError]] = {
    kind.signum: kind for kind in (SearchInterruptedError, SearchTerminatedError, SearchHungUpError)
}


def format_error(file: str, line: int | None, key: str, message: str) -> str:
    """Join the parts that are known into ``file:line: key: message``, shown as one line whatever they hold."""
    if len(key) > SHOWN_CHARACTERS:
        key = f"{key[: SHOWN_CHARACTERS - 1]}…"
    where = file
    if file and line is not None:
        where = f"{file}:{line}"
    parts = [part for part in (where, key, message) if part]
    return visible(": ".join(parts))
