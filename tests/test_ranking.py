import pandas as pd
import pytest

from tuner.reports.ranking import rank
from tuner.reports.trials import Trials


def _trials(direction: str) -> Trials:
    frame = pd.DataFrame(
        {
            "trial": ["0", "1", "2", "3", "4", "5"],
            "status": ["completed", "failed", "completed", "running", "completed", "completed"],
            "objective": [0.5, None, 0.2, None, 0.9, float("nan")],
        }
    )
    return Trials(frame=frame, objective="val_loss", direction=direction, tuned=())


def test_minimised_objective_ranks_lowest_first_and_failed_last():
    ranked = rank(_trials("min"))
    assert ranked.direction == "min" and ranked.objective == "val_loss"
    ranked = ranked.frame
    assert ranked["trial"].tolist() == ["2", "0", "4", "3", "5", "1"]
    assert ranked["rank"].tolist()[:3] == [1, 2, 3]
    assert ranked["rank"].isna().tolist() == [False, False, False, True, True, True]


def test_maximised_objective_ranks_highest_first():
    ranked = rank(_trials("max")).frame
    assert ranked["trial"].tolist()[:3] == ["4", "0", "2"]
    assert ranked["trial"].iloc[-1] == "1"


def test_ties_break_by_trial_id():
    frame = pd.DataFrame({"trial": ["1", "0"], "status": ["completed"] * 2, "objective": [0.3, 0.3]})
    assert rank(Trials(frame, "val_loss", "min", ())).frame["trial"].tolist() == ["0", "1"]


def test_an_empty_run_ranks_to_an_empty_table_with_a_rank_column():
    frame = pd.DataFrame(columns=["trial", "status", "objective"])
    columns = list(rank(Trials(frame, "val_loss", "max", ())).frame.columns)
    assert columns == ["rank", "trial", "status", "objective", "pareto"]


def test_trials_refuse_a_direction_other_than_min_or_max():
    with pytest.raises(ValueError, match="direction must be 'min' or 'max'"):
        Trials(pd.DataFrame(), "val_loss", "minimise", ())  # type: ignore[arg-type]


def test_ranking_keeps_the_input_unchanged():
    trials = _trials("min")
    before = trials.frame.copy()
    rank(trials)
    pd.testing.assert_frame_equal(trials.frame, before)
