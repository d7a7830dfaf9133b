"""The helper users call from their own test suites."""

from __future__ import annotations

import pytest

from tests.helpers import write_tiny_space
from tuner.errors import InputError
from tuner.testing import run_tiny_search


@pytest.mark.slow
def test_run_tiny_search_can_change_the_algorithm(tmp_path):
    space = write_tiny_space(
        tmp_path,
        optimizer={"learning_rate": {"values": [0.01, 0.05]}, "name": "adam"},
        model={"conv_blocks": 1, "filters": 4},
    )
    ranked = run_tiny_search(space, tmp_path / "runs", max_trials=2, epochs=1, algorithm="grid")
    assert list(ranked["rank"]) == [1, 2]
    assert ranked["objective"].is_monotonic_increasing
    assert sorted(ranked["hp_learning_rate"]) == [0.01, 0.05]
    assert (tmp_path / "runs" / "tiny" / "results.csv").exists()


@pytest.mark.slow
def test_run_tiny_search_raises_input_errors(tmp_path):
    space = write_tiny_space(tmp_path, data={"path": "missing.npz"})
    with pytest.raises(InputError, match="does not exist"):
        run_tiny_search(space, tmp_path / "runs")


def test_without_timings_drops_what_the_clock_gave_and_keeps_the_rest():
    import pandas as pd

    from tuner.testing import without_timings

    frame = pd.DataFrame(
        {"trial": ["0"], "objective": [0.5], "seconds": [1.0], "latency_ms": [2.0], "pareto": [True], "params": [9]}
    )
    assert list(without_timings(frame).columns) == ["trial", "objective", "params"]
    assert list(without_timings(frame[["trial"]]).columns) == ["trial"]
