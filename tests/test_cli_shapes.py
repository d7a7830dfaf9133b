"""The design notes' task end to end: ±1 labels, one real output, hinge loss, held-out test scores."""

from __future__ import annotations

import json
from importlib import resources

import pandas as pd
import pytest
import yaml


@pytest.mark.slow
def test_hinge_search_on_shapes_binary_ranks_losses_and_scores_the_test_set(run_tuner, tmp_path):
    bundled = resources.files("tuner.search_spaces") / "shapes_binary.yaml"
    space = yaml.safe_load(bundled.read_text(encoding="utf-8"))
    space["data"].update(samples=240, limit=200, image_size=[20, 20])
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(space), encoding="utf-8")

    result = run_tuner("search", "space.yaml", "--max-trials", "2", "--epochs", "1", "--runs-dir", "out")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    run_dir = tmp_path / "out" / "shapes-binary"
    results = pd.read_csv(run_dir / "results.csv")
    assert list(results["rank"]) == [1, 2]
    assert results["objective"].is_monotonic_increasing
    assert set(results["hp_loss"]) == {"hinge"}
    # Hinge loss on ±1 targets is >= 0 and near 1 for an untrained readout; accuracy is on the sign of ℓ.
    assert ((results["objective"] >= 0) & (results["objective"] < 3)).all()
    assert results["val_accuracy"].between(0, 1).all()
    tested = json.loads((run_dir / "test_metrics.json").read_text())
    assert tested["samples"] == 20
    assert set(tested["trials"]) == set(results["trial"].astype(str))
    assert results["test_loss"].notna().all() and results["test_accuracy"].between(0, 1).all()
    best = results.iloc[0]
    assert f"held-out test set, best trial {best['trial']}: test_accuracy {best['test_accuracy']:.4g}" in result.stdout
