"""Rank trials by the objective in its own direction: completed ones first, the rest kept and listed after; mark
the Pareto front of objective and costs."""

from __future__ import annotations

import pandas as pd

from tuner.reports.pareto import on_front
from tuner.reports.records import COSTS
from tuner.reports.trials import Trials

# Trials without a usable score follow the ranked ones in this order; failed trials come last.
UNRANKED_ORDER = {"running": 0, "stopped": 1, "completed": 2, "skipped": 3, "failed": 4}


def rank(trials: Trials) -> Trials:
    """Trials ordered best first by the (mean) objective, with a 1-based ``rank`` (empty for unscored trials)."""
    frame = trials.frame
    if frame.empty:
        ranked = frame.copy()
        ranked.insert(0, "rank", pd.Series(dtype="Int64"))
        ranked["pareto"] = pd.Series(dtype=bool)
        return trials.with_frame(ranked)
    ascending = trials.direction == "min"
    scored = frame["objective"].notna() & (frame["status"] == "completed")
    order = frame["status"].map(UNRANKED_ORDER).fillna(len(UNRANKED_ORDER))
    unscored = frame.assign(_order=order)[~scored]
    ordered = pd.concat(
        [
            frame[scored].sort_values(["objective", "trial"], ascending=[ascending, True], kind="stable"),
            unscored.sort_values(["_order", "trial"], kind="stable").drop(columns="_order"),
        ]
    )
    ranks = pd.array(list(range(1, int(scored.sum()) + 1)) + [None] * int((~scored).sum()), dtype="Int64")
    ordered.insert(0, "rank", ranks)
    ranked = trials.with_frame(ordered.reset_index(drop=True))
    costs = [column for column in ("params", *COSTS) if column in ranked.frame.columns]
    ranked.frame.insert(ranked.frame.columns.get_loc(costs[-1]) + 1 if costs else 1, "pareto", on_front(ranked))
    return ranked
