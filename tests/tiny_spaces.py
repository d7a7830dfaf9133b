"""Tiny spaces and data for tests that train: a few hundred 8x8 digits, one or two epochs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml


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
