"""A helper for users' own pytest suites: run a tiny, seeded search of a space file in-process.

from tuner.testing import run_tiny_search

def test_my_space_still_learns(tmp_path):
    ranked = run_tiny_search("spaces/my_space.yaml", tmp_path, max_trials=2, epochs=1)
    assert ranked.loc[0, "val_accuracy"] > 0.5

``without_timings`` drops the columns read off the clock, which differ between two identical runs;
``histories_without_timings`` does the same for every restart's history file of a run directory.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pandas as pd

from tuner.reports.records import TIMED
from tuner.rundir import layout
from tuner.space.loading import load_spec, parse_spec


def run_tiny_search(
    space: str | Path,
    tmp_path: str | Path,
    max_trials: int = 2,
    epochs: int = 1,
    seed: int | None = None,
    **search: Any,
) -> pd.DataFrame:
    """Search ``space`` with a small budget into ``tmp_path`` and return the trials ranked best first.

    The same file and seed give the same table on the same machine; ``search`` overrides other
    ``search`` keys (e.g. ``algorithm="grid"``). Bad input raises ``tuner.errors.InputError``.
    """
    from tuner.engine.search import run_search

    _, document = load_spec(space)
    raw = copy.deepcopy(document.data)
    raw.setdefault("search", {}).update(search, max_trials=max_trials)
    raw.setdefault("training", {})["epochs"] = epochs
    if seed is not None:
        raw["seed"] = seed
    spec = parse_spec(dataclasses.replace(document, data=raw))
    result = run_search(spec, Path(space).parent, Path(tmp_path), overwrite=True)
    return result.ranked.frame


def without_timings(ranked: pd.DataFrame) -> pd.DataFrame:
    """The table without what was timed (seconds, latencies, and the Pareto front, which weighs latency):
    what two runs of one seed must agree on, bit for bit."""
    return ranked.drop(columns=[column for column in TIMED if column in ranked.columns])


# What a history records off the clock: the table's timed columns, which come from it, plus when it trained and how
# long measuring the model's costs took.
HISTORY_TIMED = frozenset(TIMED) | {"started", "finished", "cost_seconds"}


def histories_without_timings(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Every restart's history in ``run_dir`` by file name, epochs included, without what was timed: what two runs
    of one seed must agree on, bit for bit."""
    found = {}
    for path in sorted((Path(run_dir) / layout.HISTORY_DIR).glob("*.json")):
        history = json.loads(path.read_text(encoding="utf-8"))
        history["epochs"] = [{k: v for k, v in epoch.items() if k not in HISTORY_TIMED} for epoch in history["epochs"]]
        found[path.name] = {k: v for k, v in history.items() if k not in HISTORY_TIMED}
    return found
