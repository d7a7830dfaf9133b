"""Same space and seed, same results to the last bit; a configuration's losses do not depend on trial order."""

from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd
import pytest

from tests.helpers import write_tiny_space
from tuner.data.sources import load_data
from tuner.engine.listener import SilentListener
from tuner.engine.reproducible import first_difference
from tuner.engine.search import make_tuner
from tuner.engine.seeds import trial_seed
from tuner.rundir import layout
from tuner.space.loading import load_spec
from tuner.testing import histories_without_timings, run_tiny_search, without_timings


@pytest.mark.slow
def test_two_searches_with_one_seed_are_bit_identical(tmp_path):
    space = write_tiny_space(tmp_path)
    first = run_tiny_search(space, tmp_path / "a", max_trials=2, epochs=2)
    second = run_tiny_search(space, tmp_path / "b", max_trials=2, epochs=2)
    pd.testing.assert_frame_equal(without_timings(first), without_timings(second))
    assert histories_without_timings(tmp_path / "a" / "tiny") == histories_without_timings(tmp_path / "b" / "tiny")
    assert len(histories_without_timings(tmp_path / "a" / "tiny")) == 2


@pytest.mark.slow
def test_another_seed_gives_other_results(tmp_path):
    space = write_tiny_space(tmp_path)
    first = run_tiny_search(space, tmp_path / "a", max_trials=2, epochs=1)
    second = run_tiny_search(space, tmp_path / "b", max_trials=2, epochs=1, seed=8)
    assert not first["objective"].equals(second["objective"])


@pytest.mark.slow
def test_a_trial_trains_the_same_when_run_again_after_other_trials(tmp_path):
    space = write_tiny_space(tmp_path)
    run_tiny_search(space, tmp_path / "runs", max_trials=2, epochs=2)
    spec, _ = load_spec(space)
    data = load_data(spec.data, tmp_path, spec.seed)
    run_dir = tmp_path / "runs" / "tiny"
    tuner = make_tuner(spec, data, run_dir, overwrite=False, listener=SilentListener())
    # Train something unrelated first, so any leftover random state would show.
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).compile(loss="mse")
    np.random.default_rng().random()
    first = tuner.oracle.get_trial(tuner.oracle.start_order[0])
    replayed = tuner.replay(first, data.train, validation_data=data.val, verbose=0)
    recorded = json.loads(layout.history_file(run_dir, first.trial_id, 0).read_text())["epochs"]
    assert first_difference(recorded, replayed) is None


def test_trial_seed_depends_on_configuration_and_restart_only():
    values = {"filters_0": 8, "learning_rate": 0.01, "tuner/trial_id": "3"}
    reordered = {"tuner/trial_id": "0", "learning_rate": 0.01, "filters_0": 8}
    assert trial_seed(7, values, 0) == trial_seed(7, reordered, 0)
    assert trial_seed(7, values, 0) != trial_seed(7, values, 1)
    assert trial_seed(7, values, 0) != trial_seed(8, values, 0)
    assert trial_seed(7, values, 0) > 0


def test_first_difference_names_the_epoch_and_both_values():
    recorded = [{"epoch": 1, "loss": 0.5, "seconds": 1.0}, {"epoch": 2, "loss": 0.25, "seconds": 1.0}]
    assert first_difference(recorded, [{**epoch, "seconds": 9.0} for epoch in recorded]) is None
    changed = [recorded[0], {"epoch": 2, "loss": 0.2500001, "seconds": 1.0}]
    assert first_difference(recorded, changed) == "gave loss 0.2500001 in epoch 2; the search recorded 0.25"
    assert first_difference(recorded, recorded[:1]) == "ran 1 epochs; the search ran 2"


@pytest.mark.slow
def test_a_configuration_trains_the_same_as_first_or_second_trial(tmp_path):
    # A grid starts from each list's first value, so these two searches run the same two configurations
    # in opposite orders.
    model = {"conv_blocks": 1, "filters": 4}
    for order, rates in (("up", [0.01, 0.05]), ("down", [0.05, 0.01])):
        folder = tmp_path / order
        folder.mkdir()
        space = write_tiny_space(folder, model=model, optimizer={"name": "adam", "learning_rate": {"values": rates}})
        run_tiny_search(space, folder / "runs", max_trials=2, epochs=2, algorithm="grid")
    # Epoch by epoch: the histories' own fields (trial_id) differ with the order.
    up, down = (
        {
            name: history["epochs"]
            for name, history in histories_without_timings(tmp_path / order / "runs" / "tiny").items()
        }
        for order in ("up", "down")
    )
    assert up["0-0.json"] == down["1-0.json"]
    assert up["1-0.json"] == down["0-0.json"]
    assert up["0-0.json"] != up["1-0.json"]
