"""The best trial per class, read from ``per_class.json``: support, precision and recall from each confusion matrix.

The file holds only counts (written by ``tuner.engine.per_class``); everything else is derived here with numpy,
not scikit-learn, whose import alone would cost ``tuner report`` over a second. A ratio with nothing to divide
(precision of a class never predicted, recall of a class the set lacks) is NaN, shown blank, never an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tuner.errors import RunFormatError
from tuner.rundir import layout

# Sets are shown in this order; any other set a later tuner records follows, by name.
SET_ORDER = ("validation", "test")
CSV_COLUMNS = ("set", "class", "support", "precision", "recall")


@dataclass(frozen=True)
class SetResults:
    """One evaluated set: its confusion matrix (rows the true class, columns the predicted one) and its rates."""

    name: str
    class_names: tuple[str, ...]
    confusion: np.ndarray

    @property
    def samples(self) -> int:
        """How many samples the set has."""
        return int(self.confusion.sum())

    def table(self) -> pd.DataFrame:
        """One row per class: ``class``, ``support``, ``precision``, ``recall`` (NaN where 0/0)."""
        hits = np.diag(self.confusion)
        support, predicted = self.confusion.sum(axis=1), self.confusion.sum(axis=0)
        with np.errstate(invalid="ignore"):  # hits never exceed either count, so only 0/0 can occur
            precision, recall = hits / predicted, hits / support
        return pd.DataFrame(
            {"class": list(self.class_names), "support": support, "precision": precision, "recall": recall}
        )

    @property
    def accuracy(self) -> float:
        """The share of all samples predicted right (NaN for an empty set)."""
        return float(np.trace(self.confusion) / self.samples) if self.samples else float("nan")

    @property
    def balanced_accuracy(self) -> float:
        """The mean recall over the classes the set has, which a majority class cannot inflate."""
        return float(self.table()["recall"].mean())

    def lowest_recall(self) -> tuple[str, float] | None:
        """The class the model finds least often (the first such in class order), or None for an empty set."""
        recall = self.table().set_index("class")["recall"].dropna()
        return (str(recall.idxmin()), float(recall.min())) if not recall.empty else None


@dataclass(frozen=True)
class PerClass:
    """The per-class results of one trial (the best) on each set it was evaluated on, in ``SET_ORDER``."""

    trial: str
    class_names: tuple[str, ...]
    sets: tuple[SetResults, ...]

    def frame(self) -> pd.DataFrame:
        """Every set's per-class table in one, with a leading ``set`` column: what ``per_class.csv`` holds."""
        tables = [results.table().assign(set=results.name) for results in self.sets]
        return pd.concat(tables, ignore_index=True).reindex(columns=list(CSV_COLUMNS))


def load_per_class(run_dir: Path) -> PerClass | None:
    """The run's per-class results, or None where the search recorded none (no file)."""
    path = layout.per_class_file(run_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return _parse(json.loads(text))
    except KeyError as error:
        reason = f"no key {error}"
    except (TypeError, ValueError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        reason = str(error)
    # The file is written atomically, so this is not a half-written one: another tuner's format, or damage.
    raise RunFormatError(f"cannot be read as per-class results: {reason}", file=str(path))


def _parse(record: Any) -> PerClass:
    if not isinstance(record, dict) or not isinstance(record.get("sets"), dict):
        raise ValueError("it is not an object with an object of sets")
    names = record["class_names"]
    if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
        raise ValueError("class_names is not a list of class names")
    names = tuple(names)
    found = []
    for name in sorted(record["sets"], key=_set_position):
        entry = record["sets"][name]
        confusion = np.array(entry["confusion"])
        if confusion.shape != (len(names),) * 2 or confusion.dtype.kind not in "iu" or (confusion < 0).any():
            raise ValueError(f"sets.{name}.confusion is not a {len(names)} x {len(names)} table of counts")
        if entry["samples"] != confusion.sum():
            raise ValueError(
                f"sets.{name}: {entry['samples']} samples, but the confusion matrix counts {confusion.sum()}"
            )
        confusion.flags.writeable = False
        found.append(SetResults(name=name, class_names=names, confusion=confusion))
    return PerClass(trial=str(record["trial"]), class_names=names, sets=tuple(found))


def _set_position(name: str) -> tuple[int, str]:
    return (SET_ORDER.index(name) if name in SET_ORDER else len(SET_ORDER), name)
