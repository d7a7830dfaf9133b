"""Helpers shared by the tests: tiny spaces and data in a folder, and runners for the console script and benchmarks."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import signal
import site
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

TINY_MODEL = """
model:
  conv_blocks: {min: 1, max: 2}
  filters: {values: [4, 8]}
  dense_units: 0
optimizer:
  name: adam
  learning_rate: {min: 1.0e-3, max: 1.0e-2, sampling: log}
training:
  epochs: 1
  batch_size: 64
"""


def write_space(directory: Path, text: str, name: str = "space.yaml") -> Path:
    """Write a YAML space file (dedented) and return its path."""
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def tuner_executable() -> str:
    """The installed console script, next to the running interpreter."""
    found = shutil.which("tuner", path=str(Path(sys.executable).parent)) or shutil.which("tuner")
    assert found, "the tuner console script is not installed: pip install -e '.[test]'"
    return found


def default_signals() -> None:
    """For ``preexec_fn``: a child that a test stops with a signal must not inherit it ignored.

    A suite started under ``nohup`` ignores SIGHUP, and a background job SIGINT; ``tuner`` rightly keeps a
    signal it was started ignoring ignored, so the test would see the search run to its end.
    """
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


BENCH = Path(__file__).resolve().parents[1] / "bench"


def bench_module(name: str) -> ModuleType:
    """A benchmark script imported as a module, to test its pure functions (benchlib resolves from bench/)."""
    if str(BENCH) not in sys.path:
        sys.path.append(str(BENCH))
    return importlib.import_module(name)


def run_bench(script: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """Run a benchmark script under bench/ as a user would."""
    return subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=timeout)


def make_npz(path: Path, samples: int = 60, size: int = 8, classes: int = 3, seed: int = 0) -> Path:
    """A small learnable npz dataset: each class is a bright square in its own place."""
    rng = np.random.default_rng(seed)
    labels = np.arange(samples) % classes
    images = rng.integers(0, 40, size=(samples, size, size), dtype=np.uint8)
    for index, label in enumerate(labels):
        start = 2 * int(label) % (size - 2)
        images[index, start : start + 2, start : start + 2] = 255
    np.savez(path, x=images, y=labels)
    return path


def make_image_folder(root: Path, classes: tuple[str, ...] = ("cats", "dogs"), per_class: int = 12) -> Path:
    """A folder of tiny PNGs, one sub-folder per class."""
    from PIL import Image

    rng = np.random.default_rng(1)
    for index, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True)
        for number in range(per_class):
            pixels = rng.integers(0, 60, size=(10, 12), dtype=np.uint8)
            pixels[:, index * 6 : index * 6 + 6] = 250
            Image.fromarray(pixels).save(folder / f"{number}.png")
    return root


def write_digits_npz(folder: Path, samples: int = 240) -> Path:
    """The first ``samples`` scikit-learn digits as an 8-bit npz archive (x, y)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    path = folder / "digits.npz"
    np.savez(path, x=(digits.images[:samples] * 16).clip(0, 255).astype("uint8"), y=digits.target[:samples])
    return path


def tiny_space(**sections: Any) -> dict[str, Any]:
    """A small space over the npz digits; keyword arguments replace or extend whole sections."""
    space: dict[str, Any] = {
        "name": "tiny",
        "seed": 7,
        "data": {"source": "npz", "path": "digits.npz"},
        "model": {"conv_blocks": {"min": 1, "max": 2}, "filters": {"values": [4, 8]}, "dropout": 0.0, "dense_units": 0},
        "optimizer": {
            "name": {"values": ["adam", "sgd"]},
            "learning_rate": {"min": 1e-3, "max": 1e-1, "sampling": "log"},
        },
        "training": {"epochs": 1, "batch_size": 32, "early_stopping": 0},
        "search": {"algorithm": "random", "max_trials": 3},
    }
    for name, value in sections.items():
        space[name] = {**space[name], **value} if isinstance(value, dict) and name in space else value
    return space


def write_tiny_space(folder: Path, name: str = "space.yaml", **sections: Any) -> Path:
    """Write ``tiny_space(**sections)`` and its data into ``folder``; returns the YAML file."""
    write_digits_npz(folder)
    path = folder / name
    path.write_text(yaml.safe_dump(tiny_space(**sections), sort_keys=False), encoding="utf-8")
    return path


def assert_ranked_run(run_dir, trials: int, objective: str = "val_loss") -> pd.DataFrame:
    """The run directory holds the resolved space, keras-tuner's project, histories and a ranked CSV."""
    assert (run_dir / "space.yaml").is_file()
    assert (run_dir / "keras_tuner" / "oracle.json").is_file()
    histories = sorted((run_dir / "history").glob("*.json"))
    assert len(histories) == trials
    epochs = json.loads(histories[0].read_text())["epochs"]
    assert epochs and {"loss", "val_loss", "accuracy", "val_accuracy", "seconds", "epoch"} <= set(epochs[0])
    results = pd.read_csv(run_dir / "results.csv")
    assert len(results) == trials
    assert list(results["rank"]) == list(range(1, trials + 1))
    assert results["objective"].is_monotonic_increasing
    assert objective not in results.columns  # the objective column is that metric
    return results


def write_image(path: Path, size: tuple[int, int] = (37, 23), mode: str = "RGB", seed: int = 0) -> Path:
    """A noisy image of ``size`` (width, height) in ``mode``, its format taken from the suffix."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path)
    return path


def write_classes(root: Path, per_class: dict[str, int], suffix: str = ".png") -> Path:
    """One sub-folder per class holding that many small images."""
    for index, (name, count) in enumerate(per_class.items()):
        for number in range(count):
            write_image(root / name / f"{number:03d}{suffix}", size=(9, 7), seed=100 * index + number)
    return root


@dataclass(frozen=True)
class User:
    """A user a test created, with its own group and, where given, a group it shares with others."""

    name: str
    uid: int
    gid: int
    shared_gid: int | None = None


def become(user: User, umask: int = 0o022) -> Callable[[], None]:
    """For ``preexec_fn``: run the child as ``user`` (its shared group first, where it has one) with ``umask``."""

    def switch() -> None:
        default_signals()
        groups = [user.shared_gid] if user.shared_gid is not None else []
        os.setgroups(groups)
        os.setgid(groups[0] if groups else user.gid)
        os.setuid(user.uid)
        os.umask(umask)

    return switch


def _open_to_others(path: Path) -> bool:
    """Whether a user outside root's groups can reach ``path``: every folder above it lets others through."""
    return all(stat.S_IMODE(folder.stat().st_mode) & stat.S_IXOTH for folder in path.resolve().parents)


def tuner_as_any_user() -> list[str]:
    """The console script, or, where its interpreter sits in a folder only root enters (a pyenv under /root),
    the system's Python of the same version with this environment's packages."""
    if _open_to_others(Path(sys.executable)):
        return [tuner_executable()]
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if not system.exists():
        pytest.skip(f"{sys.executable} is in a folder other users cannot enter, and {system} is missing")
    packages = next(path for path in site.getsitepackages() if path.endswith("site-packages"))
    program = f"import site, sys; site.addsitedir({packages!r}); from tuner.cli.main import run; run()"
    return [str(system), "-c", program]


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file below ``folder``: its mode and a digest of its bytes, to show nothing was changed or lost."""
    return {
        str(path.relative_to(folder)): (path.stat().st_mode, hashlib.sha256(path.read_bytes()).hexdigest())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def check_state_files(run_dir: Path) -> int:
    """Every state file of a run reads whole (JSON, CSV, YAML, HDF5 checkpoints) and no temporary is left; returns
    how many were read."""
    import h5py

    readers = {
        ".json": lambda path: json.loads(path.read_text()),
        ".csv": pd.read_csv,
        ".yaml": lambda path: yaml.safe_load(path.read_text()),
    }
    checked = 0
    for path in sorted(run_dir.rglob("*")):
        assert ".tmp" not in path.name, f"a temporary was left: {path}"
        if path.is_file() and path.name.endswith(".h5"):
            with h5py.File(path, "r"):
                pass
        elif path.is_file() and path.suffix in readers:
            assert path.stat().st_size, f"{path} is empty"
            readers[path.suffix](path)
        else:
            continue
        checked += 1
    return checked
