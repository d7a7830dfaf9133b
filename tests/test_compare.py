from pathlib import Path

import pandas as pd
import pytest

from tuner.errors import InputError
from tuner.reports.compare import best_of_runs
from tuner.testing.rundirs import random_trials, write_run


def test_best_trial_of_each_run_best_run_first(tmp_path: Path):
    trials = random_trials(8, seed=1)
    worst_two = sorted(trials, key=lambda trial: min(trial.curves[0]))[-2:]
    worse = write_run(tmp_path / "a", worst_two, name="a")
    better = write_run(tmp_path / "b", trials, name="b")
    empty = write_run(tmp_path / "c", [], name="c")
    table = best_of_runs([worse, better, empty]).frame
    assert table["run"].tolist() == ["b", "a", "c"]
    assert table["rank"].tolist()[:2] == [1, 2] and pd.isna(table["rank"].iloc[2])
    assert table["trials"].tolist() == [8, 2, 0]
    assert table["objective"].iloc[0] <= table["objective"].iloc[1]


def test_runs_ranked_by_different_objectives_are_refused(tmp_path: Path):
    loss = write_run(tmp_path / "a", random_trials(2))
    accuracy = write_run(tmp_path / "b", random_trials(2), objective="val_accuracy", direction="max")
    with pytest.raises(InputError, match="compare runs with the same objective"):
        best_of_runs([loss, accuracy])
