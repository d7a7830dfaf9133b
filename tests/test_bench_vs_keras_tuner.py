"""The keras-tuner-by-hand benchmark runs both sides at a tiny size and reports a verdict matching its exit code."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers import bench_module, run_bench


@pytest.mark.slow
def test_vs_keras_tuner_times_both_sides(tmp_path):
    results = tmp_path / "vs.json"
    done = run_bench(
        "vs_keras_tuner.py",
        "--trials",
        "2",
        "--epochs",
        "1",
        "--target",
        "100",
        "--repeat",
        "1",
        "--variant",
        "tool=--workers 1",
        "--results",
        str(results),
    )
    figures = json.loads(results.read_text())
    assert "tool_ratio" not in figures["missed"], done.stdout + done.stderr
    # Two one-epoch trials: which side has the better loss is chance; the exit code must say what the file says.
    assert done.returncode == (1 if figures["missed"] else 0)
    assert len(figures["by_hand_s"]) == len(figures["tool_s"]) == 1  # one search per side and seed
    assert "seed 42" in done.stdout
    assert len(figures["tool_paired_loss_ratio"]["ratios"]) == 2  # trial by trial
    assert "(tuner --workers 1)" in done.stdout and "(by hand)" in done.stdout


def test_the_median_bound_covers_the_true_median_95_times_in_100():
    median_upper_bound = bench_module("vs_keras_tuner").median_upper_bound

    assert median_upper_bound([float(value) for value in range(1, 101)]) == 59.0
    assert median_upper_bound([3.0, 1.0, 2.0]) == 3.0
    rng = np.random.default_rng(0)
    covered = [median_upper_bound(list(rng.uniform(size=100))) >= 0.5 for _ in range(4000)]
    # The exact coverage at n = 100 is P(Binomial(100, 1/2) <= 58) = 0.956; three standard errors either side.
    assert 0.946 <= np.mean(covered) <= 0.966
