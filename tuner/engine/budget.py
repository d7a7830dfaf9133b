"""The search's wall-clock budget, ``search.max_time``, kept in the run directory so it spans sessions and workers.

``budget.json`` holds the seconds earlier sessions spent and this session's deadline. The process that owns the
oracle (a search, or a chief) writes it when a session starts and whenever a trial ends; a worker reads the
deadline before each training run, since workers share the run directory. A kill -9 loses at most the time
since the last trial ended. keras-tuner has no time budget: the oracle stops handing out trials after the
deadline (``TimedOracle``) and the tuner stops a running trial at the end of its epoch (``StopOnTime``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras

from tuner.rundir import files, layout


@dataclass(frozen=True)
class TimeBudget:
    """One session's share of the budget: the limit (None: none), what earlier sessions spent, when this began."""

    run_dir: Path
    limit: float | None
    spent_before: float
    started: float  # time.time() at the session's start

    @property
    def deadline(self) -> float | None:
        """When this session must stop starting trials (seconds since the epoch), or None without a limit."""
        if self.limit is None:
            return None
        return self.started + max(0.0, self.limit - self.spent_before)

    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return self.deadline is not None and time.time() >= self.deadline

    def spent(self) -> float:
        """Seconds spent by every session so far, this one included."""
        return self.spent_before + time.time() - self.started

    def record(self, stopped_on_time: bool = False) -> None:
        """Write the seconds spent so far, the deadline and whether the search stopped on it."""
        files.write_json(
            layout.budget_file(self.run_dir),
            {
                "max_time": self.limit,
                "spent": round(self.spent(), 3),
                "deadline": self.deadline,
                "stopped_on_time": stopped_on_time,
            },
        )


def start_session(run_dir: Path, limit: float | None) -> TimeBudget:
    """The budget of a session starting now, after what earlier sessions of the run spent; recorded at once."""
    budget = TimeBudget(run_dir, limit, float(layout.read_budget(run_dir).get("spent", 0.0)), time.time())
    budget.record()
    return budget


def read_deadline(run_dir: Path) -> float | None:
    """The current session's deadline, as a worker sees it."""
    deadline = layout.read_budget(run_dir).get("deadline")
    return None if deadline is None else float(deadline)


class StopOnTime(keras.callbacks.Callback):
    """Stops training at the end of the epoch in which the deadline passes; ``stopped`` says whether it did."""

    def __init__(self, deadline: float | None) -> None:
        super().__init__()
        self.deadline = deadline
        self.stopped = False

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.deadline is not None and time.time() >= self.deadline:
            self.model.stop_training = True
            self.stopped = True
