"""Shared fixtures: tiny spaces and datasets written into tmp_path, and a runner for the console script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

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


@pytest.fixture
def space_file(tmp_path: Path) -> Callable[..., Path]:
    """Write a space into tmp_path: ``space_file(text)``."""
    return lambda text, name="space.yaml": write_space(tmp_path, text, name)


def tuner_executable() -> str:
    """The installed console script, next to the running interpreter."""
    found = shutil.which("tuner", path=str(Path(sys.executable).parent)) or shutil.which("tuner")
    assert found, "the tuner console script is not installed: pip install -e '.[test]'"
    return found


@pytest.fixture
def run_tuner(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the ``tuner`` console script in tmp_path as a user would."""

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        return subprocess.run(
            [tuner_executable(), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout
        )

    return run


BENCH = Path(__file__).resolve().parents[1] / "bench"


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
