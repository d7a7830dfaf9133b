"""The run directory's layout, shared by the search that writes it and the reports that read it.

<runs-dir>/<name>/
    run.json              the format number and the versions that made the run
    space.yaml            the space as resolved, defaults filled in
    keras_tuner/          keras-tuner's own project (oracle state, trial_*/trial.json, checkpoints)
    history/<trial>-<restart>.json   per-epoch metrics and seconds of every training run
    results.csv           trials ranked by the objective
    report.html           the same ranking with the run's summary and plots, one self-contained file
    test_metrics.json     the top trials scored on the held-out test set (only with data.test_split)
    per_class.json        the best trial's confusion matrices on the validation and test sets
    per_class.csv         per-class support, precision and recall derived from them, next to results.csv
    tensorboard/<trial>/execution<restart>/   TensorBoard scalars and HParams (search.tensorboard only)
    budget.json           seconds the search has spent, this session's deadline (search.max_time), and
                          whether it stopped on it
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RUN_FILE = "run.json"
SPACE_FILE = "space.yaml"
PROJECT_NAME = "keras_tuner"
HISTORY_DIR = "history"
RESULTS_FILE = "results.csv"
REPORT_FILE = "report.html"
TEST_METRICS_FILE = "test_metrics.json"
PER_CLASS_FILE = "per_class.json"
PER_CLASS_CSV = "per_class.csv"
BUDGET_FILE = "budget.json"
TENSORBOARD_DIR = "tensorboard"


def project_dir(run_dir: Path) -> Path:
    """keras-tuner's project folder inside a run."""
    return run_dir / PROJECT_NAME


def history_file(run_dir: Path, trial_id: str, restart: int) -> Path:
    """Where one training run's per-epoch history is kept."""
    return run_dir / HISTORY_DIR / f"{trial_id}-{restart}.json"


def test_metrics_file(run_dir: Path) -> Path:
    """Where the held-out test scores of the top trials are kept."""
    return run_dir / TEST_METRICS_FILE


def per_class_file(run_dir: Path) -> Path:
    """Where the best trial's confusion matrices are kept."""
    return run_dir / PER_CLASS_FILE


def budget_file(run_dir: Path) -> Path:
    """Where the search's time budget is kept."""
    return run_dir / BUDGET_FILE


def tensorboard_dir(run_dir: Path) -> Path:
    """Where TensorBoard's logs of a run go, one folder per trial."""
    return run_dir / TENSORBOARD_DIR


def read_budget(run_dir: Path) -> dict[str, Any]:
    """What ``budget.json`` holds (the search reads its deadline, the reports whether it stopped on time), or
    nothing for a run made before budgets or never started."""
    try:
        return json.loads(budget_file(run_dir).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
