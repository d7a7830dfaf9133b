"""The chief of a distributed search: keras-tuner's oracle served over gRPC, ending as soon as the search does.

keras-tuner's own chief loop (``oracle_chief.start_server``) listens wherever its environment says
and, once the oracle has stopped handing out trials, checks for the end only every 20 s. This serves
the same ``OracleServicer`` on a chosen address and checks keras-tuner's own end condition
(``exit_chief``: no trial running, every worker told to stop) every tenth of a second, while it
keeps results.csv and the progress bar current.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
import keras_tuner
import pandas as pd
from keras_tuner.src import protos
from keras_tuner.src.distribute import oracle_chief

from reports.writer import write_reports
from tuner import distributed
from tuner.data import Dataset
from tuner.distributed import Address, WorkersFailedError
from tuner.errors import InputError
from tuner.failures import stop_if_failing
from tuner.lock import RunLock
from tuner.search import Listener, SearchResult, SilentListener, finish, load_task, make_tuner, prepare_run_dir
from tuner.spec import Spec

POLL_SECONDS = 0.1


class OracleServer:
    """keras-tuner's gRPC oracle service on one address, as a context manager that always stops it."""

    def __init__(self, oracle: keras_tuner.Oracle, address: Address, verbose: bool = False) -> None:
        self.oracle = oracle
        self.address = address
        self.verbose = verbose
        self.servicer = oracle_chief.OracleServicer(oracle)
        # One thread, as keras-tuner's chief uses: the oracle serialises its calls anyway.
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
        protos.get_service_grpc().add_OracleServicer_to_server(self.servicer, self.server)

    def __enter__(self) -> OracleServer:
        try:
            bound = self.server.add_insecure_port(str(self.address))
        except RuntimeError:
            bound = 0
        if not bound:
            raise InputError(f"cannot listen on {self.address}: the port is taken or the host is not this machine's")
        self.server.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.server.stop(grace=None)

    def done(self) -> bool:
        """keras-tuner's own end condition: the oracle has said stop and no worker holds a trial."""
        return bool(self.servicer.stop_triggered) and bool(oracle_chief.exit_chief(self.oracle))

    def serve(self, run_dir: Path, listener: Listener, workers_gone: Callable[[], bool] = lambda: False) -> None:
        """Answer workers until the search is done, reporting each ended trial.

        ``workers_gone`` is asked between checks (a local launcher restarts dead workers there) and
        says when no worker is left to finish the search.
        """
        seen = len(self.oracle.end_order)
        listener.started(_budget(self.oracle), seen)
        # keras-tuner 1.4.8 prints a value on stdout each time it encodes a conditional hyperparameter
        # for gRPC (a leftover debug print in conditions.Parent.to_proto); only --verbose shows it.
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(sys.stdout if self.verbose else devnull):
            self._serve(run_dir, listener, seen, workers_gone)

    def _serve(self, run_dir: Path, listener: Listener, seen: int, workers_gone: Callable[[], bool]) -> None:
        reported = set(self.oracle.end_order)
        while True:
            seen = _report(self.oracle, run_dir, seen, reported, listener)
            stop_if_failing(self.oracle, run_dir)
            if self.done():
                return
            # Workers leave once the oracle says stop, so with all gone, done() decides success.
            if workers_gone() and not self.done():
                raise WorkersFailedError(
                    "every worker has stopped but the search is unfinished; run the same command again to resume"
                )
            time.sleep(POLL_SECONDS)


def _budget(oracle: keras_tuner.Oracle) -> int | None:
    """The number of trials the oracle will run, where it has one (Hyperband decides as it goes)."""
    return None if isinstance(oracle, keras_tuner.oracles.HyperbandOracle) else oracle.max_trials


def _report(oracle: keras_tuner.Oracle, run_dir: Path, seen: int, reported: set[str], listener: Listener) -> int:
    """Tell the listener about trials that ended since the last call; returns how many endings there were.

    A trial running when a chief was restarted can end twice (keras-tuner queues it to run again),
    so each trial is reported once.
    """
    ended, ranked = _ended_since(oracle, seen, run_dir)
    best = _number(ranked.iloc[0].get("objective")) if ranked is not None and not ranked.empty else None
    for trial in ended:
        if trial.trial_id not in reported:
            reported.add(trial.trial_id)
            listener.trial_finished(trial.trial_id, str(trial.status).lower(), trial.score, best)
    return seen + len(ended)


@keras_tuner.synchronized
def _ended_since(oracle: keras_tuner.Oracle, seen: int, run_dir: Path) -> tuple[list[Any], pd.DataFrame | None]:
    """Trials ended after the first ``seen``, and the refreshed ranking.

    Holds the oracle's lock, so no trial.json is half-written while results.csv is rebuilt from them.
    """
    ended = [oracle.trials[trial_id] for trial_id in oracle.end_order[seen:]]
    return ended, write_reports(run_dir) if ended else None


def _number(value: Any) -> float | None:
    return None if value is None or value != value else float(value)


def open_chief(
    spec: Spec, base_dir: Path, runs_dir: Path, overwrite: bool, verbose: bool
) -> tuple[keras_tuner.Tuner, Dataset]:
    """The tuner whose oracle the chief serves (a fresh run, or the saved state of an existing one) and its data."""
    distributed.hide_gpus()
    # This process owns the oracle: keras-tuner's variables, if inherited, would make it a worker.
    for name in (distributed.TUNER_ID, distributed.ORACLE_IP, distributed.ORACLE_PORT):
        os.environ.pop(name, None)
    spec, data = load_task(spec, base_dir)
    run_dir = runs_dir / spec.name
    prepare_run_dir(run_dir, spec, overwrite)
    tuner = make_tuner(spec, data, run_dir, overwrite, SilentListener())
    tuner.oracle.verbose = 1 if verbose else 0
    tuner.save()
    return tuner, data


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
    with RunLock(run_dir):
        tuner, data = open_chief(spec, base_dir, runs_dir, overwrite, verbose)
        with OracleServer(tuner.oracle, address, verbose) as server:
            server.serve(run_dir, listener or SilentListener())
        return finish(tuner, data, run_dir, started)
