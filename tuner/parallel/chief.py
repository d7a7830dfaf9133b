"""The chief of a distributed search: keras-tuner's oracle served over gRPC, ending as soon as the search does.

keras-tuner's own chief loop (``oracle_chief.start_server``) listens wherever its environment says
and, once the oracle has stopped handing out trials, checks for the end only every 20 s. This serves
the same ``OracleServicer`` on a chosen address and checks keras-tuner's own end condition
(``exit_chief``: no trial running, every worker told to stop) every tenth of a second. The progress
bar moves as each trial ends; results.csv and report.html are rebuilt at most every REPORT_SECONDS (and
less often once a rebuild takes long: ``ReportPacer``), since workers wait for the oracle's lock meanwhile,
and always at the end. A stop signal (Ctrl-C, SIGTERM, SIGHUP) ends the serving loop between two checks;
the oracle has saved every change already.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
import keras_tuner

from tuner.backend.devices import hide_gpus
from tuner.compat import keras_tuner as kt_compat
from tuner.data.dataset import Dataset
from tuner.engine.budget import start_session
from tuner.engine.failures import stop_if_failing
from tuner.engine.interrupt import StopOnCtrlC
from tuner.engine.listener import Listener, SilentListener
from tuner.engine.resume import prepare_run_dir
from tuner.engine.search import SearchResult, finish, load_task, make_tuner
from tuner.errors import AddressInUseError, WorkersFailedError
from tuner.parallel import cluster
from tuner.parallel.cluster import Address
from tuner.reports.writer import ReportPacer, write_reports
from tuner.rundir import files
from tuner.rundir.lock import RunLock
from tuner.space.schema import Spec

POLL_SECONDS = 0.1
# results.csv and report.html are rebuilt at most this often while trials end, and always at the end.
REPORT_SECONDS = 5.0


class OracleServer:
    """keras-tuner's gRPC oracle service on one address, as a context manager that always stops it."""

    def __init__(self, oracle: keras_tuner.Oracle, address: Address, verbose: bool = False) -> None:
        self.oracle = oracle
        self.address = address
        self.verbose = verbose
        # One thread, as keras-tuner's chief uses: the oracle serialises its calls anyway.
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=1), options=cluster.CHIEF_KEEPALIVE)
        self.servicer = kt_compat.serve_oracle(oracle, self.server)
        self.quiet = contextlib.ExitStack()

    def __enter__(self) -> OracleServer:
        try:
            bound = self.server.add_insecure_port(str(self.address))
        except RuntimeError:
            bound = 0
        if not bound:
            raise AddressInUseError(
                f"cannot listen on {self.address}: the port is taken or the host is not this machine's"
            )
        if not self.verbose:
            # keras-tuner 1.4.8 prints a value on stdout each time it encodes a conditional hyperparameter for
            # gRPC (a leftover debug print in conditions.Parent.to_proto), from the server's thread: stdout is
            # process-wide, so it is quiet while the server runs; only --verbose shows it.
            self.quiet.enter_context(contextlib.redirect_stdout(self.quiet.enter_context(open(os.devnull, "w"))))
        self.server.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.server.stop(grace=None)
        self.quiet.close()

    def done(self) -> bool:
        """keras-tuner's own end condition: the oracle has said stop and no worker holds a trial."""
        return kt_compat.stop_requested(self.servicer) and kt_compat.chief_may_exit(self.oracle)

    def serve(
        self,
        run_dir: Path,
        listener: Listener,
        workers_gone: Callable[[], bool] = lambda: False,
        stop: Callable[[], None] = lambda: None,
    ) -> None:
        """Answer workers until the search is done, reporting each ended trial.

        ``workers_gone`` is asked between checks (a local launcher restarts dead workers there) and
        says when no worker is left to finish the search; ``stop`` is called there too, and raises to end
        the search (a stop signal: every change of the oracle is saved as it happens).
        """
        seen = len(self.oracle.end_order)
        listener.started(_budget(self.oracle), seen)
        self._serve(run_dir, listener, seen, workers_gone, stop)

    def _serve(
        self,
        run_dir: Path,
        listener: Listener,
        seen: int,
        workers_gone: Callable[[], bool],
        stop: Callable[[], None],
    ) -> None:
        reported = set(self.oracle.end_order)
        unwritten, pacer = False, ReportPacer(every=REPORT_SECONDS)
        try:
            # The failure streak changes only when a trial ends (it reads histories): checked then, and once
            # here for a run resumed with its streak already at the limit.
            stop_if_failing(self.oracle, run_dir)
            while True:
                ended = self.oracle.run_locked(_ended_since, self.oracle, seen)
                seen += len(ended)
                _announce(self.oracle, ended, reported, listener)
                unwritten = unwritten or bool(ended)
                if unwritten and pacer.due():
                    pacer.write(_write_reports, self.oracle, run_dir, live=True)
                    unwritten = False
                if ended:
                    stop_if_failing(self.oracle, run_dir)
                if self.done():
                    return  # the caller writes the final reports
                stop()
                # Workers leave once the oracle says stop, so with all gone, done() decides success.
                if workers_gone() and not self.done():
                    raise WorkersFailedError(
                        "every worker has stopped but the search is unfinished; run the same command again to resume"
                    )
                time.sleep(POLL_SECONDS)
        except BaseException:
            # A stopped search always leaves reports of every trial that ended, even when it is stopped between
            # a trial's training and its end reaching the oracle, before any report was written.
            _write_reports(self.oracle, run_dir)
            raise


def _budget(oracle: keras_tuner.Oracle) -> int | None:
    """The number of trials the oracle will run, where it has one (Hyperband decides as it goes)."""
    return None if isinstance(oracle, keras_tuner.oracles.HyperbandOracle) else oracle.max_trials


def _announce(oracle: keras_tuner.Oracle, ended: list[Any], reported: set[str], listener: Listener) -> None:
    """Tell the listener about trials that ended, each once, with the oracle's best score so far.

    A trial running when a chief was restarted can end twice (keras-tuner queues it to run again).
    """
    fresh = [trial for trial in ended if trial.trial_id not in reported]
    if not fresh:
        return
    best_trials = oracle.get_best_trials(1)
    best = _number(best_trials[0].score) if best_trials else None
    for trial in fresh:
        reported.add(trial.trial_id)
        listener.trial_finished(trial.trial_id, str(trial.status).lower(), trial.score, best)


def _ended_since(oracle: keras_tuner.Oracle, seen: int) -> list[Any]:
    """Trials ended after the first ``seen`` (read under the oracle's lock)."""
    return [oracle.trials[trial_id] for trial_id in oracle.end_order[seen:]]


def _write_reports(oracle: Any, run_dir: Path, live: bool = False) -> None:
    """Rebuild results.csv and the report under the oracle's lock, so no trial.json is half-written meanwhile.

    Workers need that lock to start and end trials, so the chief does this at most every REPORT_SECONDS.
    """
    oracle.run_locked(functools.partial(write_reports, run_dir, live=live))


def _number(value: Any) -> float | None:
    return None if value is None or value != value else float(value)


def open_chief(
    spec: Spec, base_dir: Path, runs_dir: Path, overwrite: bool, verbose: bool
) -> tuple[keras_tuner.Tuner, Dataset]:
    """The tuner whose oracle a chief that trains nothing serves, on the CPU, and its data."""
    hide_gpus()
    spec, data = load_task(spec, base_dir)
    return own_oracle(spec, data, runs_dir / spec.name, overwrite, verbose), data


def own_oracle(spec: Spec, data: Dataset, run_dir: Path, overwrite: bool, verbose: bool) -> keras_tuner.Tuner:
    """The tuner that owns the search's oracle: a fresh run, or the saved state of an existing one.

    ``spec`` is settled for ``data`` (``load_task``).
    """
    # This process owns the oracle: keras-tuner's variables, if inherited, would make it a worker.
    for name in (cluster.TUNER_ID, cluster.ORACLE_IP, cluster.ORACLE_PORT):
        os.environ.pop(name, None)
    prepare_run_dir(run_dir, spec, overwrite)
    tuner = make_tuner(spec, data, run_dir, overwrite, SilentListener())
    tuner.oracle.time_budget = start_session(run_dir, spec.search.max_time)
    tuner.oracle.verbose = 1 if verbose else 0
    tuner.save()
    return tuner


def run_chief(
    spec: Spec,
    base_dir: Path,
    runs_dir: Path,
    address: Address,
    overwrite: bool = False,
    verbose: bool = False,
    listener: Listener | None = None,
) -> SearchResult:
    """Serve a search to workers that join over the network, until its last trial has ended."""
    started = time.perf_counter()
    run_dir = runs_dir / spec.name
    with StopOnCtrlC() as stop, files.writing_in(run_dir), RunLock(run_dir):
        tuner, data = open_chief(spec, base_dir, runs_dir, overwrite, verbose)
        with OracleServer(tuner.oracle, address, verbose) as server:
            server.serve(run_dir, listener or SilentListener(), stop=stop.check)
        return finish(tuner, data, run_dir, started)
