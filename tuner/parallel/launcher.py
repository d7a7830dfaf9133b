"""``tuner search --workers N``: a chief in this process and N ``tuner worker`` processes on this machine.

The chief serves keras-tuner's oracle on a free loopback port; each worker is the same
``tuner worker`` command a user would start on another machine, with keras-tuner's variables in
its environment, its own thread budget and (on a GPU machine) its own GPU. A worker that dies
before the search is over is started again under the same id, and the oracle hands it back the
trial it was running. A stop signal to this process (Ctrl-C, SIGTERM, SIGHUP) stops the workers first,
each at its next safe point, then the chief, so none is left training.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from tuner.backend.selection import import_quietly
from tuner.errors import STOP_SIGNALS, InputError
from tuner.parallel import cluster
from tuner.parallel.cluster import Address, WorkerSlot
from tuner.rundir.lock import RunLock
from tuner.space.schema import Spec

if TYPE_CHECKING:
    from tuner.engine.listener import Listener
    from tuner.engine.search import SearchResult

MAX_RESTARTS = 3
# How long workers the oracle told to stop may take to exit, and how long a worker asked to stop may take.
EXIT_SECONDS = 30.0
STOP_SECONDS = 5.0


class WorkerPool:
    """The local worker processes: started together, restarted when they die, always stopped on exit."""

    def __init__(
        self,
        command: list[str],
        slots: list[WorkerSlot],
        chief: Address,
        verbose: bool,
        log: Callable[[str], None],
    ) -> None:
        self.command = command
        self.slots = {slot.tuner_id: slot for slot in slots}
        self.chief = chief
        self.verbose = verbose
        self.log = log
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts = dict.fromkeys(self.slots, 0)
        self.finished: set[str] = set()

    def __enter__(self) -> WorkerPool:
        for tuner_id in self.slots:
            self._start(tuner_id)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        # After a normal end the workers are already leaving (the oracle told them to stop).
        if kind is None:
            self._wait(EXIT_SECONDS)
        self.stop()

    def stop(self) -> None:
        """End every worker still running: SIGTERM, which stops it at its next safe point, then SIGKILL if need be.

        Its trial stays the oracle's, to be run again when the search resumes.
        """
        running = [process for process in self.processes.values() if process.poll() is None]
        for process in running:
            process.terminate()
        if not self._wait(STOP_SECONDS):
            for process in running:
                if process.poll() is None:
                    process.kill()
                    process.wait()

    def _wait(self, seconds: float) -> bool:
        """Give the workers ``seconds`` in all to exit; True when every one has."""
        deadline = time.monotonic() + seconds
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                return False
        return True

    def _start(self, tuner_id: str) -> None:
        slot = self.slots[tuner_id]
        environ = {**cluster.worker_environment(os.environ, self.chief, slot), cluster.LOCAL_WORKER: "1"}
        self.processes[tuner_id] = subprocess.Popen(
            [*self.command, "--threads", str(slot.threads)],
            env=environ,
            stdin=subprocess.DEVNULL,
            # keras-tuner prints notes on stdout; the chief's progress bar is the user's view.
            stdout=None if self.verbose else subprocess.DEVNULL,
        )

    def supervise(self) -> bool:
        """Restart workers that died, under the same id; True when every worker has stopped for good."""
        for tuner_id, process in self.processes.items():
            code = process.poll()
            if code is None or tuner_id in self.finished:
                continue
            # Bad input fails the same way every time: restarting would not help.
            if code in (0, InputError.exit_code) or self.restarts[tuner_id] >= MAX_RESTARTS:
                self.finished.add(tuner_id)
                if code:
                    self.log(f"{tuner_id} stopped ({_exit_reason(code)}); not restarting it")
                continue
            self.restarts[tuner_id] += 1
            self.log(f"{tuner_id} stopped ({_exit_reason(code)}); restarting it to re-run its trial")
            self._start(tuner_id)
        return len(self.finished) == len(self.processes)


def _exit_reason(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"exit code {code}"


@contextlib.contextmanager
def _stop_signals_held() -> Iterator[None]:
    """Hold the stop signals until their handler is in place: it needs TensorFlow, whose import takes seconds.

    Meanwhile SIGTERM or SIGHUP would end this process at once, and its workers would wait for a chief that
    never comes. A signal held here is delivered, to the handler, when this ends.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def worker_command(space: Path, worker_args: list[str]) -> list[str]:
    """The ``tuner worker`` command line a local worker runs (the same interpreter as this process)."""
    return [sys.executable, "-m", "tuner", "worker", str(space.resolve()), *worker_args]


def run_parallel(
    spec: Spec,
    space: Path,
    runs_dir: Path,
    slots: list[WorkerSlot],
    worker_args: list[str],
    overwrite: bool = False,
    verbose: bool = False,
    listener: Listener | None = None,
    log: Callable[[str], None] = print,
) -> SearchResult:
    """Search with ``slots`` local workers through keras-tuner's distributed mode; same results as one worker."""
    started = time.perf_counter()
    run_dir = runs_dir / spec.name
    chief = Address(cluster.LOOPBACK, cluster.free_port())
    command = worker_command(space, worker_args)
    # The workers start first: their TensorFlow import and data loading overlap this process's, and they
    # wait for the chief's port. TensorFlow is imported here, not by the command line, for that reason.
    with RunLock(run_dir), WorkerPool(command, slots, chief, verbose, log) as pool, contextlib.ExitStack() as stack:
        with _stop_signals_held():
            if not verbose:
                import_quietly()
            from tuner.engine.interrupt import StopOnCtrlC

            stop = stack.enter_context(StopOnCtrlC())
        from tuner.engine.listener import SilentListener
        from tuner.parallel.chief import OracleServer, open_chief

        tuner, data = open_chief(spec, space.parent, runs_dir, overwrite, verbose)
        with OracleServer(tuner.oracle, chief, verbose) as server:
            try:
                server.serve(run_dir, listener or SilentListener(), workers_gone=pool.supervise, stop=stop.check)
            except BaseException:
                pool.stop()  # while the oracle still answers: no worker is left waiting for it
                raise
        from tuner.engine.search import finish

        # Every worker has been told to stop and asks nothing more: they exit while the reports are written.
        return finish(tuner, data, run_dir, started)
