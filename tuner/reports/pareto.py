"""The trade-off between the objective and what a model costs: the Pareto front, and the smallest model close to
the best.

A completed trial is on the front when no other completed trial is at least as good on the objective and at
least as cheap in parameters and latency, and strictly better on one of them; trials that tie on all three
are all on it. A cost missing for some completed trial (a run made before costs were recorded) is left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tuner.reports.trials import Trials

FRONT_COSTS = ("params", "latency_ms")
NEAR_BEST = 0.01  # "within 1% of the best objective"


def on_front(trials: Trials) -> pd.Series:
    """True for each completed trial no other dominates, False for the rest (same index as the frame)."""
    frame = trials.frame
    scored = (frame["status"] == "completed") & frame["objective"].notna()
    costs = [cost for cost in FRONT_COSTS if cost in frame.columns and frame.loc[scored, cost].notna().all()]
    sign = 1.0 if trials.direction == "min" else -1.0
    columns = [sign * frame.loc[scored, "objective"].to_numpy(float)]
    columns += [frame.loc[scored, cost].to_numpy(float) for cost in costs]
    points = np.column_stack(columns)  # lower is better in every column
    dominated = _dominated(points)
    front = pd.Series(False, index=frame.index)
    front[scored[scored].index] = ~dominated
    return front


def _dominated(points: np.ndarray) -> np.ndarray:
    """Which rows some other row beats: no worse in every column, better in one (lower is better).

    Rows are visited in lexicographic order, so whatever dominates a row comes before it; and what a dominated
    row dominates, its own dominator does too, so each row is held against the front so far only.
    """
    dominated = np.zeros(len(points), dtype=bool)
    front = np.empty((0, points.shape[1]))
    for row in np.lexsort(points.T[::-1]):
        point = points[row]
        if ((front <= point).all(axis=1) & (front < point).any(axis=1)).any():
            dominated[row] = True
        else:
            front = np.vstack([front, point])
    return dominated


def smallest_near_best(trials: Trials) -> pd.Series | None:
    """The completed trial with the fewest parameters among those within 1% of the best objective, or None."""
    frame = trials.frame
    scored = frame[(frame["status"] == "completed") & frame["objective"].notna() & frame["params"].notna()]
    if scored.empty:
        return None
    best = scored["objective"].min() if trials.direction == "min" else scored["objective"].max()
    margin = NEAR_BEST * abs(best)
    near = scored["objective"] <= best + margin if trials.direction == "min" else scored["objective"] >= best - margin
    candidates = scored[near]
    return candidates.sort_values(["params", "objective"], ascending=[True, trials.direction == "min"]).iloc[0]
