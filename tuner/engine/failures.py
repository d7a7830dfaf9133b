"""Trials that fail: why, in one line, and when too many in a row should stop the search."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from keras_tuner.errors import FailedTrialError

from tuner.backend.errors import is_out_of_memory
from tuner.errors import TrialsFailedError
from tuner.rundir import layout


def failure_reason(error: BaseException) -> str:
    """One line saying why a trial failed; keras-tuner would keep a whole traceback."""
    if isinstance(error, FailedTrialError):
        return str(error)
    lines = str(error).strip().splitlines() or [""]
    text = lines[0]
    if is_out_of_memory(error):
        # TensorFlow's first line is "Graph execution error:"; the line that says what did not fit is further down.
        text = next((line.split(" on /job:")[0] for line in lines if line.startswith("OOM when allocating")), text)
        return f"out of memory: {text}".rstrip(": ")
    return f"{type(error).__name__}: {text}".rstrip(": ")


def check_finite(epochs: Sequence[dict[str, float]]) -> None:
    """Fail a trial whose losses stopped being numbers: its score would be meaningless."""
    for record in epochs:
        for metric in ("loss", "val_loss"):
            value = record.get(metric)
            if value is not None and not math.isfinite(value):
                raise FailedTrialError(f"diverged: {metric} became {value} in epoch {record['epoch']}")


def failure_streak(oracle: Any, run_dir: Path | None = None) -> int:
    """How many of the last ended trials failed in a row; trials skipped for their size neither count nor break it.

    keras-tuner can mark a trial over ``max_model_size`` only as failed; its history in ``run_dir`` says skipped.
    """
    streak = 0
    for trial_id in reversed(oracle.end_order):
        if str(oracle.trials[trial_id].status) != "FAILED":
            break
        if run_dir is None or not _skipped(run_dir, trial_id):
            streak += 1
    return streak


def _skipped(run_dir: Path, trial_id: str) -> bool:
    """Whether a failed trial was only refused for its size (its first restart's history says so)."""
    try:
        return bool(json.loads(layout.history_file(run_dir, trial_id, 0).read_text(encoding="utf-8")).get("skipped"))
    except FileNotFoundError:
        return False


def stop_if_failing(oracle: Any, run_dir: Path) -> None:
    """Stop the search once ``max_consecutive_failed_trials`` trials in a row have failed."""
    limit = oracle.max_consecutive_failed_trials
    if limit and failure_streak(oracle, run_dir) >= limit:
        last = oracle.trials[oracle.end_order[-1]]
        raise TrialsFailedError(
            f"stopped: the last {limit} trials failed (trial {last.trial_id}: {last.message}); the"
            f" {len(oracle.end_order)} trials so far are kept in {run_dir}; raise search.max_consecutive_failures"
            " and run the same command to go on, or fix the space and start afresh with --overwrite"
        )
