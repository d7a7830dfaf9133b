"""A worker of a distributed search: keras-tuner's own search loop, asking the chief's oracle for trials.

The worker trains and records exactly as a one-process search does (``tuner.search``); keras-tuner
turns its oracle into a gRPC client because ``KERASTUNER_*`` is set. A worker restarted under the
same id is handed back the trial it was running, so a killed worker loses nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

import grpc

from tuner.engine.listener import SilentListener
from tuner.engine.reproducible import enable_determinism
from tuner.engine.resume import check_same_space
from tuner.engine.search import load_task, make_tuner, search_data
from tuner.errors import ChiefUnreachableError, InputError
from tuner.parallel import cluster
from tuner.parallel.cluster import Address
from tuner.rundir import layout
from tuner.space.schema import Spec

CHIEF_WAIT_SECONDS = 600
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
    spec: Spec, base_dir: Path, runs_dir: Path, chief: Address, tuner_id: str, threads: int, verbose: bool = False
) -> None:
    """Run trials handed out by the chief until it says the search is over."""
    cluster.pin_threads(threads)
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
    tuner = make_tuner(spec, data, run_dir, False, SilentListener(), mixins=(PatientWorker,))
    search_data(tuner, data, verbose)
