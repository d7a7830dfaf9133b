"""Ctrl-C, SIGTERM and SIGHUP during a search: stop at the next safe point, so the state on disk is whole and resumable.

Python raises KeyboardInterrupt wherever SIGINT lands; inside a garbage-collection callback it is printed and lost,
and the search runs on. SIGTERM (kill, timeout, systemd, CI runners, Kubernetes) and SIGHUP (a closed terminal) end
the process at once by default, leaving a launcher's worker processes training. Here the first of these signals only
sets a flag, checked between batches and between trials (and by a chief between its checks); a second one stops at
once. A signal the process was started ignoring (``nohup``, a background job's SIGINT) stays ignored.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

import keras

from tuner.errors import STOP_SIGNALS


class StopRequested(KeyboardInterrupt):
    """The stop a signal asked for, raised at a safe point; a KeyboardInterrupt, so Ctrl-C's handling applies."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class StopOnCtrlC(keras.callbacks.Callback):
    """A training callback and a context manager: installs the stop signals' handler and raises at safe points."""

    def __init__(self) -> None:
        super().__init__()
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopOnCtrlC:
        self.signum = None
        # Signal handlers can only be installed from the main thread; elsewhere the signals keep Python's behaviour.
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for signum, previous in self._previous.items():
            # None: the handler was not installed from Python; the default is the closest one to put back.
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)
        self._previous = {}
        if kind is None:
            self.check()  # a signal after the last safe point still stops the process: none is lost

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            raise StopRequested(signum)
        self.signum = signum

    def request(self) -> None:
        """Stop at the next safe point as a first Ctrl-C would: for another thread that finds the search must end."""
        if self.signum is None:
            self.signum = signal.SIGINT

    def check(self) -> None:
        """Raise StopRequested if a stop signal arrived: call only where stopping leaves whole files."""
        if self.signum is not None:
            raise StopRequested(self.signum)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.check()
