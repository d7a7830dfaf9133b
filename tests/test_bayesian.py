"""The Bayesian oracle's random start is sized to the budget, so a Bayesian search of a usual size models the space."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reports.records import HP_PREFIX
from tests.tiny_spaces import write_tiny_space
from tuner.search import initial_points
from tuner.spec import load_spec
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
