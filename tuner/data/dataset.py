"""The labelled images of a task and its split into training, validation and held-out test rows.

The images are kept as they were stored (uint8 pixels for decoded and standard data, often a read-only
memory map that every process shares); the split is three arrays of row numbers into them, never a copy.
Scaling to [0, 1] happens inside the model (``pixel_scale``), so memory holds one byte per pixel and an
exported model takes raw pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tuner.errors import InputError

UINT8_SCALE = 1.0 / 255.0


@dataclass(frozen=True)
class Subset:
    """Some rows of a task's images: what one ``fit`` or ``evaluate`` reads, batch by batch."""

    images: np.ndarray
    all_labels: np.ndarray
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def labels(self) -> np.ndarray:
        """The class indices of these rows (small: one integer per image)."""
        return self.all_labels[self.rows]

    def pixels(self) -> np.ndarray:
        """These rows' images as one in-memory array: a copy, for small subsets and tests."""
        return np.asarray(self.images[self.rows])

    @property
    def nbytes(self) -> int:
        """Bytes the rows' images take."""
        return len(self.rows) * int(np.prod(self.images.shape[1:])) * self.images.dtype.itemsize


@dataclass(frozen=True)
class Dataset:
    """A task's images and labels, the rows of each split (the test split may be empty), and the class names.

    ``pixel_scale`` maps stored pixels to [0, 1] (1/255 for uint8, 1/16 for scikit-learn's digits, 1 for
    float data); labels are class indices 0..K-1 in the order of ``class_names`` (for two classes, index 1
    is the +1 class).
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    train_rows: np.ndarray
    val_rows: np.ndarray
    test_rows: np.ndarray
    pixel_scale: float

    @property
    def train(self) -> Subset:
        return Subset(self.images, self.labels, self.train_rows)

    @property
    def val(self) -> Subset:
        return Subset(self.images, self.labels, self.val_rows)

    @property
    def test(self) -> Subset:
        return Subset(self.images, self.labels, self.test_rows)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Shape of one image, as the model's input layer wants it."""
        height, width, channels = self.images.shape[1:]
        return int(height), int(width), int(channels)

    @property
    def num_classes(self) -> int:
        """How many distinct labels the task has."""
        return len(self.class_names)


def split(
    rows: np.ndarray,
    labels: np.ndarray,
    classes: int,
    fraction: float,
    seed: int,
    test_fraction: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training, validation and test rows: a seeded split of ``rows``, stratified by class where possible.

    Both fractions are of all ``rows``; the test set is cut first, so changing ``validation_split`` never
    moves an image into or out of it.
    """
    n_test = round(len(rows) * test_fraction)
    if test_fraction > 0 and (n_test < 1 or len(rows) - n_test < 2):
        raise InputError(f"{len(rows)} samples cannot spare a test set of {test_fraction:g}", key="data.test_split")
    rest, test = _cut(rows, labels, classes, n_test, seed)
    n_val = round(len(rows) * fraction)
    if n_val < 1 or len(rest) - n_val < 1:
        raise InputError(
            f"{len(rows)} samples cannot be split into training and validation sets", key="data.validation_split"
        )
    train, val = _cut(rest, labels, classes, n_val, seed)
    return train, val, test


def _cut(rows: np.ndarray, labels: np.ndarray, classes: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded ``train_test_split`` of ``count`` of ``rows``, stratified where every class can be represented."""
    from sklearn.model_selection import train_test_split

    if count == 0:
        return rows, rows[:0]
    of_rows = labels[rows]
    counts = np.bincount(of_rows, minlength=classes)
    stratify = of_rows if counts.min() >= 2 and classes <= count <= len(rows) - classes else None
    kept, cut = train_test_split(rows, test_size=count, random_state=seed, stratify=stratify)
    return kept, cut
