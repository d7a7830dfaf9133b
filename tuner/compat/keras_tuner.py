"""Every private name of keras-tuner the project touches, each with why; tested with keras-tuner 1.4.7 and 1.4.8.

keras-tuner exports its tuners, oracles and hyperparameters, but a tuner that records every epoch, writes
its state atomically and serves the oracle on an address of its choosing needs a few of its internals.
They are reached here only: the hook mix-ins translate keras-tuner's private hooks into methods with
names of ours, and ``missing()`` lists what an installed keras-tuner lacks, so ``check()`` refuses to start
a search with one line instead of failing hours into it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import keras_tuner
from keras_tuner.src import protos  # the gRPC service the chief registers its servicer on
from keras_tuner.src.distribute import (
    oracle_chief,  # the servicer and keras-tuner's own "chief may exit" test
    oracle_client,  # a worker's client of the chief's oracle, to route its requests
)
from keras_tuner.src.engine.tuner_utils import SaveBestEpoch  # the best-epoch checkpoint callback, to replace it
from keras_tuner.src.tuners.gridsearch import LinkedList  # the grid oracle's walk, kept only in memory

from tuner.errors import TunerError

__all__ = [
    "BayesianOracleHooks",
    "OracleHooks",
    "SaveBestEpoch",
    "TunerHooks",
    "check",
    "chief_may_exit",
    "is_worker",
    "missing",
    "oracle_state_file",
    "oracle_stub",
    "restore_grid_walk",
    "route_oracle_requests",
    "serve_oracle",
    "stop_requested",
    "trial_dir",
    "tuner_state_file",
]

# (owner, attribute, why): methods are looked up on the class, attributes set in __init__ on a fresh instance.
PRIVATE_METHODS: tuple[tuple[type, str, str], ...] = (
    (keras_tuner.Oracle, "_get_oracle_fname", "where oracle.json lives, to write it atomically"),
    (keras_tuner.Oracle, "_get_trial_dir", "where a trial's folder lives, to write trial.json atomically"),
    (keras_tuner.Oracle, "_save_trial", "replaced: keras-tuner writes trial.json in place"),
    (keras_tuner.Oracle, "_check_consecutive_failures", "replaced: it raises before the failed trial is saved"),
    (keras_tuner.oracles.BayesianOptimizationOracle, "_make_gpr", "replaced: a regressor that predicts cheaply"),
    (keras_tuner.Tuner, "_try_run_and_update_trial", "replaced: a failed trial keeps one line, not a traceback"),
    (keras_tuner.Tuner, "_run_and_update_trial", "called by the replacement above"),
    (keras_tuner.Tuner, "_build_hypermodel", "wrapped: every build is seeded from its configuration"),
    (keras_tuner.Tuner, "_build_and_fit_model", "wrapped: every epoch of every restart is recorded"),
    (keras_tuner.Tuner, "_try_build", "builds a trial's model to train it again (--check-reproducible)"),
    (keras_tuner.Tuner, "_is_worker", "whether this process is a worker of a distributed search"),
    (keras_tuner.Tuner, "_populate_initial_space", "skipped on workers: it builds models for an oracle they drop"),
    (keras_tuner.Tuner, "_get_tuner_fname", "where the tuner's state file lives, to write it atomically"),
    (oracle_chief.OracleServicer, "__init__", "the chief serves keras-tuner's own gRPC oracle service"),
)
PRIVATE_ATTRIBUTES: tuple[tuple[str, str, str], ...] = (
    ("GridSearchOracle", "_ordered_ids", "the grid's walk, rebuilt on resume (keras-tuner keeps it in memory)"),
    ("GridSearchOracle", "_populate_next", "the trials the grid continues from, rebuilt on resume"),
    ("OracleServicer", "stop_triggered", "set once the oracle has told a worker to stop"),
)
# Attributes set in __init__ of a class that needs a chief to build one: looked for in the code of its __init__.
PRIVATE_CLIENT_ATTRIBUTES: tuple[tuple[type, str, str], ...] = (
    (oracle_client.OracleClient, "stub", "replaced: a worker's requests go through one that notices a chief gone"),
)
PRIVATE_FUNCTIONS: tuple[tuple[Any, str, str], ...] = (
    (oracle_chief, "exit_chief", "keras-tuner's own end condition: no trial running, every worker told to stop"),
    (protos.get_service_grpc(), "add_OracleServicer_to_server", "registers the servicer on a gRPC server"),
    (protos.get_service_grpc(), "OracleStub", "the client of the oracle service a worker's requests go through"),
)


def _fresh(owner: str) -> Any:
    """An instance whose ``__init__`` sets the attributes to check (cheap: no model, no file)."""
    grid = keras_tuner.oracles.GridSearchOracle(objective="val_loss", max_trials=1)
    return grid if owner == "GridSearchOracle" else oracle_chief.OracleServicer(grid)


def missing() -> list[str]:
    """The private names this project needs that the installed keras-tuner lacks, as ``Owner.name``."""
    absent = [f"{owner.__name__}.{name}" for owner, name, _ in PRIVATE_METHODS if not hasattr(owner, name)]
    absent += [f"{owner}.{name}" for owner, name, _ in PRIVATE_ATTRIBUTES if not hasattr(_fresh(owner), name)]
    absent += [
        f"{owner.__name__}.{name}"
        for owner, name, _ in PRIVATE_CLIENT_ATTRIBUTES
        if name not in owner.__init__.__code__.co_names
    ]
    absent += [f"{module.__name__}.{name}" for module, name, _ in PRIVATE_FUNCTIONS if not hasattr(module, name)]
    return absent


def check() -> None:
    """Refuse, in one line, a keras-tuner whose internals differ from the ones this tuner was built on."""
    absent = missing()
    if absent:
        raise TunerError(
            f"keras-tuner {keras_tuner.__version__} lacks {', '.join(absent)}, which tuner needs;"
            " install a tested version: pip install 'keras-tuner>=1.4.7,<1.5'"
        )


class OracleHooks:
    """keras-tuner's private oracle hooks under names of ours; placed in front of a keras-tuner oracle."""

    def _save_trial(self, trial: Any) -> None:
        self.save_trial_state(trial)

    def save_trial_state(self, trial: Any) -> None:
        """Write ``trial.json`` (keras-tuner's own writer by default)."""
        super()._save_trial(trial)  # type: ignore[misc]

    def _check_consecutive_failures(self) -> None:
        self.check_failure_streak()

    def check_failure_streak(self) -> None:
        """Stop on too many failed trials in a row (keras-tuner's own check by default)."""
        super()._check_consecutive_failures()  # type: ignore[misc]


class BayesianOracleHooks:
    """The Bayesian oracle's private regressor factory under a name of ours."""

    def _make_gpr(self) -> Any:
        return self.make_regressor()

    def make_regressor(self) -> Any:
        """The Gaussian process the oracle fits (keras-tuner's own by default)."""
        return super()._make_gpr()  # type: ignore[misc]


class TunerHooks:
    """keras-tuner's private per-trial hooks of ``Tuner`` under names of ours; placed in front of a tuner."""

    def _try_run_and_update_trial(self, trial: Any, *args: Any, **kwargs: Any) -> None:
        self.run_and_update_trial(trial, *args, **kwargs)

    def run_and_update_trial(self, trial: Any, *args: Any, **kwargs: Any) -> None:
        """Run one trial and record its status (keras-tuner's own handling by default)."""
        super()._try_run_and_update_trial(trial, *args, **kwargs)  # type: ignore[misc]

    def train_and_update_trial(self, trial: Any, *args: Any, **kwargs: Any) -> None:
        """keras-tuner's run of one trial that reports its metrics to the oracle, raising on failure."""
        self._run_and_update_trial(trial, *args, **kwargs)  # type: ignore[attr-defined]

    def _build_hypermodel(self, hp: keras_tuner.HyperParameters) -> Any:
        return self.build_trial_model(hp)

    def build_trial_model(self, hp: keras_tuner.HyperParameters) -> Any:
        """Build one trial's model (keras-tuner's own build, e.g. Hyperband's weight reuse, by default)."""
        return super()._build_hypermodel(hp)  # type: ignore[misc]

    def _build_and_fit_model(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        return self.build_and_fit(trial, *args, **kwargs)

    def build_and_fit(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        """Build and train one restart of a trial (keras-tuner's own by default)."""
        return super()._build_and_fit_model(trial, *args, **kwargs)  # type: ignore[misc]

    def _populate_initial_space(self) -> None:
        self.learn_space()

    def learn_space(self) -> None:
        """Build the hypermodel until the oracle holds every hyperparameter (keras-tuner's own by default)."""
        super()._populate_initial_space()  # type: ignore[misc]

    def build_checked(self, hp: keras_tuner.HyperParameters) -> Any:
        """keras-tuner's build with its own checks, outside a search (to train a trial again)."""
        return self._try_build(hp)  # type: ignore[attr-defined]


def oracle_state_file(oracle: keras_tuner.Oracle) -> Path:
    """The oracle's ``oracle.json``."""
    return Path(oracle._get_oracle_fname())


def trial_dir(oracle: keras_tuner.Oracle, trial_id: str) -> Path:
    """The folder keras-tuner keeps one trial's record and checkpoint in."""
    return Path(oracle._get_trial_dir(trial_id))


def tuner_state_file(tuner: keras_tuner.Tuner) -> Path:
    """The tuner's own state file (``tuner0.json``)."""
    return Path(tuner._get_tuner_fname())


def is_worker(tuner: keras_tuner.Tuner) -> bool:
    """Whether this process is a worker of keras-tuner's distributed mode (its oracle is the chief's)."""
    return bool(tuner._is_worker())


def restore_grid_walk(oracle: keras_tuner.Oracle, start_order: list[str], end_order: list[str]) -> None:
    """Set the grid oracle's walk (kept only in memory): the trials in start order, continued from every ended one."""
    oracle._ordered_ids = LinkedList()
    for trial_id in start_order:
        oracle._ordered_ids.insert(trial_id)
    oracle._populate_next = list(end_order)


def serve_oracle(oracle: keras_tuner.Oracle, server: Any) -> Any:
    """keras-tuner's gRPC oracle service for ``oracle``, registered on ``server``; returns the servicer."""
    servicer = oracle_chief.OracleServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    return servicer


def oracle_stub(channel: Any) -> Any:
    """keras-tuner's gRPC client of the oracle service, on ``channel``."""
    return protos.get_service_grpc().OracleStub(channel)


def route_oracle_requests(tuner: keras_tuner.Tuner, stub: Any) -> None:
    """Send a worker's requests to the chief through ``stub``, in place of the one keras-tuner's client built.

    keras-tuner calls each of the stub's methods as ``stub.Method(request, wait_for_ready=..., timeout=...)``.
    """
    tuner.oracle.stub = stub


def stop_requested(servicer: Any) -> bool:
    """Whether the oracle has told some worker that the search is over."""
    return bool(servicer.stop_triggered)


def chief_may_exit(oracle: keras_tuner.Oracle) -> bool:
    """keras-tuner's own end condition for a chief: no trial running, every worker told to stop."""
    return bool(oracle_chief.exit_chief(oracle))


OVERSIZED = re.compile(r"^Oversized model: (\d+) parameters")


def oversized_params(error: BaseException) -> int | None:
    """The parameter count keras-tuner names when ``max_model_size`` refused a model, else None.

    keras-tuner says so only in the message of a plain FailedTrialError raised while building.
    """
    if not isinstance(error, keras_tuner.errors.FailedTrialError):
        return None
    match = OVERSIZED.match(str(error))
    return None if match is None else int(match[1])
