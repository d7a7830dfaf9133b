"""Labelled images from the sources a space can name: digits, npz, a folder, shapes, the keras datasets.

Nothing here imports TensorFlow; the keras datasets import Keras only to download.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from tuner.data import shapes
from tuner.data.dataset import Dataset, split
from tuner.data.keras_datasets import load_keras_dataset
from tuner.errors import InputError
from tuner.space.schema import DataSpec

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def load_data(spec: DataSpec, base_dir: Path, seed: int) -> Dataset:
    """Load the images ``spec`` names (paths relative to ``base_dir``), keep the first ``limit``, split by ``seed``."""
    if spec.source == "digits":
        images, labels, names = _digits()
    elif spec.source == "npz":
        images, labels, names = _npz(_existing(spec, base_dir))
    elif spec.source == "directory":
        images, labels, names = _directory(_existing(spec, base_dir), spec)
    elif spec.source == "shapes":
        images, labels, names = _shapes(spec, seed)
    else:
        images, labels, names = load_keras_dataset(spec.source)
    if spec.limit is not None:
        images, labels, names = _first(images, labels, names, spec.limit)
    return split(_scaled(images), labels, names, spec.validation_split, seed, spec.test_split)


def _first(
    images: np.ndarray, labels: np.ndarray, names: tuple[str, ...], limit: int
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The first ``limit`` samples, with classes that no longer occur dropped from the names."""
    images, labels = images[:limit], labels[:limit]
    present, labels = np.unique(labels, return_inverse=True)
    if len(present) < 2:
        raise InputError(
            f"the first {len(labels)} samples are all of class {names[present[0]]!r}; a classifier needs two classes",
            key="data.limit",
        )
    return images, labels.astype("int64"), tuple(names[index] for index in present)


def _existing(spec: DataSpec, base_dir: Path) -> Path:
    """The data path resolved against the space file's folder; it must exist."""
    path = (base_dir / str(spec.path)).resolve()
    if not path.exists():
        raise InputError(f"{path} does not exist", key="data.path")
    return path


def _digits() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """scikit-learn's bundled 8x8 digits: ships with the package, so it works offline."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype("float32")[..., np.newaxis]
    return images, digits.target.astype("int64"), tuple(str(name) for name in digits.target_names)


def _npz(path: Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """A NumPy archive holding ``x`` (N, H, W[, C]) images and ``y`` (N,) labels."""
    if not path.is_file():
        raise InputError(f"{path} is not a file: source npz reads a .npz archive", key="data.path")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [name for name in ("x", "y") if name not in archive.files]
            if missing:
                found = ", ".join(archive.files) or "none"
                raise InputError(f"{path} has no array {missing[0]!r} (arrays found: {found})", key="data.path")
            images, raw_labels = archive["x"], archive["y"]
    except InputError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        # numpy blames pickling for any file that is neither .npy nor zip: name the real problem.
        reason = "not a zip archive" if not zipfile.is_zipfile(path) else str(error)
        raise InputError(f"{path} is not a readable .npz archive ({reason})", key="data.path") from None
    if images.ndim not in (3, 4) or images.shape[0] == 0:
        raise InputError(f"{path}: x must have shape (N, H, W) or (N, H, W, C) (got {images.shape})", key="data.path")
    if raw_labels.ndim != 1 or len(raw_labels) != len(images):
        raise InputError(
            f"{path}: y must be one label per image: x holds {len(images)} images, y has shape {raw_labels.shape}",
            key="data.path",
        )
    if images.ndim == 3:
        images = images[..., np.newaxis]
    return images, *_indexed(raw_labels, path)


def _scaled(images: np.ndarray) -> np.ndarray:
    """Images as float32 in [0, 1]: integer data is divided by 255, floats kept as given."""
    if np.issubdtype(images.dtype, np.integer):
        return (images / 255.0).astype("float32")
    return images.astype("float32")


def _indexed(raw_labels: np.ndarray, path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels of any values as indices 0..K-1 into their sorted distinct values."""
    names, labels = np.unique(raw_labels, return_inverse=True)
    if len(names) < 2:
        raise InputError(
            f"{path}: every label is {names[0].item()!r}; a classifier needs two classes or more", key="data.path"
        )
    return labels.astype("int64"), tuple(str(name) for name in names)


def _directory(path: Path, spec: DataSpec) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """One sub-folder per class, each holding that class's image files."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_dir():
        raise InputError(f"{path} is not a folder: source directory reads one sub-folder per class", key="data.path")
    folders = sorted(child for child in path.iterdir() if child.is_dir() and not child.name.startswith("."))
    classes = [(folder, _image_files(folder)) for folder in folders]
    classes = [(folder, files) for folder, files in classes if files]
    if len(classes) < 2:
        found = ", ".join(folder.name for folder, _ in classes) or "none"
        raise InputError(
            f"{path} needs one sub-folder of images per class, two classes or more (classes with images: {found})",
            key="data.path",
        )
    mode = "L" if spec.color_mode == "grayscale" else "RGB"
    height, width = spec.image_size
    images, labels = [], []
    for index, (_, files) in enumerate(classes):
        for file in files:
            try:
                with Image.open(file) as image:
                    pixels = np.asarray(image.convert(mode).resize((width, height)), dtype="float32") / 255.0
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
                raise InputError(f"{file} is not a readable image ({error})", key="data.path") from None
            images.append(pixels if pixels.ndim == 3 else pixels[..., np.newaxis])
            labels.append(index)
    # Take classes in turn, so that the first ``limit`` images hold every class.
    within = np.concatenate([np.arange(len(files)) for _, files in classes])
    order = np.argsort(within, kind="stable")
    stacked = np.stack(images)[order]
    return stacked, np.asarray(labels, dtype="int64")[order], tuple(folder.name for folder, _ in classes)


def _shapes(spec: DataSpec, seed: int) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The generated grouping task, labels −1 (index 0) and +1 (index 1)."""
    images, signs = shapes.generate(
        samples=spec.samples or shapes.DEFAULT_SAMPLES,
        image_size=(spec.image_size[0], spec.image_size[1]),
        grouping=spec.grouping or shapes.DEFAULT_GROUPING,
        noise=shapes.DEFAULT_NOISE if spec.noise is None else spec.noise,
        seed=seed,
    )
    return images, (signs > 0).astype("int64"), ("-1", "+1")


def _image_files(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, in a stable order."""
    return sorted(file for file in folder.iterdir() if file.is_file() and file.suffix.lower() in IMAGE_SUFFIXES)
