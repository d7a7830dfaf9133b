"""A run directory's trials as one tidy table, read from keras-tuner's JSON records and our histories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from tuner import rundir

HP_PREFIX = "hp_"


def load_space(run_dir: Path) -> dict[str, Any]:
    """The resolved space the run searched."""
    return yaml.safe_load((run_dir / rundir.SPACE_FILE).read_text(encoding="utf-8"))


def objective_of(run_dir: Path) -> tuple[str, str]:
    """The objective metric and its direction (min or max)."""
    objective = load_space(run_dir)["search"]["objective"]
    return objective["name"], objective["direction"]


def load_trials(run_dir: Path) -> pd.DataFrame:
    """One row per trial: status, objective, per-epoch summary and one ``hp_`` column per hyperparameter."""
    name, direction = objective_of(run_dir)
    rows = [
        _row(path, run_dir, name, direction) for path in sorted(rundir.project_dir(run_dir).glob("trial_*/trial.json"))
    ]
    frame = _with_test_metrics(pd.DataFrame(rows), run_dir)
    frame.attrs.update(objective=name, direction=direction, tuned=tuned_hyperparameters(run_dir))
    return frame


def _with_test_metrics(frame: pd.DataFrame, run_dir: Path) -> pd.DataFrame:
    """Add ``test_`` columns (held-out scores of the top trials, blank for others) before the hyperparameters."""
    path = rundir.test_metrics_file(run_dir)
    if frame.empty or not path.exists():
        return frame
    scores = json.loads(path.read_text(encoding="utf-8"))["trials"]
    names = sorted({name for metrics in scores.values() for name in metrics})
    position = next((i for i, column in enumerate(frame.columns) if column.startswith(HP_PREFIX)), len(frame.columns))
    for offset, name in enumerate(names):
        column = [scores.get(trial, {}).get(name) for trial in frame["trial"]]
        frame.insert(position + offset, name, pd.Series(column, dtype="float64"))
    return frame


def tuned_hyperparameters(run_dir: Path) -> list[str]:
    """Names of the hyperparameters the search varies (not ``Fixed``), from keras-tuner's oracle state."""
    oracle_file = rundir.project_dir(run_dir) / "oracle.json"
    if not oracle_file.exists():
        return []
    space = json.loads(oracle_file.read_text(encoding="utf-8"))["hyperparameters"]["space"]
    return [item["config"]["name"] for item in space if item["class_name"] != "Fixed"]


def _row(trial_file: Path, run_dir: Path, objective: str, direction: str) -> dict[str, Any]:
    record = json.loads(trial_file.read_text(encoding="utf-8"))
    trial_id = record["trial_id"]
    epochs = _epochs(run_dir, trial_id)
    row: dict[str, Any] = {
        "trial": trial_id,
        "status": str(record.get("status", "")).lower(),
        "message": record.get("message") or "",
        "objective": record.get("score"),
        "best_epoch": None,
        "epochs_run": len(epochs),
        "seconds": round(sum(epoch.get("seconds", 0.0) for epoch in epochs), 3),
    }
    scored = [epoch for epoch in epochs if objective in epoch]
    if scored:
        pick = min if direction == "min" else max
        best = pick(scored, key=lambda epoch: epoch[objective])
        row["best_epoch"] = best["epoch"]
        row.update({metric: value for metric, value in best.items() if metric not in ("epoch", "seconds")})
    values = record.get("hyperparameters", {}).get("values", {})
    row.update({f"{HP_PREFIX}{key}": value for key, value in values.items() if not key.startswith("tuner/")})
    return row


def _epochs(run_dir: Path, trial_id: str) -> list[dict[str, Any]]:
    """The first restart's per-epoch records of a trial, or none if it never trained."""
    path = rundir.history_file(run_dir, trial_id, 0)
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["epochs"]
