"""A worker of a distributed search: keras-tuner's own search loop, asking the chief's oracle for trials.

The worker trains and records exactly as a one-process search does (``tuner.search``); keras-tuner
turns its oracle into a gRPC client because ``KERASTUNER_*`` is set. A worker restarted under the
same id is handed back the trial it was running, so a killed worker loses nothing; a stop signal
(Ctrl-C, SIGTERM, SIGHUP) ends it at the next safe point, with the same effect.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
import keras_tuner

from tuner.backend.determinism import enable_determinism
from tuner.backend.threads import pin_threads
from tuner.compat import keras_tuner as kt_compat
from tuner.data.dataset import Dataset
from tuner.engine.interrupt import StopOnCtrlC
from tuner.engine.listener import SilentListener
from tuner.engine.resume import check_same_backend, check_same_space
from tuner.engine.search import load_task, make_tuner, search_data
from tuner.errors import ChiefUnreachableError, InputError
from tuner.parallel import cluster
from tuner.parallel.cluster import Address
from tuner.rundir import files, layout
from tuner.space.schema import Spec

CHIEF_WAIT_SECONDS = 600
# A chief started again on its address within this time is rejoined; after it, the worker gives up.
CHIEF_LOST_SECONDS = 30.0
POLL_SECONDS = 0.1
IDLE_WAIT_SECONDS = 0.25
RETRY_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 100),
]


class PatientWorker:
    """Mixed in front of the tuner: pauses between requests while the oracle has no trial ready.

    Grid search and Hyperband answer IDLE while they wait for running trials; keras-tuner's loop
    would ask again at once, keeping a core busy with gRPC calls.
    """

    _asked = False

    def pre_create_trial(self) -> None:
        if self._asked:  # the last request started no trial: the oracle said IDLE
            time.sleep(IDLE_WAIT_SECONDS)
        self._asked = True
        super().pre_create_trial()  # type: ignore[misc]

    def on_trial_begin(self, trial: object) -> None:
        self._asked = False
        super().on_trial_begin(trial)  # type: ignore[misc]


# What a worker's tuner does differently from the tuner that owns the oracle.
WORKER_MIXINS = (PatientWorker,)


class ChiefGone(keras_tuner.errors.FatalError):
    """Raised from inside keras-tuner's search loop, which lets a FatalError through; run_worker reports it."""


class ChiefLink:
    """The stub a worker's requests to the chief go through: rejoins a restarted chief, gives up on one gone for good.

    keras-tuner's own client waits up to an hour for a chief that is not listening, and lets gRPC's UNAVAILABLE
    out of the search loop (a traceback) when the chief goes away during a request, or waits as long on a link
    gone dead. Here a request interrupted either way (a dead link is found by keepalive pings) is sent again, and
    a request waits for a chief for as long as ``seconds``; after that the worker stops. A stop signal that
    arrives meanwhile stops it at once: waiting is a safe point.
    """

    def __init__(self, chief: Address, stop: Callable[[], None], seconds: float = CHIEF_LOST_SECONDS) -> None:
        self.chief = chief
        self.stop = stop
        self.seconds = seconds
        self.ready = False
        self.channel = grpc.insecure_channel(str(chief), options=RETRY_OPTIONS + cluster.WORKER_KEEPALIVE)
        self.stub = kt_compat.oracle_stub(self.channel)
        self.channel.subscribe(self._track, try_to_connect=True)

    def __enter__(self) -> ChiefLink:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.channel.unsubscribe(self._track)
        self.channel.close()

    def _track(self, state: grpc.ChannelConnectivity) -> None:
        self.ready = state is grpc.ChannelConnectivity.READY

    def __getattr__(self, name: str) -> Callable[..., Any]:
        return functools.partial(self._request, getattr(self.stub, name))

    def _request(self, method: Any, request: Any, **options: Any) -> Any:
        unreachable_since: float | None = None
        call = method.future(request, **options)
        try:
            while True:
                try:
                    return call.result(timeout=POLL_SECONDS)
                except grpc.FutureTimeoutError:
                    pass
                except grpc.RpcError as error:
                    if error.code() is not grpc.StatusCode.UNAVAILABLE:
                        raise ChiefGone(
                            f"the chief at {self.chief} failed a request: {error.code().name}: {error.details()}"
                        ) from None
                    # The chief went away during the request: ask again, to be answered once a chief listens there.
                    call = method.future(request, **options)
                if self.ready:
                    unreachable_since = None
                    continue
                unreachable_since = unreachable_since or time.monotonic()
                self.stop()
                if time.monotonic() - unreachable_since > self.seconds:
                    raise ChiefGone(
                        f"the chief at {self.chief} stopped answering and none listened there within"
                        f" {self.seconds:.0f} s; start the chief again (the same command resumes its run),"
                        " then this worker"
                    )
        except BaseException:
            call.cancel()  # nothing once the call has ended
            raise


def wait_for_chief(chief: Address, seconds: float = CHIEF_WAIT_SECONDS) -> None:
    """Block until the chief's gRPC port answers: workers may start before their chief.

    gRPC retries a refused connection after 1 s, then backs off further; a local worker ready a moment
    before its chief lost up to 1.3 s that way, so this channel retries every tenth of a second.
    """
    with grpc.insecure_channel(str(chief), options=RETRY_OPTIONS) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=seconds)
        except grpc.FutureTimeoutError:
            raise ChiefUnreachableError(f"no chief answered at {chief} within {seconds:.0f} s") from None


def run_worker(
    spec: Spec,
    base_dir: Path,
    runs_dir: Path,
    chief: Address,
    tuner_id: str,
    threads: int,
    verbose: bool = False,
    chief_lost_seconds: float = CHIEF_LOST_SECONDS,
) -> None:
    """Run trials handed out by the chief until it says the search is over, or it is gone ``chief_lost_seconds``."""
    pin_threads(threads)
    cluster.join_chief(chief, tuner_id)
    enable_determinism()  # workers train the models, so they need the kernels a one-process search uses
    spec, data = load_task(spec, base_dir)
    run_dir = runs_dir / spec.name
    wait_for_chief(chief)
    if not (run_dir / layout.SPACE_FILE).exists():
        raise InputError(
            f"{run_dir} has no {layout.SPACE_FILE}: the chief's run directory must be shared with this worker"
            " (the same --runs-dir on a shared filesystem)"
        )
    check_same_space(run_dir, spec)
    check_same_backend(run_dir)
    with files.writing_in(run_dir):
        tuner = make_tuner(spec, data, run_dir, False, SilentListener(), mixins=WORKER_MIXINS)
        with tuner.ctrl_c:
            train_trials(tuner, data, chief, verbose, spec.search.tensorboard, chief_lost_seconds)


def run_worker_here(
    spec: Spec, data: Dataset, run_dir: Path, chief: Address, tuner_id: str, ctrl_c: StopOnCtrlC, verbose: bool
) -> None:
    """Be worker ``tuner_id`` in the chief's own process, on the data it loaded, until the oracle says stop.

    keras-tuner makes the tuner a client of the oracle, over loopback, because its variables are set while it
    works; they are put back after, for the tuner that owns the oracle. ``ctrl_c`` is the process's stop handler,
    already installed.
    """
    saved = {name: os.environ.get(name) for name in (cluster.TUNER_ID, cluster.ORACLE_IP, cluster.ORACLE_PORT)}
    cluster.join_chief(chief, tuner_id)
    try:
        tuner = make_tuner(spec, data, run_dir, False, SilentListener(), mixins=WORKER_MIXINS, ctrl_c=ctrl_c)
        train_trials(tuner, data, chief, verbose, spec.search.tensorboard)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def train_trials(
    tuner: keras_tuner.Tuner,
    data: Dataset,
    chief: Address,
    verbose: bool,
    tensorboard: bool,
    chief_lost_seconds: float = CHIEF_LOST_SECONDS,
) -> None:
    """keras-tuner's search loop on a worker's tuner, its requests sent through a ChiefLink."""
    with ChiefLink(chief, tuner.ctrl_c.check, chief_lost_seconds) as link:
        kt_compat.route_oracle_requests(tuner, link)
        try:
            search_data(tuner, data, verbose, tensorboard)
        except ChiefGone as gone:
            raise ChiefUnreachableError(str(gone)) from None
