"""The run directory's layout, shared by the search that writes it and the reports that read it.

<runs-dir>/<name>/
    space.yaml            the space as resolved, defaults filled in
    keras_tuner/          keras-tuner's own project (oracle state, trial_*/trial.json, checkpoints)
    history/<trial>-<restart>.json   per-epoch metrics and seconds of every training run
    results.csv           trials ranked by the objective
    report.html           the same ranking with the run's summary and plots, one self-contained file
    test_metrics.json     the top trials scored on the held-out test set (only with data.test_split)
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

SPACE_FILE = "space.yaml"
PROJECT_NAME = "keras_tuner"
HISTORY_DIR = "history"
RESULTS_FILE = "results.csv"
REPORT_FILE = "report.html"
TEST_METRICS_FILE = "test_metrics.json"


def project_dir(run_dir: Path) -> Path:
    """keras-tuner's project folder inside a run."""
    return run_dir / PROJECT_NAME


def history_file(run_dir: Path, trial_id: str, restart: int) -> Path:
    """Where one training run's per-epoch history is kept."""
    return run_dir / HISTORY_DIR / f"{trial_id}-{restart}.json"


def test_metrics_file(run_dir: Path) -> Path:
    """Where the held-out test scores of the top trials are kept."""
    return run_dir / TEST_METRICS_FILE


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file and a rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """Atomically write ``data`` as indented JSON."""
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True))


def save_atomic(path: Path, save: Callable[[Path], Any]) -> None:
    """Let a library's ``save(path)`` write a temporary sibling (same suffix), then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        save(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
