"""``tuner search --workers N``: the chief and worker-0 in this process, N - 1 ``tuner worker`` processes beside it.

A search pays one framework import per worker, not one more for the chief: the chief's oracle needs no
framework, and the test-set scoring at the end needs one that this process has anyway, because it trains
as worker-0 in its main thread. A background thread (``ChiefThread``) serves keras-tuner's oracle on a free
loopback port, shows the progress, writes the reports and restarts the other workers when they die. Worker-0
is keras-tuner's own worker, a gRPC client of that oracle like the others; it only shares the data this
process loaded. The other workers are the same ``tuner worker`` command a user would start on another
machine, with keras-tuner's variables in its environment, its own thread budget and (on a GPU machine) its
own GPU; one that dies before the search is over is started again under the same id, and the oracle hands
it back the trial it was running. A stop signal to this process (Ctrl-C, SIGTERM, SIGHUP) stops worker-0 at
its next safe point and the other workers first, each at theirs, then the chief, so none is left training.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from tuner.backend.selection import import_quietly
from tuner.errors import STOP_SIGNALS, InputError
from tuner.parallel import cluster
from tuner.parallel.cluster import Address, WorkerSlot
from tuner.rundir import files
from tuner.rundir.lock import RunLock
from tuner.space.schema import Spec

if TYPE_CHECKING:
    from tuner.engine.interrupt import StopOnCtrlC
    from tuner.engine.listener import Listener
    from tuner.engine.search import SearchResult
    from tuner.parallel.chief import OracleServer

MAX_RESTARTS = 3
# How long workers may take to exit on their own once the search is over, and how long one asked to stop may take.
LEAVE_SECONDS = 3.0
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
        # After a normal end the workers the oracle told to stop are leaving. One still starting, or waiting for
        # its first trial, holds none (the search ends only when no trial runs): it is stopped, not waited for;
        # it would find the chief gone and wait for it.
        if kind is None:
            self._wait(LEAVE_SECONDS)
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
    """Hold the stop signals until their handler is in place: it needs the backend, whose import takes seconds.

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


class ChiefThread(threading.Thread):
    """The chief's serving loop beside worker-0: ends when the search does, or stops worker-0 when it must end.

    ``error`` is what ended the loop early (a failure streak, every worker gone, a stop signal); worker-0 is
    then stopped at its next safe point, and the launcher raises that error.
    """

    def __init__(
        self, server: OracleServer, run_dir: Path, listener: Listener, pool: WorkerPool, ctrl_c: StopOnCtrlC
    ) -> None:
        super().__init__(name="tuner-chief", daemon=True)
        self.server = server
        self.run_dir = run_dir
        self.listener = listener
        self.pool = pool
        self.ctrl_c = ctrl_c
        self.error: BaseException | None = None
        self.worker_left = threading.Event()  # worker-0's search loop has ended
        self.abandoned = threading.Event()  # worker-0 failed: the launcher raises its error

    def run(self) -> None:
        try:
            self.server.serve(self.run_dir, self.listener, workers_gone=self._workers_gone, stop=self._check)
        except BaseException as error:  # handed to the main thread, which raises it
            self.error = error
            self.ctrl_c.request()

    def _workers_gone(self) -> bool:
        return self.pool.supervise() and self.worker_left.is_set()

    def _check(self) -> None:
        if self.abandoned.is_set():
            raise AbandonedError
        self.ctrl_c.check()

    def wait(self) -> None:
        """After worker-0's loop: wait for the other workers' trials to end; raise what ended the search early."""
        self.worker_left.set()
        self.join()
        if self.error is not None:
            raise self.error

    def abandon(self, error: BaseException) -> BaseException:
        """After worker-0 stopped with ``error``: end the loop (it writes the reports) and say which error to raise.

        Where this thread stopped worker-0 (a failure streak, a full disk), its reason is raised instead.
        """
        from tuner.engine.interrupt import StopRequested

        self.abandoned.set()
        self.join()
        if isinstance(error, StopRequested) and isinstance(self.error, Exception):
            return error if isinstance(self.error, AbandonedError) else self.error
        return error


class AbandonedError(Exception):
    """Ends the chief's loop when worker-0 has failed; the launcher raises worker-0's own error."""


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
    """Search with ``slots`` workers (the first in this process) through keras-tuner's distributed mode.

    Same results as one worker.
    """
    started = time.perf_counter()
    run_dir = runs_dir / spec.name
    chief = Address(cluster.LOOPBACK, cluster.free_port())
    here, others = slots[0], slots[1:]
    command = worker_command(space, worker_args)
    # The other workers start first: their framework import and data loading overlap this process's, and they
    # wait for the chief's port. The backend is imported here, not by the command line, for that reason.
    with (
        files.writing_in(run_dir),
        RunLock(run_dir),
        WorkerPool(command, others, chief, verbose, log) as pool,
        contextlib.ExitStack() as stack,
    ):
        with _stop_signals_held():
            _load_framework(here, verbose)
            from tuner.engine.interrupt import StopOnCtrlC

            ctrl_c = stack.enter_context(StopOnCtrlC())
        from tuner.engine.listener import SilentListener
        from tuner.engine.search import finish, load_task
        from tuner.parallel.chief import OracleServer, own_oracle
        from tuner.parallel.worker import run_worker_here

        spec, data = load_task(spec, space.parent)
        tuner = own_oracle(spec, data, run_dir, overwrite, verbose)
        with OracleServer(tuner.oracle, chief, verbose) as server:
            serving = ChiefThread(server, run_dir, listener or SilentListener(), pool, ctrl_c)
            serving.start()
            try:
                run_worker_here(spec, data, run_dir, chief, here.tuner_id, ctrl_c, verbose)
                serving.wait()
            except BaseException as error:
                cause = serving.abandon(error)
                pool.stop()  # while the oracle still answers: no worker is left waiting for it
                if cause is error:
                    raise
                raise cause from None
        # Every worker has been told to stop and asks nothing more: they exit while the reports are written.
        return finish(tuner, data, run_dir, started)


def _load_framework(slot: WorkerSlot, verbose: bool) -> None:
    """Import the backend as worker ``slot`` trains with it: its threads, its GPU (or none), deterministic kernels.

    Before any op runs: the chief's tuner builds models to learn the space.
    """
    os.environ["OMP_NUM_THREADS"] = str(slot.threads)  # OpenMP reads it once, when the backend loads
    if not verbose:
        import_quietly()
    from tuner.backend.determinism import enable_determinism
    from tuner.backend.devices import hide_gpus, keep_first_gpu
    from tuner.backend.threads import pin_threads

    pin_threads(slot.threads)
    if slot.gpu is None:
        hide_gpus()
    else:
        keep_first_gpu()
    enable_determinism()
