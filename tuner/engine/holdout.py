"""Score the best trials on the held-out test set, which the search itself never sees.

keras-tuner keeps each trial's best-epoch weights; the top trials are restored from them and evaluated
once, at the end, so the test numbers stay an unbiased estimate for the models the search picked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuner.data.dataset import Dataset
from tuner.engine.quiet import optimizer_state_left_behind
from tuner.model.task import resolve_loss, targets
from tuner.rundir import files, layout

TOP_TRIALS = 3


def evaluate_top(tuner: Any, data: Dataset, run_dir: Path, top: int = TOP_TRIALS) -> dict[str, dict[str, float]]:
    """Evaluate the ``top`` best trials on ``data``'s test set and write ``test_metrics.json``."""
    scores: dict[str, dict[str, float]] = {}
    for trial in tuner.oracle.get_best_trials(top):
        with optimizer_state_left_behind():
            model = tuner.load_model(trial)
        loss = resolve_loss(trial.hyperparameters.get("loss"), data.num_classes)
        metrics = model.evaluate(
            data.x_test,
            targets(data.y_test, loss),
            batch_size=trial.hyperparameters.get("batch_size"),
            verbose=0,
            return_dict=True,
        )
        scores[trial.trial_id] = {f"test_{name}": float(value) for name, value in metrics.items()}
    files.write_json(layout.test_metrics_file(run_dir), {"samples": len(data.y_test), "trials": scores})
    return scores
