"""Failed trials keep a one-line reason; a streak of failures stops the search with everything kept."""

from __future__ import annotations

import subprocess
from types import SimpleNamespace

import pandas as pd
import pytest
import tensorflow as tf
from keras_tuner.errors import FailedTrialError

from tests.helpers import tuner_executable, write_tiny_space
from tuner.engine.failures import check_finite, failure_reason, failure_streak, stop_if_failing
from tuner.errors import TrialsFailedError
from tuner.testing import run_tiny_search

# SGD with this step sends the weights to inf within the first batch.
DIVERGING = 1.0e30


def test_failure_reasons_are_one_line():
    assert failure_reason(FailedTrialError("diverged: loss became nan in epoch 1")) == (
        "diverged: loss became nan in epoch 1"
    )
    out_of_memory = tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor\nmore detail")
    assert failure_reason(out_of_memory) == "out of memory: OOM when allocating tensor"
    assert failure_reason(ValueError("Negative dimension size\ncaused by ...")) == "ValueError: Negative dimension size"


def test_non_finite_losses_fail_the_trial():
    check_finite([{"epoch": 1, "loss": 0.5, "val_loss": 0.6}])
    with pytest.raises(FailedTrialError, match="diverged: val_loss became inf in epoch 2"):
        check_finite([{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.4, "val_loss": float("inf")}])


def _oracle(statuses, limit=3):
    trials = {
        str(index): SimpleNamespace(trial_id=str(index), status=status, message="why")
        for index, status in enumerate(statuses)
    }
    return SimpleNamespace(trials=trials, end_order=list(trials), max_consecutive_failed_trials=limit)


def test_only_the_latest_failures_count_towards_the_limit(tmp_path):
    assert failure_streak(_oracle(["FAILED", "FAILED", "COMPLETED", "FAILED"])) == 1
    stop_if_failing(_oracle(["FAILED", "FAILED", "COMPLETED", "FAILED", "FAILED"]), tmp_path)
    with pytest.raises(TrialsFailedError, match=r"^stopped: the last 3 trials failed \(trial 3: why\)"):
        stop_if_failing(_oracle(["COMPLETED", "FAILED", "FAILED", "FAILED"]), tmp_path)


@pytest.mark.slow
def test_a_diverging_trial_is_recorded_as_failed_and_the_search_goes_on(tmp_path):
    space = write_tiny_space(
        tmp_path,
        optimizer={"name": "sgd", "learning_rate": {"values": [DIVERGING, 0.01]}, "momentum": 0.0},
        model={"conv_blocks": 1, "filters": 4},
        search={"algorithm": "grid", "max_trials": 2},
    )
    ranked = run_tiny_search(space, tmp_path / "runs", max_trials=2, epochs=1, algorithm="grid")
    by_rate = ranked.set_index("hp_learning_rate")
    assert by_rate.loc[0.01, "status"] == "completed"
    assert by_rate.loc[DIVERGING, "status"] == "failed"
    assert by_rate.loc[DIVERGING, "message"] == "diverged: loss became nan in epoch 1"
    assert pd.isna(by_rate.loc[DIVERGING, "objective"])
    assert list(ranked["rank"].astype("object").fillna(0)) == [1, 0]


@pytest.mark.slow
def test_consecutive_failures_stop_the_search_with_one_line_and_keep_the_trials(tmp_path):
    space = write_tiny_space(
        tmp_path,
        optimizer={"name": "sgd", "learning_rate": DIVERGING, "momentum": {"values": [0.0, 0.5, 0.9]}},
        search={"max_trials": 3, "max_consecutive_failures": 2},
    )
    runs = tmp_path / "runs"
    done = subprocess.run(
        [tuner_executable(), "search", str(space), "--runs-dir", str(runs), "--quiet"], capture_output=True, text=True
    )
    assert done.returncode == 3  # TrialsFailedError
    assert done.stderr.splitlines()[-1] == (
        "tuner: stopped: the last 2 trials failed (trial 1: diverged: loss became nan in epoch 1); the 2 trials so"
        f" far are kept in {runs / 'tiny'}; raise search.max_consecutive_failures and run the same command to go"
        " on, or fix the space and start afresh with --overwrite"
    )
    assert "Traceback" not in done.stderr
    results = pd.read_csv(runs / "tiny" / "results.csv")
    assert list(results["status"]) == ["failed", "failed"]
