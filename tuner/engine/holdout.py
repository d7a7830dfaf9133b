"""Score the best trials on the held-out test set, which the search itself never sees, and break the best
trial's results down by class.

keras-tuner keeps each trial's best-epoch weights; the top trials are restored from them and evaluated
once, at the end, so the test numbers stay an unbiased estimate for the models the search picked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from keras_tuner.engine.trial import TrialStatus

from tuner.data.dataset import Dataset, Subset
from tuner.engine.per_class import write_per_class
from tuner.engine.quiet import optimizer_state_left_behind
from tuner.rundir import files, layout

TOP_TRIALS = 3


def score_best(tuner: Any, data: Dataset, run_dir: Path, top: int = TOP_TRIALS) -> dict[str, dict[str, float]]:
    """Evaluate the ``top`` best trials on the test set (``test_metrics.json``) and write the best trial's
    per-class results on the validation and test sets (``per_class.json``)."""
    scores: dict[str, dict[str, float]] = {}
    hypermodel = tuner.hypermodel
    # keras-tuner pads its best trials with unfinished and failed ones, which have no weights to score. Without a
    # test set only the best is restored, for its per-class results: each restore costs a model build.
    best = tuner.oracle.get_best_trials(top if len(data.test) else 1)
    completed = [trial for trial in best if trial.status == TrialStatus.COMPLETED]
    for place, trial in enumerate(completed):
        with optimizer_state_left_behind():
            model = tuner.load_model(trial)
        hp = trial.hyperparameters
        if len(data.test):
            metrics = model.evaluate(hypermodel.batches(hp, data.test, shuffle=False), verbose=0, return_dict=True)
            scores[trial.trial_id] = {f"test_{name}": float(value) for name, value in metrics.items()}
        if place == 0:
            sets = {name: rows for name, rows in (("validation", data.val), ("test", data.test)) if len(rows)}
            predicted = {name: (rows.labels, _classes(model, hypermodel, hp, rows)) for name, rows in sets.items()}
            write_per_class(run_dir, trial.trial_id, data.class_names, predicted)
    if len(data.test):
        files.write_json(layout.test_metrics_file(run_dir), {"samples": len(data.test), "trials": scores})
    return scores


def _classes(model: Any, hypermodel: Any, hp: Any, rows: Subset) -> np.ndarray:
    """The classes ``model`` predicts for ``rows``."""
    from tuner.model.task import predicted_classes

    outputs = model.predict(hypermodel.batches(hp, rows, shuffle=False), verbose=0)
    return predicted_classes(np.asarray(outputs))
