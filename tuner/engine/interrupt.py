"""Ctrl-C during a search: stop at the next safe point, so the state on disk is whole and resumable.

Python raises KeyboardInterrupt wherever the signal lands; inside a garbage-collection callback it is
printed and lost, and the search runs on. Here the first Ctrl-C only sets a flag, checked between
batches and between trials; a second one stops at once.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

import keras


class StopOnCtrlC(keras.callbacks.Callback):
    """A training callback and a context manager: installs the SIGINT handler and raises at safe points."""

    def __init__(self) -> None:
        super().__init__()
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> StopOnCtrlC:
        self.requested = False
        # Signal handlers can only be installed from the main thread; elsewhere Ctrl-C keeps Python's behaviour.
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def check(self) -> None:
        """Raise KeyboardInterrupt if Ctrl-C was pressed: call only where stopping leaves whole files."""
        if self.requested:
            raise KeyboardInterrupt

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.check()
