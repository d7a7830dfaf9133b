"""Rank trials by the objective in its own direction, completed ones first, failures kept and listed last."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reports.records import load_trials
from tuner import rundir


def rank(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials ordered best first, with a 1-based ``rank`` column (empty for trials without a score)."""
    if trials.empty:
        return trials.assign(rank=pd.Series(dtype="Int64"))
    ascending = trials.attrs.get("direction", "min") == "min"
    scored = trials["objective"].notna() & (trials["status"] == "completed")
    ordered = pd.concat(
        [
            trials[scored].sort_values(["objective", "trial"], ascending=[ascending, True], kind="stable"),
            trials[~scored].sort_values("trial", kind="stable"),
        ]
    )
    ranks = pd.array(list(range(1, int(scored.sum()) + 1)) + [None] * int((~scored).sum()), dtype="Int64")
    ordered.insert(0, "rank", ranks)
    ordered.attrs = trials.attrs
    return ordered.reset_index(drop=True)


def write_results(run_dir: Path) -> pd.DataFrame:
    """Rank the run's trials and write them to ``results.csv`` atomically."""
    table = rank(load_trials(run_dir))
    rundir.write_atomic(run_dir / rundir.RESULTS_FILE, table.to_csv(index=False))
    return table
