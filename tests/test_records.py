from pathlib import Path

import pandas as pd
import pytest

from tuner.errors import InputError
from tuner.reports.records import LEADING, TRAILING, load_run, load_trials
from tuner.testing.rundirs import FakeTrial, choice, digits_space, random_trials, write_run


def _values(**overrides):
    values = {"conv_blocks": 1, "kernel_size": 3, "pooling": "max", "batch_norm": False, "dropout": 0.0}
    values.update(dense_units=0, optimizer="adam", learning_rate=0.01, epochs=3, batch_size=32, loss="auto")
    values.update(filters_0=8, **overrides)
    return values


def test_columns_come_in_a_fixed_order(tmp_path: Path):
    trials = load_trials(write_run(tmp_path / "run", random_trials(3)))
    metrics = ["accuracy", "loss", "val_accuracy"]
    hp = [c for c in trials.frame.columns if c.startswith("hp_")]
    assert list(trials.frame.columns) == [*LEADING, *metrics, *TRAILING, *hp]
    assert hp[:3] == ["hp_conv_blocks", "hp_kernel_size", "hp_pooling"]
    assert trials.objective == "val_loss" and trials.direction == "min"
    assert "kernel_size" not in trials.tuned and "learning_rate" in trials.tuned


def test_restarts_give_mean_spread_and_best(tmp_path: Path):
    trial = FakeTrial(values=_values(), curves=[[1.0, 0.5, 0.6], [0.9, 0.7, 0.8], [0.4, 0.3, 0.35]])
    run = load_run(write_run(tmp_path / "run", [trial], restarts=3))
    row = run.trials.frame.iloc[0]
    assert row["restarts"] == 3
    assert row["objective"] == pytest.approx((0.5 + 0.7 + 0.3) / 3)
    assert row["objective_std"] == pytest.approx(0.2)
    assert row["objective_best"] == pytest.approx(0.3)
    assert row["best_epoch"] == 2
    assert row["epochs_run"] == 9
    assert row["params"] == trial.params
    assert run.restart_objectives["0"] == pytest.approx([0.5, 0.7, 0.3])
    assert run.wall_seconds == pytest.approx(3 * 1.6)


def test_best_restart_of_a_maximised_objective_is_the_highest(tmp_path: Path):
    trial = FakeTrial(values=_values(), curves=[[1.0, 0.5], [0.3, 0.2]])
    row = load_trials(write_run(tmp_path / "run", [trial], objective="val_accuracy", direction="max")).frame.iloc[0]
    # val_accuracy = 1 - loss / 2.5: the best epoch of each restart is its lowest loss.
    assert row["objective_best"] == pytest.approx(1 - 0.2 / 2.5)
    assert row["objective"] == pytest.approx(1 - (0.5 + 0.2) / 2 / 2.5)


def test_failed_and_running_trials_are_kept_with_their_reason(tmp_path: Path):
    failed = FakeTrial(values=_values(), status="FAILED", message="Traceback ...\n  File x\nValueError: too deep\n")
    running = FakeTrial(values=_values(dropout=0.1), status="RUNNING")
    trials = load_trials(write_run(tmp_path / "run", [*random_trials(1), failed, running])).frame.set_index("trial")
    assert trials.loc["1", "status"] == "failed"
    assert trials.loc["1", "message"] == "ValueError: too deep"
    assert trials["objective"].isna().loc["1"]
    assert trials.loc["2", "status"] == "running"


def test_inactive_hyperparameters_are_empty_and_integers_stay_integers(tmp_path: Path):
    deep = FakeTrial(values=_values(conv_blocks=2, filters_1=16, optimizer="sgd", momentum=0.5), curves=[[0.5]])
    shallow = FakeTrial(values=_values(), curves=[[0.6]])
    trials = load_trials(write_run(tmp_path / "run", [deep, shallow])).frame
    assert str(trials["hp_filters_1"].dtype) == "Int64"
    assert trials["hp_filters_1"].tolist()[0] == 16
    assert trials["hp_filters_1"].isna().tolist() == [False, True]
    assert trials["hp_momentum"].isna().tolist() == [False, True]
    assert str(trials["hp_batch_norm"].dtype) == "boolean"


def test_keras_tuner_internal_keys_are_left_out(tmp_path: Path):
    trial = FakeTrial(values=_values(**{"tuner/epochs": 2, "tuner/round": 0}), curves=[[0.5]])
    trials = load_trials(write_run(tmp_path / "run", [trial], space=[*digits_space(), choice("tuner/round", [0])]))
    assert not [c for c in trials.frame.columns if "tuner/" in c]


def test_a_directory_without_a_space_is_not_a_run(tmp_path: Path):
    with pytest.raises(InputError, match="not a run directory"):
        load_trials(tmp_path)


def test_a_diverged_trial_keeps_its_row_and_says_why(tmp_path: Path):
    diverged = FakeTrial(values=_values(), curves=[[float("nan"), float("nan")]])
    trials = load_trials(write_run(tmp_path / "run", [diverged, *random_trials(1)])).frame.set_index("trial")
    assert trials.loc["0", "status"] == "completed"
    assert pd.isna(trials.loc["0", "objective"])
    assert trials.loc["0", "message"] == "val_loss was never finite (training diverged)"


def test_a_trial_record_caught_half_written_shows_as_running(tmp_path: Path):
    run_dir = write_run(tmp_path / "run", random_trials(2))
    record = run_dir / "keras_tuner" / "trial_1" / "trial.json"
    record.write_text(record.read_text()[:40])
    (run_dir / "keras_tuner" / "oracle.json").write_text("{")
    trials = load_trials(run_dir).frame.set_index("trial")
    assert trials.loc["1", "status"] == "running" and trials.loc["0", "status"] == "completed"
    assert trials["hp_learning_rate"].notna().loc["0"]


def _float(name: str, sampling: str, min_value: float, max_value: float, step: float | None) -> dict:
    config = {"name": name, "conditions": [], "default": min_value, "min_value": min_value, "max_value": max_value}
    return {"class_name": "Float", "config": {**config, "step": step, "sampling": sampling}}


def test_stepped_floats_lose_keras_tuners_binary_noise_and_stepless_ones_are_kept(tmp_path: Path):
    space = [
        *(item for item in digits_space() if item["config"]["name"] not in ("dropout", "learning_rate", "momentum")),
        _float("dropout", "linear", 0.05, 0.45, 0.1),
        _float("learning_rate", "log", 0.001, 0.1, 3),
        _float("momentum", "linear", 0.0, 0.9, None),
    ]
    noisy = _values(dropout=0.05 + 0.1, learning_rate=0.001 * 3**2, optimizer="sgd", momentum=0.0031622776601683794)
    assert (noisy["dropout"], noisy["learning_rate"]) == (0.15000000000000002, 0.009000000000000001)
    trials = load_trials(write_run(tmp_path / "run", [FakeTrial(values=noisy, curves=[[0.5]])], space=space)).frame
    assert trials.loc[0, "hp_dropout"] == 0.15
    assert trials.loc[0, "hp_learning_rate"] == 0.009
    assert trials.loc[0, "hp_momentum"] == 0.0031622776601683794
