"""The Pareto front over objective, parameters and latency, and the smallest model near the best, on planted runs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tuner.reports.pareto import on_front, smallest_near_best
from tuner.reports.ranking import rank
from tuner.reports.records import load_trials
from tuner.reports.trials import Trials
from tuner.reports.writer import write_reports
from tuner.testing.rundirs import FakeTrial, random_trials, write_run


def trial(loss: float, params: int, latency: float, status: str = "COMPLETED") -> FakeTrial:
    return FakeTrial(values={}, curves=[[2.0, loss]], params=params, latency_ms=latency, status=status)


def test_dominated_trials_are_off_the_front_and_ties_stay_on_it(tmp_path):
    planted = [
        trial(0.10, 5000, 2.0),  # 0: best objective
        trial(0.20, 1000, 1.0),  # 1: small and fast
        trial(0.20, 1000, 1.0),  # 2: tied with 1 in everything: both on the front
        trial(0.25, 2000, 1.5),  # 3: worse than 1 in all three
        trial(0.10, 5000, 2.5),  # 4: as good as 0 but slower: dominated by 0
        trial(0.15, 6000, 0.5),  # 5: fastest: on the front
        trial(0.05, 100, 0.1, status="FAILED"),  # 6: failed: never on the front
    ]
    run = write_run(tmp_path / "run", planted)
    write_reports(run)
    results = pd.read_csv(run / "results.csv", dtype={"trial": str}).set_index("trial")
    assert results["pareto"].to_dict() == {
        "0": True,
        "1": True,
        "2": True,
        "3": False,
        "4": False,
        "5": True,
        "6": False,
    }


def test_the_front_follows_the_direction_of_the_objective():
    frame = pd.DataFrame(
        {
            "trial": ["a", "b"],
            "status": ["completed", "completed"],
            "objective": [0.9, 0.8],
            "params": [100, 100],
            "latency_ms": [1.0, 1.0],
        }
    )
    assert on_front(Trials(frame, "val_accuracy", "max", ())).tolist() == [True, False]
    assert on_front(Trials(frame, "val_loss", "min", ())).tolist() == [False, True]


def test_a_cost_missing_for_a_completed_trial_is_left_out_of_the_front(tmp_path):
    planted = [trial(0.10, 5000, 2.0), trial(0.20, 1000, 1.0)]
    planted[1] = FakeTrial(values={}, curves=[[2.0, 0.2]], params=1000)  # a run made before latency was recorded
    ranked = rank(load_trials(write_run(tmp_path / "run", planted)))
    assert ranked.frame.set_index("trial")["pareto"].to_dict() == {"0": True, "1": True}  # params alone


def test_the_smallest_model_within_one_percent_of_the_best(tmp_path):
    planted = [trial(0.100, 5000, 2.0), trial(0.1009, 800, 2.0), trial(0.1011, 300, 1.0), trial(0.1005, 900, 1.0)]
    small = smallest_near_best(rank(load_trials(write_run(tmp_path / "run", planted))))
    assert (small["trial"], small["params"]) == ("1", 800)


def test_the_report_shows_the_front_and_export_lists_it(tmp_path, run_tuner):
    run = write_run(tmp_path / "run", random_trials(30, seed=3))
    write_reports(run)
    html = (run / "report.html").read_text(encoding="utf-8")
    assert "Objective against model cost (Pareto front in red)" in html
    assert "smallest model within 1% of the best" in html
    listed = run_tuner("export", str(run), "--pareto")
    assert listed.returncode == 0, listed.stderr
    front = pd.read_csv(run / "results.csv")
    front = front[front["pareto"]]
    assert len(front) >= 1
    assert all(f"│ {rank:>4} │" in listed.stdout for rank in front["rank"])
    assert f"export one with: tuner export {run} --rank RANK" in listed.stdout


def test_the_front_equals_a_brute_force_comparison_of_every_pair():
    from tuner.reports.pareto import _dominated

    rng = np.random.default_rng(0)
    points = rng.random((300, 3))
    points[:, 1] = np.round(points[:, 1] * 5)  # many ties in one column
    points[10] = points[11]  # and two equal rows
    no_worse = (points[:, None, :] <= points[None, :, :]).all(axis=2)
    better = (points[:, None, :] < points[None, :, :]).any(axis=2)
    np.testing.assert_array_equal(_dominated(points), (no_worse & better).any(axis=0))
