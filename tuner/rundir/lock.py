"""One search per run directory: a second one would interleave its writes with the first one's."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from tuner.errors import RunBusyError

LOCK_FILE = ".lock"


class RunLock:
    """Held for the life of a search; entering refuses at once if another process holds it.

    The kernel drops an ``flock`` when its process dies, even by ``kill -9``, so a crash never leaves a stale lock.
    The lock file stays empty and is never replaced: replacing it would give a second process another file to lock.
    """

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self._handle: int | None = None

    def __enter__(self) -> RunLock:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        handle = os.open(self.run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            raise RunBusyError(
                f"another tuner search is running in {self.run_dir}; wait for it to finish,"
                " or give this space another name",
                key="name",
            ) from None
        self._handle = handle
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._handle is not None:
            os.close(self._handle)
            self._handle = None
