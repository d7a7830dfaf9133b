"""The labelled images of a task, split into training, validation and held-out test sets.

Images are float32 arrays of shape (N, H, W, C) scaled to [0, 1]; labels are class indices 0..K-1 in
the order of ``class_names`` (for two classes, index 1 is the +1 class).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tuner.errors import InputError


@dataclass(frozen=True)
class Dataset:
    """Training, validation and held-out test arrays (the test set may be empty), with the class names."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    class_names: tuple[str, ...]
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Shape of one image, as the model's input layer wants it."""
        height, width, channels = self.x_train.shape[1:]
        return int(height), int(width), int(channels)

    @property
    def num_classes(self) -> int:
        """How many distinct labels the task has."""
        return len(self.class_names)


def split(
    images: np.ndarray,
    labels: np.ndarray,
    names: tuple[str, ...],
    fraction: float,
    seed: int,
    test_fraction: float = 0.0,
) -> Dataset:
    """A seeded split, stratified by class so small validation and test sets still hold every class.

    Both fractions are of all samples; the test set is cut first, so changing ``validation_split``
    never moves an image into or out of it.
    """
    n_test = round(len(labels) * test_fraction)
    if test_fraction > 0 and (n_test < 1 or len(labels) - n_test < 2):
        raise InputError(f"{len(labels)} samples cannot spare a test set of {test_fraction:g}", key="data.test_split")
    x_rest, x_test, y_rest, y_test = _cut(images, labels, len(names), n_test, seed)
    n_val = round(len(labels) * fraction)
    if n_val < 1 or len(y_rest) - n_val < 1:
        raise InputError(
            f"{len(labels)} samples cannot be split into training and validation sets", key="data.validation_split"
        )
    x_train, x_val, y_train, y_val = _cut(x_rest, y_rest, len(names), n_val, seed)
    return Dataset(x_train, y_train, x_val, y_val, names, x_test, y_test)


def _cut(
    images: np.ndarray, labels: np.ndarray, classes: int, count: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seeded ``train_test_split`` of ``count`` samples, stratified where every class can be represented."""
    from sklearn.model_selection import train_test_split

    if count == 0:
        return images, images[:0], labels, labels[:0]
    counts = np.bincount(labels, minlength=classes)
    stratify = labels if counts.min() >= 2 and classes <= count <= len(labels) - classes else None
    return tuple(train_test_split(images, labels, test_size=count, random_state=seed, stratify=stratify))  # type: ignore[return-value]
