"""Reporting: read a run directory from disk, rank its trials and write CSV/HTML. Never imports TensorFlow."""

from reports.importance import importance
from reports.ranking import rank
from reports.records import load_run, load_trials

__all__ = ["importance", "load_run", "load_trials", "rank"]
