"""``tuner validate``'s checks: the hyperparameter table, exact grid sizes, the extreme models."""

from __future__ import annotations

import keras_tuner
import pytest

from tests.helpers import assert_ranked_run, write_tiny_space
from tuner.cli.main import main
from tuner.engine.validate import check_space, grid_size
from tuner.model.space import declared_space
from tuner.space.loading import load_spec


def test_grid_size_counts_conditional_hyperparameters_exactly(space_file):
    path = space_file(
        """
        data: {source: digits}
        model:
          conv_blocks: {values: [1, 2]}
          filters: {values: [4, 8, 16]}
          dropout: {values: [0.0, 0.5]}
          dense_units: 0
        optimizer:
          name: {values: [adam, sgd]}
          learning_rate: {values: [0.01, 0.001]}
          momentum: {values: [0.0, 0.9]}
        training: {batch_size: 32}
        search: {algorithm: grid}
        """
    )
    spec, _ = load_spec(path)
    check = check_space(spec, path.parent)
    # depth 1: 3 filters, depth 2: 9; times dropout 2, lr 2; optimizer: adam 1 + sgd 2 momenta.
    assert check.grid_size == (3 + 9) * 2 * 2 * (1 + 2)


def _trials_of_a_real_grid(space: keras_tuner.HyperParameters, directory) -> list[dict]:
    """Every configuration keras-tuner's grid oracle hands out, ending each trial at once (no model)."""
    oracle = keras_tuner.oracles.GridSearchOracle(objective="val_loss", max_trials=10_000, hyperparameters=space)
    oracle._set_project_dir(str(directory), "grid")
    oracle.verbose = 0
    visited = []
    while True:
        trial = oracle.create_trial("tuner0")
        if trial.status == keras_tuner.engine.trial.TrialStatus.STOPPED:
            return visited
        visited.append(dict(trial.hyperparameters.values))
        oracle.update_trial(trial.trial_id, {"val_loss": 1.0})
        trial.status = keras_tuner.engine.trial.TrialStatus.COMPLETED
        oracle.end_trial(trial)


def test_grid_size_is_the_number_of_trials_keras_tuners_grid_runs_over_a_stepless_real_range(space_file, tmp_path):
    path = space_file(
        """
        data: {source: digits}
        model:
          conv_blocks: 1
          filters: 4
          dropout: {min: 0.0, max: 0.5}
          dense_units: 0
        optimizer:
          name: {values: [adam, sgd]}
          learning_rate: 0.01
          momentum: {min: 0.0, max: 0.9}
        training: {batch_size: 32}
        search: {algorithm: grid}
        """
    )
    spec, _ = load_spec(path)
    space = declared_space(spec)
    visited = _trials_of_a_real_grid(space, tmp_path / "project")
    # dropout: its minimum and ten quantiles; optimizer: adam 1 + sgd with 11 momenta.
    assert grid_size(space) == len(visited) == 11 * (1 + 11)
    assert len({tuple(sorted(values.items())) for values in visited}) == len(visited)
    dropouts = {values["dropout"] for values in visited}
    assert len(dropouts) == 11 and min(dropouts) == 0.0 and max(dropouts) < 0.5


def test_smallest_and_largest_models_bound_the_space(space_file):
    path = space_file("data: {source: digits}\nmodel:\n  conv_blocks: {min: 1, max: 3}\n  filters: {values: [4, 64]}\n")
    spec, _ = load_spec(path)
    check = check_space(spec, path.parent)
    assert check.grid_size is None
    assert 0 < check.smallest_params < check.largest_params
    names = {row.name: row for row in check.hyperparameters}
    assert names["filters_2"].condition == "conv_blocks in [3]"


def test_validate_prints_the_grid_size_of_the_default_space_with_stepless_real_ranges(
    space_file, tmp_path, monkeypatch, capsys
):
    space_file("data: {source: digits}\nsearch: {algorithm: grid}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "space.yaml"]) == 0
    result = capsys.readouterr()
    # filters over 1-3 blocks 4 + 16 + 64; dropout 5 (keras-tuner's steps stop at 0.4: 0.5 // 0.1 == 4.0);
    # dense 2; learning rate 11; adam 1 + sgd with 11 momenta; batch 2.
    assert f"grid: {84 * 5 * 2 * 11 * (1 + 11) * 2:,} combinations" in result.out


@pytest.mark.slow
def test_grid_search_over_a_stepless_learning_rate_runs_through_the_real_stack(tmp_path, run_tuner):
    # With the filters fixed, the grid's second step is the learning rate's first quantile.
    space = write_tiny_space(tmp_path, model={"filters": 4}, search={"algorithm": "grid", "max_trials": 2})
    result = run_tuner("search", str(space), "--runs-dir", "runs")
    assert result.returncode == 0, result.stderr
    results = assert_ranked_run(tmp_path / "runs" / "tiny", trials=2)
    rates = sorted(results["hp_learning_rate"])
    assert rates[0] == pytest.approx(1e-3) and 1e-3 < rates[1] < 1e-1
