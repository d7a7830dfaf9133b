"""The Optuna benchmark runs every method once at a tiny size (Optuna comes from the bench extra)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_bench


@pytest.mark.slow
def test_vs_optuna_runs_every_method(tmp_path):
    pytest.importorskip("optuna")
    results = tmp_path / "vs.json"
    done = run_bench(
        "vs_optuna.py",
        "--seeds",
        "1",
        "--trials",
        "2",
        "--epochs",
        "1",
        "--tasks",
        "digits",
        "--limit",
        "150",
        "--results",
        str(results),
    )
    figures = json.loads(results.read_text())
    assert done.returncode == (1 if figures["missed"] else 0), done.stdout + done.stderr
    runs = figures["runs"]["digits"]
    assert sorted(runs) == ["bayesian", "hyperband", "random", "tpe_hyperband", "tpe_median"]
    assert all(0 < run[0]["epochs"] <= 2 and run[0]["best_val_loss"] > 0 for run in runs.values())
    assert "digits.best_loss_ratio: " in done.stdout
