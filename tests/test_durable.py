"""Resuming restores keras-tuner's state exactly, even where keras-tuner itself would lose it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.helpers import write_tiny_space
from tuner.cli.main import main
from tuner.testing import without_timings

GRID = {
    "optimizer": {"name": "adam", "learning_rate": {"values": [0.01, 0.05]}},
    "model": {"conv_blocks": {"min": 1, "max": 2}, "filters": 4},
    "search": {"algorithm": "grid"},
}


def _search(space, runs, trials):
    assert main(["search", str(space), "--runs-dir", str(runs), "--max-trials", str(trials), "--quiet"]) == 0
    return without_timings(pd.read_csv(runs / "tiny" / "results.csv"))


@pytest.mark.slow
def test_a_grid_search_resumed_between_trials_continues_its_walk(tmp_path):
    space = write_tiny_space(tmp_path, **GRID)
    _search(space, tmp_path / "resumed", 2)
    resumed = _search(space, tmp_path / "resumed", 4)
    pd.testing.assert_frame_equal(resumed, _search(space, tmp_path / "straight", 4))
    assert len(resumed.drop_duplicates(["hp_conv_blocks", "hp_learning_rate"])) == 4


@pytest.mark.slow
def test_a_trial_saved_before_the_oracle_knew_it_is_created_again(tmp_path):
    space = write_tiny_space(tmp_path)
    project = tmp_path / "resumed" / "tiny" / "keras_tuner"
    _search(space, tmp_path / "resumed", 2)
    # What a kill between keras-tuner's two writes leaves: trial.json of a trial oracle.json never started.
    orphan = json.loads((project / "trial_1" / "trial.json").read_text())
    orphan.update(trial_id="2", status="RUNNING")
    (project / "trial_2").mkdir()
    (project / "trial_2" / "trial.json").write_text(json.dumps(orphan))
    resumed = _search(space, tmp_path / "resumed", 3)
    pd.testing.assert_frame_equal(resumed, _search(space, tmp_path / "straight", 3))
    assert list(resumed["status"]) == ["completed"] * 3
