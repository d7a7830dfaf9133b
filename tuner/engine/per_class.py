"""Record how the best trial does on each class: one confusion matrix per evaluated set, in ``per_class.json``.

Only the counts are stored; precision and recall follow from them (``tuner.reports.per_class``), so the file
never disagrees with itself. Takes predicted class indices, not a model, so it needs no framework.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix

from tuner.rundir import files, layout


def write_per_class(
    run_dir: Path,
    trial_id: str,
    class_names: Sequence[str],
    sets: Mapping[str, tuple[np.ndarray, np.ndarray]],
) -> dict[str, Any]:
    """Write (atomically) and return each set's confusion matrix, rows the true class, columns the predicted one.

    ``sets`` maps a set's name (``validation``, ``test``) to its true and predicted class indices.
    """
    labels = np.arange(len(class_names))
    recorded: dict[str, Any] = {}
    for name, (true, predicted) in sets.items():
        true, predicted = np.asarray(true), np.asarray(predicted)
        outside = np.setdiff1d(np.concatenate([true, predicted]), labels)
        if outside.size:  # confusion_matrix would drop these samples silently
            raise ValueError(f"{name}: class indices {outside.tolist()} are not in 0..{len(class_names) - 1}")
        matrix = confusion_matrix(true, predicted, labels=labels)
        recorded[name] = {"samples": int(true.size), "confusion": matrix.tolist()}
    record = {"trial": str(trial_id), "class_names": [str(name) for name in class_names], "sets": recorded}
    files.write_json(layout.per_class_file(run_dir), record)
    return record
