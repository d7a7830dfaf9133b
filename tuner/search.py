"""Run a spec's search with keras-tuner and leave the results in a run directory.

keras-tuner's own tuners and oracles do all the searching; this module only chooses the tuner,
seeds each training run, records the per-epoch history keras-tuner does not keep, and writes the
run directory.
"""

from __future__ import annotations

import gc
import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import keras
import keras_tuner
import pandas as pd
import yaml
from keras_tuner.src.engine.tuner_utils import SaveBestEpoch

from reports.writer import write_reports
from tuner import rundir
from tuner.bayesian import BayesianOptimization, initial_points
from tuner.data import Dataset, load_data
from tuner.durable import DurableTuner
from tuner.errors import InputError
from tuner.failures import check_finite, failure_reason, stop_if_failing
from tuner.holdout import evaluate_top
from tuner.hypermodel import CNNHyperModel, check_depth
from tuner.interrupt import StopOnCtrlC
from tuner.lock import LOCK_FILE, RunLock
from tuner.quiet import optimizer_state_left_behind
from tuner.reproducible import check_replay, enable_determinism
from tuner.spec import Spec
from tuner.task import settle

TUNERS: dict[str, type[keras_tuner.Tuner]] = {
    "random": keras_tuner.RandomSearch,
    "bayesian": BayesianOptimization,
    "hyperband": keras_tuner.Hyperband,
    "grid": keras_tuner.GridSearch,
}


class Listener(Protocol):
    """Told how the search advances, e.g. to draw a progress bar."""

    def started(self, total: int | None, done: int) -> None: ...

    def trial_finished(self, trial_id: str, status: str, score: float | None, best: float | None) -> None: ...


class SilentListener:
    """A listener that shows nothing, for library use."""

    def started(self, total: int | None, done: int) -> None:
        """Nothing to show."""

    def trial_finished(self, trial_id: str, status: str, score: float | None, best: float | None) -> None:
        """Nothing to show."""


@dataclass(frozen=True)
class SearchResult:
    """Where a finished search left its results."""

    run_dir: Path
    seconds: float
    ranked: pd.DataFrame


def derive_seed(*parts: Any) -> int:
    """A positive 31-bit seed from any JSON-able parts (keras-tuner treats 0 as unseeded)."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return int.from_bytes(digest[:4], "big") % (2**31 - 1) + 1


def trial_seed(run_seed: int, values: dict[str, Any], restart: int) -> int:
    """A training seed that depends on the configuration and restart, not on scheduling."""
    own = {name: value for name, value in values.items() if not name.startswith("tuner/")}
    return derive_seed(run_seed, own, restart)


class RecordingTuner:
    """Mixed in front of a keras-tuner tuner: seeds every build, records every epoch, fails trials in one line."""

    def __init__(self, *args: Any, run_dir: Path, run_seed: int, listener: Listener, **kwargs: Any) -> None:
        self.run_dir = run_dir
        self.run_seed = run_seed
        self.listener = listener
        self.restart = 0
        self.ctrl_c = StopOnCtrlC()
        super().__init__(*args, **kwargs)

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        self.restart = 0
        return super().run_trial(trial, *args, **kwargs)

    def pre_create_trial(self) -> None:
        self.ctrl_c.check()
        super().pre_create_trial()

    def _try_run_and_update_trial(self, trial: Any, *args: Any, **kwargs: Any) -> None:
        # keras-tuner keeps a whole traceback as the message; a failed trial here keeps one line.
        try:
            self._run_and_update_trial(trial, *args, **kwargs)
            trial.status = keras_tuner.engine.trial.TrialStatus.COMPLETED
        except keras_tuner.errors.FatalError:
            raise
        except Exception as error:
            trial.status = keras_tuner.engine.trial.TrialStatus.FAILED
            trial.message = failure_reason(error)

    def _build_hypermodel(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        # keras-tuner clears the Keras session just before this call, which also drops the seed.
        keras.utils.set_random_seed(trial_seed(self.run_seed, hp.values, self.restart))
        try:
            with optimizer_state_left_behind():  # Hyperband continues an earlier trial's weights
                return super()._build_hypermodel(hp)
        except Exception as error:
            raise keras_tuner.errors.FailedTrialError(f"the model cannot be built: {failure_reason(error)}") from None

    def _build_and_fit_model(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        recorder = EpochRecorder()
        callbacks = [BestEpochInMemory(c) if isinstance(c, SaveBestEpoch) else c for c in kwargs.get("callbacks", [])]
        kwargs["callbacks"] = [*callbacks, recorder, self.ctrl_c]
        started = time.time()
        try:
            results = super()._build_and_fit_model(trial, *args, **kwargs)
        finally:
            # The model's size and shapes let reports show it and ``tuner export`` rebuild it without the data.
            rundir.write_json(
                rundir.history_file(self.run_dir, trial.trial_id, self.restart),
                {
                    "trial_id": trial.trial_id,
                    "restart": self.restart,
                    "epochs": recorder.epochs,
                    "params": recorder.params,
                    "input_shape": list(self.hypermodel.input_shape),
                    "num_classes": self.hypermodel.num_classes,
                    "started": started,
                    "finished": time.time(),
                },
            )
            self.restart += 1
        check_finite(recorder.epochs)
        return results

    def on_trial_end(self, trial: Any) -> None:
        super().on_trial_end(trial)
        if self._is_worker():  # in keras-tuner's distributed mode the chief keeps the reports
            return
        best = write_reports(self.run_dir).iloc[0]
        self.listener.trial_finished(
            trial.trial_id, str(trial.status).lower(), trial.score, _number(best.get("objective"))
        )
        stop_if_failing(self.oracle, self.run_dir)

    def replay(self, trial: Any, *args: Any, **kwargs: Any) -> list[dict[str, float]]:
        """Train a trial's first run again, seeded as in the search, and return its epochs without recording them."""
        self.restart = 0
        recorder = EpochRecorder()
        values = trial.hyperparameters.values
        if "tuner/epochs" in values:
            kwargs.update(epochs=values["tuner/epochs"], initial_epoch=values["tuner/initial_epoch"])
        model = self._try_build(trial.hyperparameters)
        self.hypermodel.fit(trial.hyperparameters, model, *args, callbacks=[recorder], **kwargs)
        return recorder.epochs


def _number(value: Any) -> float | None:
    return None if value is None or value != value else float(value)


class EpochRecorder(keras.callbacks.Callback):
    """Keeps every epoch's metrics and duration: keras-tuner stores only the best epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[dict[str, float]] = []
        self.params: int | None = None
        self._started = 0.0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.params = int(self.model.count_params())

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        record = {name: float(value) for name, value in (logs or {}).items()}
        record.update(epoch=epoch + 1, seconds=round(time.perf_counter() - self._started, 4))
        self.epochs.append(record)


class BestEpochInMemory(keras.callbacks.Callback):
    """keras-tuner's best-epoch checkpoint, written once when training ends rather than at every better epoch.

    The weights file costs tens of milliseconds per write on a small model, a copy in memory well under one.
    The optimiser's state is kept too, so the file holds exactly what keras-tuner's own callback would write.
    """

    def __init__(self, saver: SaveBestEpoch) -> None:
        super().__init__()
        self.saver = saver  # shared by a trial's restarts: its best value is the best over all of them
        self.best: list[Any] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        objective = self.saver.objective
        if objective.has_value(logs):  # without the objective, keras-tuner keeps the latest epoch
            value = objective.get_value(logs)
            if not objective.better_than(value, self.saver.best_value):
                return
            self.saver.best_value = value
        self.best = [variable.numpy() for variable in self._variables()]

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.best is None:
            return
        for variable, value in zip(self._variables(), self.best, strict=True):
            variable.assign(value)
        self.model.save_weights(self.saver.filepath)

    def _variables(self) -> list[Any]:
        return [*self.model.weights, *self.model.optimizer.variables]


def resolved_yaml(spec: Spec) -> str:
    """The spec with every default filled in, as YAML that ``tuner search`` reads back unchanged."""
    return yaml.safe_dump(spec.model_dump(mode="json", warnings=False), sort_keys=False)


def prepare_run_dir(run_dir: Path, spec: Spec, overwrite: bool) -> None:
    """Start afresh, or check that an existing run searched the same space before resuming it."""
    if overwrite and run_dir.exists():
        # The lock file stays: removing it while held would let a second search lock a new one. space.yaml goes
        # last: a kill midway leaves a run that still names its space, so resuming another space is still refused.
        for child in sorted(run_dir.iterdir(), key=lambda child: child.name == rundir.SPACE_FILE):
            if child.name != LOCK_FILE:
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    elif (run_dir / rundir.SPACE_FILE).exists():
        check_same_space(run_dir, spec)
    rundir.write_atomic(run_dir / rundir.SPACE_FILE, resolved_yaml(spec))


def check_same_space(run_dir: Path, spec: Spec) -> None:
    """Refuse to mix two spaces in one run (the budgets may change: raising one extends a run)."""
    before = yaml.safe_load((run_dir / rundir.SPACE_FILE).read_text(encoding="utf-8"))
    now = spec.model_dump(mode="json")
    for saved in (before, now):
        for budget in ("max_trials", "max_consecutive_failures"):
            saved.get("search", {}).pop(budget, None)
    if before != now:
        raise InputError(
            f"{run_dir} holds a search of a different space; pass --overwrite to replace it,"
            " or give this space another name",
            key="name",
        )


def make_tuner(
    spec: Spec, data: Dataset, run_dir: Path, overwrite: bool, listener: Listener, mixins: tuple[type, ...] = ()
) -> keras_tuner.Tuner:
    """The keras-tuner tuner that ``search.algorithm`` names, wired to record into ``run_dir``."""
    base = TUNERS[spec.search.algorithm]
    tuner_class = type(f"Recording{base.__name__}", (*mixins, RecordingTuner, base, DurableTuner), {})
    objective = keras_tuner.Objective(spec.search.objective.name, spec.search.objective.direction)
    budget: dict[str, Any] = {"max_trials": spec.search.max_trials}
    if spec.search.algorithm == "hyperband":
        budget = {"max_epochs": spec.training.epochs}
    if spec.search.algorithm == "bayesian":
        budget["num_initial_points"] = initial_points(spec)
    return tuner_class(
        hypermodel=CNNHyperModel(spec, data.input_shape, data.num_classes),
        objective=objective,
        seed=derive_seed(spec.seed, "oracle"),
        max_consecutive_failed_trials=spec.search.max_consecutive_failures,
        directory=str(run_dir),
        project_name=rundir.PROJECT_NAME,
        overwrite=overwrite,
        run_dir=run_dir,
        run_seed=spec.seed,
        listener=listener,
        executions_per_trial=spec.training.restarts,
        **budget,
    )


def run_search(
    spec: Spec,
    base_dir: Path,
    runs_dir: Path,
    overwrite: bool = False,
    verbose: bool = False,
    listener: Listener | None = None,
    check_reproducible: bool = False,
) -> SearchResult:
    """Search ``spec``'s space and leave a ranked run directory at ``runs_dir/spec.name``.

    With ``check_reproducible``, the best trial is trained again and must give the same epochs.
    """
    started = time.perf_counter()
    listener = listener or SilentListener()
    enable_determinism()
    spec, data = load_task(spec, base_dir)
    run_dir = runs_dir / spec.name
    with RunLock(run_dir):
        prepare_run_dir(run_dir, spec, overwrite)
        tuner = make_tuner(spec, data, run_dir, overwrite, listener)
        # Ended trials only: a trial interrupted by a crash is counted when its re-run ends.
        done = len(tuner.oracle.end_order)
        listener.started(None if spec.search.algorithm == "hyperband" else spec.search.max_trials, done)
        try:
            with tuner.ctrl_c:
                search_data(tuner, data, verbose)
        except KeyboardInterrupt:
            write_reports(run_dir)  # the interrupted trial shows as running
            raise
        result = finish(tuner, data, run_dir, started)
        if check_reproducible:
            validation = (data.x_val, data.y_val)
            check_replay(
                tuner, result.ranked, run_dir, data.x_train, data.y_train, validation_data=validation, verbose=0
            )
    return result


def load_task(spec: Spec, base_dir: Path) -> tuple[Spec, Dataset]:
    """The data, and the spec settled for it (concrete loss, depth the images hold), before any training.

    One function for every process that builds models (search, chief, worker, validate), so none skips a check.
    """
    data = load_data(spec.data, base_dir, spec.seed)
    spec = settle(spec, data.num_classes)
    check_depth(spec, data.input_shape)
    return spec, data


def search_data(tuner: keras_tuner.Tuner, data: Dataset, verbose: bool) -> None:
    """Run keras-tuner's search loop on a dataset (a distributed worker runs the same loop)."""
    # keras-tuner runs a full gc.collect() before every trial; with TensorFlow's and the data's objects moved
    # out of the collector's sight it takes milliseconds instead of half a second.
    gc.collect()
    gc.freeze()
    try:
        tuner.search(
            data.x_train,
            data.y_train,
            validation_data=(data.x_val, data.y_val),
            verbose=2 if verbose else 0,
        )
    finally:
        gc.unfreeze()


def finish(tuner: keras_tuner.Tuner, data: Dataset, run_dir: Path, started: float) -> SearchResult:
    """Score the top trials on the held-out test set, if there is one, and write the final reports."""
    if len(data.y_test):
        evaluate_top(tuner, data, run_dir)
    ranked = write_reports(run_dir)
    return SearchResult(run_dir=run_dir, seconds=time.perf_counter() - started, ranked=ranked)
