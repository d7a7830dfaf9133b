"""Reporting: read a run directory from disk, rank its trials and write CSV/HTML. Never imports TensorFlow."""

from __future__ import annotations

from tuner.reports.importance import importance
from tuner.reports.ranking import rank
from tuner.reports.records import Run, load_run, load_trials
from tuner.reports.trials import Trials

__all__ = ["Run", "Trials", "importance", "load_run", "load_trials", "rank"]
