"""Run a spec's search with keras-tuner and leave the results in a run directory.

keras-tuner's own tuners and oracles do all the searching; this module only chooses the tuner, wires
it to record into the run directory, and scores and reports at the end.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import keras_tuner

from tuner.backend.determinism import enable_determinism
from tuner.compat import keras_tuner as kt_compat
from tuner.data.dataset import Dataset
from tuner.data.sources import load_data
from tuner.engine.bayesian import BayesianOracle, initial_points
from tuner.engine.budget import start_session
from tuner.engine.durable import DurableTuner, durable_oracle
from tuner.engine.holdout import score_best
from tuner.engine.interrupt import StopOnCtrlC
from tuner.engine.listener import Listener, SilentListener
from tuner.engine.recording import RecordingTuner
from tuner.engine.reproducible import check_replay
from tuner.engine.resume import prepare_run_dir
from tuner.engine.seeds import derive_seed
from tuner.model.hypermodel import CNNHyperModel
from tuner.model.space import check_depth
from tuner.model.task import class_weights, settle
from tuner.reports.trials import Trials
from tuner.reports.writer import write_reports
from tuner.rundir import files, layout
from tuner.rundir.lock import RunLock
from tuner.space.schema import Spec

ORACLES: dict[str, type[keras_tuner.Oracle]] = {
    "random": keras_tuner.oracles.RandomSearchOracle,
    "bayesian": BayesianOracle,
    "hyperband": keras_tuner.oracles.HyperbandOracle,
    "grid": keras_tuner.oracles.GridSearchOracle,
}


class HyperbandTuner(keras_tuner.Hyperband):
    """keras-tuner's Hyperband tuner (its epoch schedule and weight reuse) over the oracle the search built."""

    def __init__(self, oracle: keras_tuner.Oracle, hypermodel: keras_tuner.HyperModel, **kwargs: Any) -> None:
        # Hyperband's own __init__ only builds a HyperbandOracle; the search builds a durable one instead.
        keras_tuner.Tuner.__init__(self, oracle, hypermodel, **kwargs)


@dataclass(frozen=True)
class SearchResult:
    """Where a finished search left its results, and whether it ended on its time budget."""

    run_dir: Path
    seconds: float
    ranked: Trials
    stopped_on_time: bool = False


def make_tuner(
    spec: Spec,
    data: Dataset,
    run_dir: Path,
    overwrite: bool,
    listener: Listener,
    mixins: tuple[type, ...] = (),
    ctrl_c: StopOnCtrlC | None = None,
) -> keras_tuner.Tuner:
    """keras-tuner's tuner over the oracle that ``search.algorithm`` names, wired to record into ``run_dir``.

    ``ctrl_c`` is the stop signals' handler the tuner checks at its safe points (by default its own).
    """
    kt_compat.check()
    algorithm = spec.search.algorithm
    budget: dict[str, Any] = {"max_trials": spec.search.max_trials}
    if algorithm == "hyperband":
        budget = {"max_epochs": spec.training.epochs}
    if algorithm == "bayesian":
        budget["num_initial_points"] = initial_points(spec)
    oracle = durable_oracle(ORACLES[algorithm])(
        objective=keras_tuner.Objective(spec.search.objective.name, spec.search.objective.direction),
        seed=derive_seed(spec.seed, "oracle"),
        max_consecutive_failed_trials=spec.search.max_consecutive_failures,
        **budget,
    )
    algorithm_tuner = (HyperbandTuner,) if algorithm == "hyperband" else ()
    tuner_class = type(
        f"Recording{type(oracle).__name__}Tuner", (*mixins, RecordingTuner, DurableTuner, *algorithm_tuner), {}
    )
    tuner = tuner_class(
        oracle=oracle,
        hypermodel=CNNHyperModel(
            spec, data.input_shape, data.class_names, data.pixel_scale, class_weights(spec.data, data)
        ),
        directory=str(run_dir),
        project_name=layout.PROJECT_NAME,
        overwrite=overwrite,
        run_dir=run_dir,
        run_seed=spec.seed,
        listener=listener,
        ctrl_c=ctrl_c,
        executions_per_trial=spec.training.restarts,
        max_model_size=spec.search.max_params,
    )
    # keras-tuner makes (or, overwriting, removes) its project folder, and makes it 0755 whatever the umask.
    files.make_folder(layout.project_dir(run_dir))
    files.share_folder(layout.project_dir(run_dir))
    return tuner


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
    with files.writing_in(run_dir), RunLock(run_dir):
        prepare_run_dir(run_dir, spec, overwrite)
        tuner = make_tuner(spec, data, run_dir, overwrite, listener)
        tuner.oracle.time_budget = start_session(run_dir, spec.search.max_time)
        # Ended trials only: a trial interrupted by a crash is counted when its re-run ends.
        done = len(tuner.oracle.end_order)
        listener.started(None if spec.search.algorithm == "hyperband" else spec.search.max_trials, done)
        try:
            with tuner.ctrl_c:
                search_data(tuner, data, verbose, spec.search.tensorboard)
                result = finish(tuner, data, run_dir, started)
        except BaseException:
            # Live reports are paced, so whatever stopped the search (Ctrl-C, a failure streak), they are written
            # now, with every trial that ended; an interrupted one shows as running.
            write_reports(run_dir)
            raise
        if check_reproducible:
            check_replay(tuner, result.ranked.frame, run_dir, data.train, validation_data=data.val, verbose=0)
    return result


def load_task(spec: Spec, base_dir: Path) -> tuple[Spec, Dataset]:
    """The data, and the spec settled for it (concrete loss, depth the images hold), before any training.

    One function for every process that builds models (search, chief, worker, validate), so none skips a check.
    """
    data = load_data(spec.data, base_dir, spec.seed)
    return fitted_to_data(spec, data.input_shape, data.num_classes), data


def fitted_to_data(spec: Spec, input_shape: tuple[int, int, int], num_classes: int) -> Spec:
    """The spec settled for data of this shape and class count, or an InputError saying why it cannot fit."""
    spec = settle(spec, num_classes)
    check_depth(spec, input_shape)
    return spec


def search_data(tuner: keras_tuner.Tuner, data: Dataset, verbose: bool, tensorboard: bool = False) -> None:
    """Run keras-tuner's search loop on a dataset (a distributed worker runs the same loop).

    With ``tensorboard``, keras-tuner gives Keras' TensorBoard callback a folder per trial and restart and adds
    the HParams records TensorBoard's HParams dashboard reads.
    """
    callbacks = []
    if tensorboard:
        log_dir = layout.tensorboard_dir(tuner.run_dir)
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False, update_freq="epoch"))
    # keras-tuner runs a full gc.collect() before every trial; with TensorFlow's and the data's objects moved
    # out of the collector's sight it takes milliseconds instead of half a second. A freeze made before (the
    # command line's, after importing TensorFlow) is kept: the test-set scoring after the search builds models
    # through keras-tuner too, one full collection each.
    frozen_before = gc.get_freeze_count()
    gc.collect()
    gc.freeze()
    try:
        tuner.search(data.train, validation_data=data.val, verbose=2 if verbose else 0, callbacks=callbacks)
    finally:
        if not frozen_before:
            gc.unfreeze()


def finish(tuner: keras_tuner.Tuner, data: Dataset, run_dir: Path, started: float) -> SearchResult:
    """Score the top trials on the held-out test set, if there is one, and write the final reports."""
    oracle = tuner.oracle
    oracle.time_budget.record(stopped_on_time=oracle.stopped_on_time)
    score_best(tuner, data, run_dir)
    ranked = write_reports(run_dir)
    seconds = time.perf_counter() - started
    return SearchResult(run_dir=run_dir, seconds=seconds, ranked=ranked, stopped_on_time=oracle.stopped_on_time)
