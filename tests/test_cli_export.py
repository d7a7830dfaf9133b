import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tuner.data.sources import load_data
from tuner.space.loading import load_spec
from tuner.testing.rundirs import write_tiny_space

TUNER = str(Path(sys.executable).with_name("tuner"))


def tuner(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([TUNER, *arguments], capture_output=True, text=True, cwd=cwd, timeout=300)


def _values(run_dir: Path, trial_id: str) -> dict:
    record = json.loads((run_dir / "keras_tuner" / f"trial_{trial_id}" / "trial.json").read_text())
    return record["hyperparameters"]["values"]


@pytest.mark.slow
def test_export_then_retrain_from_the_yaml_gives_the_same_hyperparameters(tmp_path: Path):
    assert (
        tuner("search", str(write_tiny_space(tmp_path)), "--runs-dir", "runs", "--quiet", cwd=tmp_path).returncode == 0
    )
    run_dir = tmp_path / "runs" / "tiny"
    ranked = pd.read_csv(run_dir / "results.csv", dtype={"trial": str})
    exported = tuner("export", str(run_dir), "--rank", "2", "--output", "out/second.keras", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    second = ranked[ranked["rank"] == 2].iloc[0]
    assert f"trial {second['trial']}" in exported.stdout
    assert (tmp_path / "out" / "second.keras").stat().st_size > 0

    # The saved model is the checkpoint: the best epoch over both restarts, so it scores the best restart's loss.
    import keras

    spec, _ = load_spec(tmp_path / "out" / "second.yaml")
    data = load_data(spec.data, tmp_path, spec.seed)
    model = keras.models.load_model(tmp_path / "out" / "second.keras")
    scores = model.evaluate(data.val.pixels(), data.val.labels, verbose=0, return_dict=True)
    assert model.count_params() == second["params"]
    assert scores["loss"] == pytest.approx(second["objective_best"], rel=1e-4)

    retrain = tuner("search", "out/second.yaml", "--runs-dir", "again", "--quiet", cwd=tmp_path)
    assert retrain.returncode == 0, retrain.stderr
    again = tmp_path / "again" / f"tiny-trial-{second['trial']}"
    assert _values(again, "0") == _values(run_dir, second["trial"])


@pytest.mark.slow
def test_export_of_a_rank_that_does_not_exist_is_one_line(tmp_path: Path):
    from tuner.testing.rundirs import random_trials, write_run

    run_dir = write_run(tmp_path / "run", random_trials(2))
    result = tuner("export", str(run_dir), "--rank", "5", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"tuner: {run_dir}: no trial has rank 5 (2 completed trials are ranked)"
