"""Bit-identical searches: a check that the best trial trains the same way twice.

Seeds come from ``tuner.search.trial_seed`` (run seed, hyperparameters, restart), set before every build;
the data split and the oracle have their own seeds derived from the run seed; each backend's deterministic
kernels are chosen by ``tuner.backend.determinism``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from tuner.errors import NotReproducibleError
from tuner.rundir import layout


def check_replay(tuner: Any, ranked: pd.DataFrame, run_dir: Path, *fit_args: Any, **fit_kwargs: Any) -> None:
    """Train the best trial again and raise NotReproducibleError unless every epoch's metrics are identical."""
    completed = ranked[ranked["status"] == "completed"]
    if completed.empty:
        raise NotReproducibleError(f"cannot check reproducibility: no trial in {run_dir} completed")
    trial = tuner.oracle.get_trial(str(completed.iloc[0]["trial"]))
    history = json.loads(layout.history_file(run_dir, trial.trial_id, 0).read_text(encoding="utf-8"))
    # At the batch size it trained with: smaller than its own after running out of memory.
    replayed = tuner.replay(trial, *fit_args, batch_size=history.get("batch_size"), **fit_kwargs)
    difference = first_difference(history["epochs"], replayed)
    if difference:
        raise NotReproducibleError(f"not reproducible: trial {trial.trial_id} trained again {difference}")


def first_difference(recorded: list[dict[str, float]], replayed: list[dict[str, float]]) -> str | None:
    """Where two runs' epochs first disagree, in words; None when every metric of every epoch is equal."""
    if len(recorded) != len(replayed):
        return f"ran {len(replayed)} epochs; the search ran {len(recorded)}"
    for before, after in zip(recorded, replayed, strict=True):
        for metric in sorted((set(before) | set(after)) - {"seconds"}):
            if before.get(metric) != after.get(metric):
                return (
                    f"gave {metric} {after.get(metric)!r} in epoch {before['epoch']};"
                    f" the search recorded {before.get(metric)!r}"
                )
    return None
