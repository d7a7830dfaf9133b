"""One search per run directory: a second one would interleave its writes with the first one's."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from tuner.errors import InputError

LOCK_FILE = ".lock"


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run directory's lock for the life of a search; refuse at once if another process holds it.

    The kernel drops an ``flock`` when its process dies, even by ``kill -9``, so a crash never leaves a stale lock.
    The lock file stays empty and is never replaced: replacing it would give a second process another file to lock.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    handle = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                f"another tuner search is running in {run_dir}; wait for it to finish, or give this space another name",
                key="name",
            ) from None
        yield
    finally:
        os.close(handle)
