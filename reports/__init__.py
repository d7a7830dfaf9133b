"""Reporting: read a run directory from disk and rank its trials. Never imports TensorFlow."""

from reports.ranking import rank
from reports.records import load_trials

__all__ = ["load_trials", "rank"]
