"""Interim (replaced by the perclass branch)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tuner.rundir import files


def write_per_class(
    run_dir: Path, trial_id: str, class_names: Sequence[str], sets: Mapping[str, tuple[np.ndarray, np.ndarray]]
) -> dict[str, Any]:
    from sklearn.metrics import confusion_matrix

    record = {
        "trial": trial_id,
        "class_names": list(class_names),
        "sets": {
            name: {"samples": len(true), "confusion": confusion_matrix(true, pred, labels=range(len(class_names))).tolist()}
            for name, (true, pred) in sets.items()
        },
    }
    files.write_json(run_dir / "per_class.json", record)
    return record
