"""The run directory's format number, so a tuner refuses a run it cannot read instead of misreading it.

Every run directory holds ``run.json``: the format it is written in, the Keras backend it trains on and the
versions that made it. A run without one was made before formats were numbered and is format 0. A run in a newer
format than ``FORMAT`` is refused with one line; an older one is brought up to ``FORMAT`` on resume, one
``MIGRATIONS`` step at a time.
Versions come from the installed packages' metadata, so reading or writing this never imports a framework.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from tuner import __version__
from tuner.errors import InputError, RunFormatError
from tuner.rundir import files, layout

FORMAT = 1

# The packages whose versions a run records, each under the distribution names it is installed as.
PACKAGES: dict[str, tuple[str, ...]] = {
    "keras_tuner": ("keras-tuner",),
    "keras": ("keras",),
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
}
# The other backends' packages, recorded for the run that trains on them.
BACKEND_PACKAGES: dict[str, tuple[str, ...]] = {"jax": ("jax",), "torch": ("torch",)}
# Runs made before the backend was recorded could only train on TensorFlow.
UNRECORDED_BACKEND = "tensorflow"


def run_file(run_dir: Path) -> Path:
    """Where a run keeps its format and versions."""
    return run_dir / layout.RUN_FILE


def installed_version(names: tuple[str, ...]) -> str | None:
    """The version of the first of ``names`` that is installed, or None."""
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def run_record(backend: str) -> dict[str, Any]:
    """What ``run.json`` says of a run this tuner starts on ``backend``."""
    packages = {**PACKAGES, **{name: names for name, names in BACKEND_PACKAGES.items() if name == backend}}
    versions = {field: installed_version(names) for field, names in packages.items()}
    return {
        "format": FORMAT,
        "tuner": __version__,
        "backend": backend,
        **versions,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_run_file(run_dir: Path, backend: str) -> None:
    """Record that this tuner, in this format, made the run on ``backend`` (once: a resume keeps the record)."""
    files.write_json(run_file(run_dir), run_record(backend))


def recorded_backend(run_dir: Path) -> str:
    """The backend a run trains on: the one it started with."""
    return str(read_record(run_dir).get("backend", UNRECORDED_BACKEND))


def read_record(run_dir: Path) -> dict[str, Any]:
    """The run's ``run.json``, or ``{"format": 0}`` for a run made before formats were numbered."""
    path = run_file(run_dir)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"format": 0}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"cannot be read as a run record: {error}", file=str(path)) from None
    number = record.get("format") if isinstance(record, dict) else None
    if not isinstance(number, int) or isinstance(number, bool) or number < 0:
        raise InputError(f"holds no run format number (format: {number!r})", file=str(path))
    return record


def check_readable(run_dir: Path) -> int:
    """The run's format number; a run in a format newer than this tuner's is refused with one line."""
    record = read_record(run_dir)
    number = record["format"]
    if number > FORMAT:
        raise RunFormatError(
            f"{run_dir} was written by tuner {record.get('tuner', '(unknown version)')} in run format {number};"
            f" this tuner ({__version__}) reads format {FORMAT} and older: upgrade tuner"
        )
    return number


def _number_the_format(run_dir: Path) -> None:
    """0 -> 1: the files stay as they are; ``run.json`` is added (its versions are the tuner's that resumed)."""
    write_run_file(run_dir, UNRECORDED_BACKEND)


# format number -> the step upgrading a run directory from it to the next one, its run.json included
MIGRATIONS: dict[int, Callable[[Path], None]] = {0: _number_the_format}


def migrate(run_dir: Path) -> None:
    """Bring an existing run up to ``FORMAT`` before it is resumed (refusing one from a newer tuner)."""
    for number in range(check_readable(run_dir), FORMAT):
        MIGRATIONS[number](run_dir)
