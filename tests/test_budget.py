"""search.max_time: no trial starts after the budget, a running one stops at its epoch's end, and a larger budget
extends the run, with or without workers."""

from __future__ import annotations

import json
import time

import keras
import keras_tuner
import numpy as np
import pandas as pd
import pytest

from tests.helpers import write_tiny_space
from tuner.engine.budget import StopOnTime, read_deadline, start_session
from tuner.engine.durable import durable_oracle
from tuner.errors import InputError
from tuner.rundir import layout
from tuner.rundir.layout import read_budget
from tuner.space.loading import load_spec


@pytest.mark.parametrize(
    ("written", "seconds"), [("90s", 90.0), ("20m", 1200.0), ("8h", 28800.0), ("1.5h", 5400.0), ("45", 45.0)]
)
def test_max_time_takes_seconds_or_a_number_with_a_unit(space_file, written, seconds):
    value = written if not written.isdigit() else int(written)
    spec, _ = load_spec(space_file(f"data: {{source: digits}}\nsearch:\n  max_time: {json.dumps(value)}\n"))
    assert spec.search.max_time == seconds


@pytest.mark.parametrize("written", ['"5 minutes"', "0", "-3", "true", '"1d"'])
def test_a_max_time_that_is_no_duration_is_one_located_line(space_file, written):
    path = space_file(f"data: {{source: digits}}\nsearch:\n  max_time: {written}\n")
    with pytest.raises(InputError) as raised:
        load_spec(path)
    assert raised.value.key == "search.max_time"
    assert "\n" not in str(raised.value)


def test_sessions_add_up_and_a_spent_budget_expires_at_once(tmp_path):
    first = start_session(tmp_path, 10.0)
    assert not first.expired()
    assert read_deadline(tmp_path) == pytest.approx(first.started + 10.0)
    with layout.budget_file(tmp_path).open("w") as stream:  # as if the first session had run 12 s
        json.dump({"max_time": 10.0, "spent": 12.0, "deadline": None, "stopped_on_time": True}, stream)
    spent = start_session(tmp_path, 10.0)
    assert spent.expired()
    assert spent.deadline == pytest.approx(spent.started)
    raised = start_session(tmp_path, 20.0)
    assert raised.deadline == pytest.approx(raised.started + 8.0, abs=0.1)
    unlimited = start_session(tmp_path, None)
    assert unlimited.deadline is None and not unlimited.expired()
    assert read_budget(tmp_path)["spent"] >= 12.0


def test_the_oracle_stops_handing_out_trials_after_the_deadline(tmp_path):
    hyperparameters = keras_tuner.HyperParameters()
    hyperparameters.Int("units", 1, 100)
    oracle = durable_oracle(keras_tuner.oracles.RandomSearchOracle)(
        objective="val_loss", max_trials=10, hyperparameters=hyperparameters, seed=1
    )
    oracle._set_project_dir(str(tmp_path), "project")  # what a tuner does when it takes the oracle
    oracle.time_budget = start_session(tmp_path, 1000.0)
    assert oracle.create_trial("a").status == "RUNNING"
    oracle.time_budget = start_session(tmp_path, 1e-6)
    time.sleep(0.01)
    assert oracle.create_trial("b").status == "STOPPED"
    assert oracle.stopped_on_time
    assert oracle.create_trial("a").status == "RUNNING"  # a tuner keeps the trial it holds


def test_training_stops_at_the_end_of_the_epoch_the_deadline_passes_in():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    data = np.zeros((8, 2)), np.zeros((8, 1))
    late, early = StopOnTime(time.time() + 3600), StopOnTime(time.time() - 1)
    assert len(model.fit(*data, epochs=3, verbose=0, callbacks=[late]).history["loss"]) == 3
    assert not late.stopped
    assert len(model.fit(*data, epochs=3, verbose=0, callbacks=[early]).history["loss"]) == 1
    assert early.stopped


@pytest.mark.slow
def test_a_search_stops_on_time_and_a_larger_budget_extends_it_with_workers(tmp_path, run_tuner):
    # One trial takes longer than the first budget, so it is cut at an epoch's end.
    space = write_tiny_space(tmp_path, search={"max_trials": 40}, training={"epochs": 60, "batch_size": 32})
    first = run_tuner("search", str(space), "--max-time", "2s")
    assert first.returncode == 0, first.stderr
    run_dir = tmp_path / "runs" / "tiny"
    assert (
        "stopped on time: the 2 s budget is spent, 1 trial(s) completed of 40;"
        f" to go on, raise it: tuner search {space} --max-time 4s" in first.stdout
    )
    before = pd.read_csv(run_dir / "results.csv", dtype={"trial": str})
    assert list(before["status"]) == ["completed"]
    assert before["message"].iloc[0].startswith("stopped on time (epochs trained: ")
    assert before["epochs_run"].iloc[0] < 60 * 2  # two restarts of 60 epochs would be 120
    assert "stopped on time" in (run_dir / "report.html").read_text(encoding="utf-8")

    extended = run_tuner("search", str(space), "--max-time", "15s", "--workers", "2", "--quiet")
    assert extended.returncode == 0, extended.stderr
    assert "stopped on time: the 15 s budget is spent" in extended.stdout
    after = pd.read_csv(run_dir / "results.csv", dtype={"trial": str}).set_index("trial")
    assert 1 < len(after) < 40
    assert set(after["status"]) == {"completed"}
    assert after.loc[before["trial"].iloc[0], "objective"] == before["objective"].iloc[0]
    budget = read_budget(run_dir)
    assert budget["stopped_on_time"] and budget["max_time"] == 15.0
    assert 15.0 <= budget["spent"] < 50.0


def test_keras_tuners_oversized_model_error_is_recognised():
    # Pinned: tuner reads the parameter count from keras-tuner's message (tuner/compat/keras_tuner.py).
    from keras_tuner.src.engine.tuner import Tuner

    from tuner.compat.keras_tuner import oversized_params

    class Sized:
        max_model_size = 10
        _build_hypermodel = staticmethod(lambda hp: keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)]))

    with pytest.raises(keras_tuner.errors.FailedTrialError) as raised:
        Tuner._try_build(Sized(), keras_tuner.HyperParameters())
    assert oversized_params(raised.value) == 16
    assert oversized_params(keras_tuner.errors.FailedTrialError("diverged")) is None


def test_validate_refuses_a_space_whose_every_model_is_over_max_params(space_file, run_tuner):
    space = space_file(
        "data: {source: digits, limit: 100}\nmodel: {conv_blocks: 1, filters: {values: [8, 16]}}\n"
        "search: {max_params: 100}\n"
    )
    done = run_tuner("validate", str(space))
    assert done.returncode == 2
    assert done.stderr.startswith(f"tuner: {space}:3: search.max_params: search.max_params is 100, but the space's")
    assert done.stderr.count("\n") == 1


@pytest.mark.slow
def test_configurations_over_max_params_are_skipped_never_trained_nor_failed(tmp_path, run_tuner):
    # Filters 4 or 8 with one or two blocks: the 8-filter, 1-block models are the only ones over the limit.
    space = write_tiny_space(tmp_path, search={"max_trials": 6, "max_params": 1000, "max_consecutive_failures": 1})
    done = run_tuner("search", str(space), "--quiet")
    assert done.returncode == 0, done.stderr
    results = pd.read_csv(tmp_path / "runs" / "tiny" / "results.csv", dtype={"trial": str})
    skipped = results[results["status"] == "skipped"]
    trained = results[results["status"] == "completed"]
    assert len(skipped) >= 1 and len(trained) >= 1 and len(skipped) + len(trained) == 6
    assert (skipped["params"] > 1000).all() and (trained["params"] <= 1000).all()
    assert (skipped["epochs_run"] == 0).all() and skipped["objective"].isna().all() and skipped["rank"].isna().all()
    assert skipped["message"].str.fullmatch(r"skipped: [\d,]+ parameters, over search.max_params 1,000").all()
