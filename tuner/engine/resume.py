"""Starting a run directory afresh, or checking that it holds the same space before resuming it."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tuner.errors import InputError
from tuner.rundir import files, layout
from tuner.rundir.lock import LOCK_FILE
from tuner.space.schema import Spec


def resolved_yaml(spec: Spec) -> str:
    """The spec with every default filled in, as YAML that ``tuner search`` reads back unchanged."""
    return yaml.safe_dump(spec.model_dump(mode="json", warnings=False), sort_keys=False)


def prepare_run_dir(run_dir: Path, spec: Spec, overwrite: bool) -> None:
    """Start afresh, or check that an existing run searched the same space before resuming it."""
    if overwrite and run_dir.exists():
        # The lock file stays: removing it while held would let a second search lock a new one. space.yaml goes
        # last: a kill midway leaves a run that still names its space, so resuming another space is still refused.
        for child in sorted(run_dir.iterdir(), key=lambda child: child.name == layout.SPACE_FILE):
            if child.name != LOCK_FILE:
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    elif (run_dir / layout.SPACE_FILE).exists():
        check_same_space(run_dir, spec)
    files.write_atomic(run_dir / layout.SPACE_FILE, resolved_yaml(spec))


def check_same_space(run_dir: Path, spec: Spec) -> None:
    """Refuse to mix two spaces in one run (the budgets may change: raising one extends a run)."""
    before = yaml.safe_load((run_dir / layout.SPACE_FILE).read_text(encoding="utf-8"))
    now = spec.model_dump(mode="json")
    for saved in (before, now):
        for budget in ("max_trials", "max_consecutive_failures"):
            saved.get("search", {}).pop(budget, None)
    if before != now:
        raise InputError(
            f"{run_dir} holds a search of a different space; pass --overwrite to replace it,"
            " or give this space another name",
            key="name",
        )
