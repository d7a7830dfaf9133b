"""A run directory's trials as one tidy table, read from keras-tuner's JSON records and our per-restart histories.

keras-tuner keeps only the average over restarts (``executions_per_trial``); the search writes every restart's
epochs to ``history/<trial>-<restart>.json``, so the mean, spread and best over restarts come from there.
"""

from __future__ import annotations

import contextlib
import json
import math
import statistics
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from tuner.errors import InputError
from tuner.reports.per_class import PerClass, load_per_class
from tuner.reports.trials import Direction, Trials
from tuner.rundir import layout
from tuner.rundir.format import check_readable
from tuner.space.architecture import describe

HP_PREFIX = "hp_"
# keras-tuner's trial statuses, folded into the three a reader cares about (a fourth, skipped, comes from
# the histories).
STATUSES = {
    "COMPLETED": "completed",
    "FAILED": "failed",
    "INVALID": "failed",
    "RUNNING": "running",
    "IDLE": "running",
    "STOPPED": "stopped",
}
LEADING = ("trial", "status", "message", "objective", "objective_std", "objective_best", "restarts")
COSTS = ("macs", "latency_ms", "latency_batch_ms", "model_kb")  # of each trial's model, from its first restart
TRAILING = ("best_epoch", "epochs_run", "seconds", "architecture", "params", *COSTS)
# Read off the clock, so they differ between two bit-identical runs; the Pareto front weighs latency.
TIMED = ("seconds", "latency_ms", "latency_batch_ms", "pareto")


@dataclass(frozen=True)
class Run:
    """Everything a report shows about one run: its space, its trials, every restart's epochs and, once the search
    has finished, the best trial's per-class results."""

    run_dir: Path
    space: dict[str, Any]
    hyperparameters: list[dict[str, Any]]
    trials: Trials
    histories: dict[str, list[list[dict[str, Any]]]] = field(default_factory=dict)
    restart_objectives: dict[str, list[float]] = field(default_factory=dict)
    wall_seconds: float | None = None
    per_class: PerClass | None = None
    budget: dict[str, Any] = field(default_factory=dict)  # budget.json: time spent, and whether it ran out
    # Every training run as (trial, worker, started, finished), seconds since the epoch, in start order.
    timeline: list[tuple[str, str, float, float]] = field(default_factory=list)

    @property
    def objective(self) -> str:
        """The metric the run ranks by."""
        return self.trials.objective

    @property
    def direction(self) -> Direction:
        """``min`` or ``max``."""
        return self.trials.direction


def load_trials(run_dir: Path) -> Trials:
    """One row per trial: status, objective over restarts, final metrics, size and one ``hp_`` column each."""
    return load_run(run_dir).trials


def load_space(run_dir: Path) -> dict[str, Any]:
    """The resolved space the run searched; a directory without one is not a run."""
    space_file = run_dir / layout.SPACE_FILE
    if not space_file.is_file():
        raise InputError(f"{run_dir}: not a run directory (it has no {layout.SPACE_FILE})")
    check_readable(run_dir)
    return yaml.safe_load(space_file.read_text(encoding="utf-8"))


def load_run(run_dir: Path) -> Run:
    """Read a run directory once: the space, keras-tuner's trials, the per-restart histories and per-class results."""
    space = load_space(run_dir)
    objective, direction = space["search"]["objective"]["name"], space["search"]["objective"]["direction"]
    records = [_read_trial(path) for path in sorted(layout.project_dir(run_dir).glob("trial_*/trial.json"))]
    histories = _histories(run_dir)
    hyperparameters = _space_of(run_dir, records)
    rows = [_row(record, histories.get(record["trial_id"], []), objective, direction) for record in records]
    frame = _with_test_metrics(_tidy(rows, hyperparameters), run_dir)
    trials = Trials(frame=frame, objective=objective, direction=direction, tuned=_tuned(hyperparameters))
    runs = [restart for trial in histories.values() for restart in trial]
    starts = [restart["started"] for restart in runs if "started" in restart]
    ends = [restart["finished"] for restart in runs if "finished" in restart]
    return Run(
        run_dir=run_dir,
        space=space,
        hyperparameters=hyperparameters,
        trials=trials,
        histories={trial: [restart["epochs"] for restart in restarts] for trial, restarts in histories.items()},
        restart_objectives={
            trial: [v for v in (_best_value(r["epochs"], objective, direction) for r in restarts) if v is not None]
            for trial, restarts in histories.items()
        },
        wall_seconds=round(max(ends) - min(starts), 3) if starts and ends else None,
        per_class=load_per_class(run_dir),
        budget=layout.read_budget(run_dir),
        timeline=sorted(
            (
                (str(run["trial_id"]), str(run.get("worker", "")), float(run["started"]), float(run["finished"]))
                for run in runs
                if "started" in run and "finished" in run
            ),
            key=lambda run: run[2],
        ),
    )


def _with_test_metrics(frame: pd.DataFrame, run_dir: Path) -> pd.DataFrame:
    """Add ``test_`` columns (held-out scores of the top trials, blank for others) before the hyperparameters."""
    path = layout.test_metrics_file(run_dir)
    if frame.empty or not path.exists():
        return frame
    scores = json.loads(path.read_text(encoding="utf-8"))["trials"]
    names = sorted({name for metrics in scores.values() for name in metrics})
    position = next((i for i, column in enumerate(frame.columns) if column.startswith(HP_PREFIX)), len(frame.columns))
    for offset, name in enumerate(names):
        column = [scores.get(trial, {}).get(name) for trial in frame["trial"]]
        frame.insert(position + offset, name, pd.Series(column, dtype="float64"))
    return frame


def _tuned(hyperparameters: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(item["config"]["name"] for item in hyperparameters if item["class_name"] != "Fixed")


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _read_trial(path: Path) -> dict[str, Any]:
    """keras-tuner's record of a trial; it writes these in place, so a report made mid-write may find half of one."""
    try:
        return _read_json(path)
    except json.JSONDecodeError:
        trial_id = path.parent.name.removeprefix("trial_")
        return {"trial_id": trial_id, "status": "RUNNING", "message": "keras-tuner is writing this trial's record"}


def _space_of(run_dir: Path, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """keras-tuner's declared hyperparameters, from the oracle's state or else from any trial."""
    oracle_file = layout.project_dir(run_dir) / "oracle.json"
    sources = list(records)
    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
        sources.insert(0, _read_json(oracle_file))
    for source in sources:
        space = source.get("hyperparameters", {}).get("space")
        if space:
            return [item for item in space if not item["config"]["name"].startswith("tuner/")]
    return []


def _histories(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Every restart's record, grouped by trial and ordered by restart."""
    found: dict[str, list[dict[str, Any]]] = {}
    for path in (run_dir / layout.HISTORY_DIR).glob("*.json"):
        record = _read_json(path)
        found.setdefault(str(record["trial_id"]), []).append(record)
    return {trial: sorted(restarts, key=lambda record: record["restart"]) for trial, restarts in found.items()}


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _best_epoch(epochs: list[dict[str, Any]], objective: str, direction: str) -> dict[str, Any] | None:
    """The epoch with the best finite objective, as keras-tuner picks it."""
    scored = [epoch for epoch in epochs if _finite(epoch.get(objective))]
    if not scored:
        return None
    pick = min if direction == "min" else max
    return pick(scored, key=lambda epoch: epoch[objective])


def _best_value(epochs: list[dict[str, Any]], objective: str, direction: str) -> float | None:
    best = _best_epoch(epochs, objective, direction)
    return None if best is None else float(best[objective])


def _row(record: dict[str, Any], restarts: list[dict[str, Any]], objective: str, direction: str) -> dict[str, Any]:
    status = STATUSES.get(str(record.get("status", "")).upper(), str(record.get("status", "")).lower())
    if status == "failed" and any(restart.get("skipped") for restart in restarts):
        status = "skipped"  # never trained: over search.max_params (keras-tuner knows only failed)
    bests = [_best_epoch(restart["epochs"], objective, direction) for restart in restarts]
    scored = [best for best in bests if best is not None]
    values = [float(best[objective]) for best in scored]
    row: dict[str, Any] = {
        "trial": record["trial_id"],
        "status": status,
        "message": _reason(record.get("message")),
        "objective": statistics.fmean(values) if values else _number(record.get("score")),
        "objective_std": statistics.stdev(values) if len(values) > 1 else None,
        "objective_best": (min if direction == "min" else max)(values) if values else None,
        "restarts": len(restarts),
        "best_epoch": None,
        "epochs_run": sum(len(restart["epochs"]) for restart in restarts),
        "seconds": round(sum(_seconds(restart) for restart in restarts), 3),
        "params": next((restart["params"] for restart in restarts if restart.get("params")), None),
        **{cost: next((r[cost] for r in restarts if r.get(cost) is not None), None) for cost in COSTS},
    }
    if status == "completed" and not row["message"]:
        row["message"] = "; ".join(_notes(restarts))
    if status in ("failed", "skipped"):
        row.update(objective=None, objective_std=None, objective_best=None)
    if status == "skipped":  # a worker's message does not reach the chief through keras-tuner's gRPC
        row["message"] = row["message"] or "skipped: over search.max_params"
    elif status == "completed" and row["objective"] is None:
        row["message"] = row["message"] or f"{objective} was never finite (training diverged)"
    if scored:
        pick = min if direction == "min" else max
        row["best_epoch"] = pick(scored, key=lambda epoch: epoch[objective])["epoch"]
        for metric in sorted({name for best in scored for name in best} - {"epoch", "seconds", objective}):
            found = [best[metric] for best in scored if _finite(best.get(metric))]
            row[metric] = statistics.fmean(found) if found else None
    values_of = record.get("hyperparameters", {}).get("values", {})
    row["architecture"] = describe(values_of) if "conv_blocks" in values_of else None
    row.update({f"{HP_PREFIX}{key}": value for key, value in values_of.items() if not key.startswith("tuner/")})
    return row


def _notes(restarts: list[dict[str, Any]]) -> list[str]:
    """What a completed trial's restarts did differently from what was asked: stopped early, or a smaller batch."""
    notes = []
    if any(restart.get("stopped_on_time") for restart in restarts):
        trained = [len(restart["epochs"]) for restart in restarts]
        notes.append(f"stopped on time (epochs trained: {', '.join(map(str, trained))})")
    too_big = next((restart["out_of_memory_at"] for restart in restarts if restart.get("out_of_memory_at")), None)
    if too_big:
        notes.append(f"trained at batch size {restarts[-1]['batch_size']}: out of memory at {too_big[0]}")
    return notes


def _number(value: Any) -> float | None:
    return float(value) if _finite(value) else None


def _reason(message: Any) -> str:
    """The last line of keras-tuner's failure message (the exception), which is the reason a reader wants."""
    lines = [line.strip() for line in str(message or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _seconds(restart: dict[str, Any]) -> float:
    """Wall time of one restart, or the sum of its epochs for histories without timestamps."""
    if "started" in restart and "finished" in restart:
        return float(restart["finished"]) - float(restart["started"])
    return float(sum(epoch.get("seconds", 0.0) for epoch in restart["epochs"]))


def _tidy(rows: list[dict[str, Any]], hyperparameters: list[dict[str, Any]]) -> pd.DataFrame:
    """Columns in a fixed order (summary, metrics, cost, hyperparameters in space order), typed per column."""
    # Built from Python objects so integer hyperparameters with inactive (empty) cells are not turned into floats.
    frame = pd.DataFrame(rows, dtype=object)
    declared = [f"{HP_PREFIX}{item['config']['name']}" for item in hyperparameters]
    hp_columns = declared + sorted(c for c in frame.columns if c.startswith(HP_PREFIX) and c not in declared)
    metrics = sorted(
        (c for c in frame.columns if c not in (*LEADING, *TRAILING) and not c.startswith(HP_PREFIX)),
        key=lambda name: (name.startswith("val_"), name),
    )
    frame = frame.reindex(columns=[*LEADING, *metrics, *TRAILING, *hp_columns])
    for column in ("restarts", "best_epoch", "epochs_run", "params", "macs"):
        frame[column] = frame[column].astype("Int64")
    floats = ("objective", "objective_std", "objective_best", "seconds", "latency_ms", "latency_batch_ms", "model_kb")
    for column in (*floats, *metrics):
        frame[column] = frame[column].astype("float64")
    for item in hyperparameters:
        column = f"{HP_PREFIX}{item['config']['name']}"
        if item["class_name"] == "Float" and item["config"].get("step"):
            frame[column] = frame[column].map(lambda value, config=item["config"]: _on_step(value, config))
    for column in hp_columns:
        frame[column] = _typed(frame[column])
    return frame


def _on_step(value: Any, config: dict[str, Any]) -> Any:
    """A stepped Float's value without keras-tuner's binary noise (it computes ``min + k * step``: 0.1 * 3 is
    0.30000000000000004): as many decimals as step and min have for linear ranges, 15 significant digits for
    log and reverse_log ones (``min * step ** k``). Anything else is kept as recorded."""
    if not isinstance(value, float) or not math.isfinite(value):
        return value
    if config.get("sampling", "linear") == "linear":
        return round(value, max(_decimals(config["step"]), _decimals(config.get("min_value", 0))))
    return float(f"{value:.15g}")


def _decimals(number: float) -> int:
    """How many decimals the shortest text of ``number`` has (0.1 -> 1, 2.5e-05 -> 6, 10.0 -> 0)."""
    exponent = Decimal(repr(number)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def _typed(column: pd.Series) -> pd.Series:
    """A hyperparameter column with a nullable type, so inactive values stay empty instead of turning ints to floats."""
    present = column.dropna()
    if present.empty:
        return column.astype("float64")
    if all(isinstance(value, bool) for value in present):
        return column.astype("boolean")
    if all(isinstance(value, int) and not isinstance(value, bool) for value in present):
        return column.astype("Int64")
    if all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in present):
        return column.astype("float64")
    return column.astype("object")
