"""The best trial of each of several runs in one table, to see whether a change to the space helped."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tuner.errors import InputError
from tuner.reports.ranking import rank
from tuner.reports.records import load_run
from tuner.reports.trials import Trials


def best_of_runs(run_dirs: list[Path]) -> Trials:
    """One row per run (its best trial), ranked by the shared objective; refuses runs ranked by different ones."""
    rows, tuned, first = [], [], None
    for run_dir in run_dirs:
        run = load_run(run_dir)
        objective = (run.objective, run.direction)
        first = first or (run_dir, objective)
        if objective != first[1]:
            raise InputError(
                f"{run_dir} ranks by {objective[0]} ({objective[1]}imised) but {first[0]} by {first[1][0]}"
                f" ({first[1][1]}imised); compare runs with the same objective"
            )
        ranked = rank(run.trials).frame
        best = ranked.head(1).drop(columns=["rank", "pareto"]) if ranked["rank"].notna().any() else pd.DataFrame([{}])
        completed = int((ranked["status"] == "completed").sum()) if not ranked.empty else 0
        best.insert(0, "run", str(run.space.get("name", run_dir.name)))
        best.insert(1, "path", str(run_dir))
        best.insert(2, "trials", len(ranked))
        best.insert(3, "completed", completed)
        rows.append(best)
        tuned += [name for name in run.trials.tuned if name not in tuned]
    table = pd.concat(rows, ignore_index=True)
    if "trial" not in table.columns:
        table = table.assign(trial=None, status=None, message=None, objective=float("nan"))
    return rank(Trials(frame=table, objective=first[1][0], direction=first[1][1], tuned=tuple(tuned)))
