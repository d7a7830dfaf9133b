"""Starting a run directory afresh, or checking that it holds the same space before resuming it."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from pydantic import ValidationError

from tuner.backend.selection import active
from tuner.errors import InputError
from tuner.rundir import files, layout
from tuner.rundir import format as run_format
from tuner.rundir.lock import LOCK_FILE
from tuner.space.schema import Spec


def resolved_yaml(spec: Spec) -> str:
    """The spec with every default filled in, as YAML that ``tuner search`` reads back unchanged."""
    return yaml.safe_dump(spec.model_dump(mode="json", warnings=False), sort_keys=False)


def prepare_run_dir(run_dir: Path, spec: Spec, overwrite: bool) -> None:
    """Start afresh, or check that an existing run searched the same space, in a format it reads, before resuming.

    ``run.json`` is written when the run starts and kept on every resume; only --overwrite starts it again.
    """
    if overwrite and run_dir.exists():
        # The lock file stays: removing it while held would let a second search lock a new one. space.yaml goes
        # last: a kill midway leaves a run that still names its space, so resuming another space is still refused.
        for child in sorted(run_dir.iterdir(), key=lambda child: child.name == layout.SPACE_FILE):
            if child.name != LOCK_FILE:
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    else:
        # Before anything else: a newer tuner's run is refused for its format, whatever else it holds.
        run_format.check_readable(run_dir)
        if (run_dir / layout.SPACE_FILE).exists():
            check_same_backend(run_dir)
            run_format.migrate(run_dir)  # first: the comparison below reads the run as this tuner writes it
            check_same_space(run_dir, spec)
    files.write_atomic(run_dir / layout.SPACE_FILE, resolved_yaml(spec))
    if not run_format.run_file(run_dir).exists():
        run_format.write_run_file(run_dir, active())


def check_same_backend(run_dir: Path) -> None:
    """Refuse to go on with a run on another backend than it started on: its trials would not be comparable.

    The same seed gives other weights, kernels and losses on each backend, so a run mixing two ranks noise.
    """
    recorded, backend = run_format.recorded_backend(run_dir), active()
    if recorded != backend:
        raise InputError(
            f"was started on the {recorded} backend, not {backend}: resume it with --backend {recorded},"
            " or pass --overwrite to start it again on this one",
            file=str(run_dir),
        )


def check_same_space(run_dir: Path, spec: Spec) -> None:
    """Refuse to mix two spaces in one run (the budgets may change, raising one extends a run; so may logging).

    The saved space is read through today's schema, defaults filled, so a key added since (with a default that
    keeps the old behaviour) does not make the same space look different.
    """
    before = saved_space(run_dir).model_dump(mode="json", warnings=False)
    now = spec.model_dump(mode="json", warnings=False)
    for saved in (before, now):
        for changeable in ("max_trials", "max_consecutive_failures", "max_time", "tensorboard"):
            saved.get("search", {}).pop(changeable, None)
    if before != now:
        raise InputError(
            f"{run_dir} holds a search of a different space; pass --overwrite to replace it,"
            " or give this space another name",
            key="name",
        )


def saved_space(run_dir: Path) -> Spec:
    """The space a run searched, validated by today's schema; one that no longer validates is one InputError."""
    path = run_dir / layout.SPACE_FILE
    try:
        return Spec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as error:
        problem = error.errors(include_url=False)[0]
        detail = f"{'.'.join(str(part) for part in problem['loc']) or 'the file'}: {problem['msg']}"
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        detail = str(error).splitlines()[0]
    raise InputError(
        f"{path} no longer validates ({detail}); pass --overwrite to start {run_dir} again,"
        " or give this space another name"
    )
