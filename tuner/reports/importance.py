"""Which hyperparameters explain the spread of the objective: a fANOVA-style main-effect estimate.

For each tuned hyperparameter the completed trials are grouped by its value (categories as they are,
numbers in quantile bins, inactive as a group of its own) and we measure the share of the objective's
variance that the group means explain (epsilon squared, which corrects for the spread that chance groups
alone would explain). The objective enters by rank, so one diverged trial cannot dominate. It is pure pandas:
``tuner report`` must stay fast and scikit-learn alone takes over a second to import.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tuner.reports.records import HP_PREFIX
from tuner.reports.trials import Trials

MIN_TRIALS = 4
MAX_BINS = 5


def importance(trials: Trials) -> pd.DataFrame:
    """One row per tuned hyperparameter, most important first: ``hyperparameter``, ``importance`` in [0, 1]."""
    frame = trials.frame
    usable = frame[(frame["status"] == "completed") & frame["objective"].notna()]
    rows = []
    if len(usable) >= MIN_TRIALS:
        score = usable["objective"].rank().to_numpy(dtype=float)
        for name in trials.tuned:
            column = f"{HP_PREFIX}{name}"
            if column in usable.columns:
                rows.append({"hyperparameter": name, "importance": explained(score, groups(usable[column]))})
    table = pd.DataFrame(rows, columns=["hyperparameter", "importance"])
    return table.sort_values(["importance", "hyperparameter"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def groups(values: pd.Series) -> pd.Series:
    """A group label per trial: the category, the quantile bin of a number, or ``inactive``."""
    active = values.notna()
    labels = pd.Series("inactive", index=values.index, dtype="object")
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    present = values[active]
    if numeric and present.nunique() > MAX_BINS:
        bins = pd.qcut(present.astype(float).rank(method="first"), MAX_BINS, labels=False)
        labels[active] = [f"bin{int(b)}" for b in bins]
    else:
        labels[active] = present.astype(str)
    return labels


def explained(score: np.ndarray, labels: pd.Series) -> float:
    """Epsilon squared of ``score`` grouped by ``labels``: 0 when the groups explain no more than chance."""
    frame = pd.DataFrame({"score": score, "group": labels.to_numpy()})
    total = float(((frame["score"] - frame["score"].mean()) ** 2).sum())
    count, levels = len(frame), frame["group"].nunique()
    if total == 0 or levels < 2 or count <= levels:
        return 0.0
    means = frame.groupby("group")["score"].agg(["mean", "size"])
    between = float((means["size"] * (means["mean"] - frame["score"].mean()) ** 2).sum())
    within = (total - between) / (count - levels)
    return max(0.0, min(1.0, (between - (levels - 1) * within) / (total + within)))
