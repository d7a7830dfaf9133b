"""keras-tuner's model-based algorithms as `tuner` runs them: Bayesian search models the space within a usual
budget and picks what keras-tuner's own oracle picks, only faster; Hyperband continues trials quietly."""

from __future__ import annotations

import json
from pathlib import Path

import keras_tuner
import numpy as np
import pandas as pd
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor

from tests.helpers import write_tiny_space
from tuner.engine.bayesian import BayesianOracle, CheckedOnceGaussianProcess, initial_points
from tuner.model.space import declared_space
from tuner.reports.records import HP_PREFIX
from tuner.rundir import layout
from tuner.space.loading import load_spec
from tuner.testing import run_tiny_search

DIGITS = Path(__file__).parent.parent / "search_spaces" / "digits.yaml"


def _digits(**search: object):
    spec, _ = load_spec(DIGITS)
    return spec.model_copy(update={"search": spec.search.model_copy(update={"algorithm": "bayesian", **search})})


def test_the_random_start_is_a_quarter_of_the_budget_within_three_per_tunable_hyperparameter():
    # The digits space has 10 tunable hyperparameters (5 fixed ones do not count).
    assert initial_points(_digits(max_trials=20)) == 5
    assert initial_points(_digits(max_trials=6)) == 3
    assert initial_points(_digits(max_trials=400)) == 30
    assert initial_points(_digits(max_trials=20, initial_points=12)) == 12


def _configurations(ranked: pd.DataFrame) -> list[dict]:
    columns = [column for column in ranked.columns if column.startswith(HP_PREFIX)]
    by_trial = ranked.sort_values("trial")
    return [dict(zip(columns, row, strict=True)) for row in by_trial[columns].itertuples(index=False)]


@pytest.mark.slow
def test_after_its_random_start_the_bayesian_oracle_leaves_the_random_draws(tmp_path, run_tuner):
    space = write_tiny_space(tmp_path, search={"max_trials": 5})
    randomly = _configurations(run_tiny_search(space, tmp_path / "random", max_trials=5))
    bayesian = write_tiny_space(tmp_path, "bayesian.yaml", search={"algorithm": "bayesian", "initial_points": 2})
    result = run_tuner("search", str(bayesian), "--max-trials", "5", "--runs-dir", "runs")
    assert result.returncode == 0, result.stderr
    # The oracle refits its Gaussian process after every trial; its notes stay off the terminal.
    assert "Warning" not in result.stdout + result.stderr
    modelled = _configurations(pd.read_csv(tmp_path / "runs" / "tiny" / "results.csv"))
    assert len(modelled) == len(randomly) == 5 and modelled[0]
    # Both oracles draw their random trials from the same seeded generator.
    assert modelled[:2] == randomly[:2]
    assert modelled[2:] != randomly[2:]


@pytest.mark.slow
def test_hyperband_continues_earlier_trials_without_notes_on_the_terminal(tmp_path, run_tuner):
    space = write_tiny_space(tmp_path, search={"algorithm": "hyperband"}, training={"epochs": 3, "early_stopping": 0})
    result = run_tuner("search", str(space), "--runs-dir", "runs")
    assert result.returncode == 0, result.stderr
    # A continued trial loads an earlier one's weights into a fresh optimizer; Keras' note about it stays hidden.
    assert "Warning" not in result.stdout + result.stderr
    project = tmp_path / "runs" / "tiny" / layout.PROJECT_NAME
    trials = [json.loads(path.read_text()) for path in project.glob("trial_*/trial.json")]
    assert any("tuner/trial_id" in trial["hyperparameters"]["values"] for trial in trials)


def test_the_quick_regressor_predicts_exactly_what_scikit_learn_predicts():
    rng = np.random.default_rng(0)
    x, y, points = rng.uniform(size=(12, 5)), rng.uniform(size=12), rng.uniform(size=(7, 5))
    oracle = keras_tuner.oracles.BayesianOptimizationOracle(objective="val_loss", max_trials=1, seed=3)
    theirs = oracle._make_gpr().fit(x, y)
    ours = BayesianOracle(objective="val_loss", max_trials=1, seed=3).make_regressor().fit(x, y)
    assert isinstance(ours, CheckedOnceGaussianProcess) and type(theirs) is GaussianProcessRegressor
    for point in points:
        expected, got = theirs.predict(point.reshape(1, -1), return_std=True), ours.predict(point.reshape(1, -1), True)
        assert np.array_equal(expected[0], got[0]) and np.array_equal(expected[1], got[1])


def _suggestion(oracle: keras_tuner.Oracle, tmp_path: Path, space: keras_tuner.HyperParameters) -> dict:
    oracle._set_project_dir(str(tmp_path), type(oracle).__name__)
    oracle.hyperparameters, oracle.verbose = space.copy(), 0
    losses = np.random.default_rng(1).uniform(0.1, 2.0, size=4)  # the fourth trial and the next are suggested
    for index, loss in enumerate(losses):
        trial = oracle.create_trial(f"worker-{index}")
        oracle.update_trial(trial.trial_id, {"val_loss": float(loss)})
        trial.status = keras_tuner.engine.trial.TrialStatus.COMPLETED
        oracle.end_trial(trial)
    return oracle.populate_space("next")["values"]


@pytest.mark.slow
def test_the_oracle_suggests_what_keras_tuners_own_suggests(tmp_path):
    spec, _ = load_spec(write_tiny_space(tmp_path))
    space = declared_space(spec)
    settings = {"objective": "val_loss", "max_trials": 10, "num_initial_points": 3, "seed": 5}
    theirs = _suggestion(keras_tuner.oracles.BayesianOptimizationOracle(**settings), tmp_path, space)
    ours = _suggestion(BayesianOracle(**settings), tmp_path, space)
    assert ours == theirs and ours
