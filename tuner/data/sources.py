"""Labelled images from the sources a space can name: digits, npz, a folder, shapes, the standard datasets.

npz files, folders and the standard datasets are decoded once into the shared cache (``tuner.data.cache``)
and come back as read-only memory maps; digits and shapes are small and made in memory. Nothing here
imports TensorFlow; the standard datasets import Keras only to download.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tuner.data import shapes
from tuner.data.cache import Sink, load_or_build
from tuner.data.dataset import UINT8_SCALE, Dataset, split
from tuner.data.folder import decode_folder, list_folder, read_one
from tuner.data.keras_datasets import CLASS_NAMES, dataset_files, read_dataset
from tuner.errors import InputError, TunerWarning
from tuner.space.schema import OFFICIAL, DataSpec

CACHE_FORMAT = 1
DIGITS_SCALE = 1.0 / 16.0  # scikit-learn's digits are counts 0..16 of an 8x8 grid's pen strokes


@dataclass(frozen=True)
class Source:
    """What a source holds before splitting: labels -1 mark rows to leave out (an unreadable image)."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    pixel_scale: float
    official_test_rows: np.ndarray | None = None


@dataclass(frozen=True)
class DataSummary:
    """What ``tuner validate`` shows of the data: one image's shape, the classes and how many of each."""

    input_shape: tuple[int, int, int]
    counts: dict[str, int]

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.counts)

    @property
    def samples(self) -> int:
        return sum(self.counts.values())


def describe_data(spec: DataSpec, base_dir: Path | None, seed: int) -> DataSummary:
    """The data's shape and classes: a folder is listed and one image read, never decoded as a whole."""
    if spec.source == "directory":
        listing = list_folder(_existing(spec, base_dir), spec.class_names)
        shape = read_one(listing, (spec.image_size[0], spec.image_size[1]), spec.color_mode)
        return DataSummary(shape, _counts(listing.labels[: spec.limit], listing.class_names))
    data = load_data(spec, base_dir, seed)
    rows = np.concatenate([data.train_rows, data.val_rows, data.test_rows])
    return DataSummary(data.input_shape, _counts(data.labels[rows], data.class_names))


def _counts(labels: np.ndarray, names: tuple[str, ...]) -> dict[str, int]:
    """Images per class, for the classes that occur, in class order."""
    found = np.bincount(labels, minlength=len(names))
    return {name: int(count) for name, count in zip(names, found, strict=True) if count}


def load_data(spec: DataSpec, base_dir: Path | None, seed: int) -> Dataset:
    """The images ``spec`` names (paths relative to ``base_dir``), the first ``limit`` kept, split by ``seed``."""
    source = load_source(spec, base_dir, seed)
    labels, names = source.labels, _named(source.class_names, spec)
    pool = np.flatnonzero(labels >= 0)
    test = np.zeros(0, dtype="int64")
    if source.official_test_rows is not None:
        test = source.official_test_rows
        pool = pool[~np.isin(pool, test)]
    if spec.limit is not None:
        pool = pool[: spec.limit]
        labels, names = _present_classes(labels, names, pool)
        test = test[labels[test] >= 0]
    if spec.test_split == OFFICIAL:
        train, val, _ = split(pool, labels, len(names), spec.validation_split, seed)
    else:
        train, val, test = split(pool, labels, len(names), spec.validation_split, seed, spec.test_split)
    return Dataset(source.images, labels, names, train, val, test, source.pixel_scale)


def load_source(spec: DataSpec, base_dir: Path | None, seed: int) -> Source:
    """All of a source's images and labels, as stored: nothing is split, scaled or copied."""
    if spec.source == "digits":
        return _digits()
    if spec.source == "shapes":
        return _shapes(spec, seed)
    if spec.source == "npz":
        return _npz(_existing(spec, base_dir), spec.cache)
    if spec.source == "directory":
        return _directory(_existing(spec, base_dir), spec)
    return _standard(spec, None if spec.path is None else _existing(spec, base_dir))


def warn(message: str) -> None:
    """A problem the search can work around (a cache it cannot write, a skipped image): one warning line."""
    warnings.warn(message, TunerWarning, stacklevel=3)


def _named(found: tuple[str, ...], spec: DataSpec) -> tuple[str, ...]:
    """The class names: the source's own, or ``data.class_names`` for sources whose labels are bare values."""
    if spec.class_names is None or spec.source == "directory":
        return found
    if len(spec.class_names) != len(found):
        raise InputError(
            f"names {len(spec.class_names)} classes; the data has {len(found)} ({', '.join(found)})",
            key="data.class_names",
        )
    return tuple(spec.class_names)


def _present_classes(
    labels: np.ndarray, names: tuple[str, ...], pool: np.ndarray
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels re-indexed to the classes ``pool`` holds (others become -1), and those classes' names."""
    present = np.unique(labels[pool])
    if len(present) < 2:
        raise InputError(
            f"the first {len(pool)} samples are all of class {names[present[0]]!r}; a classifier needs two classes",
            key="data.limit",
        )
    index = np.full(len(names) + 1, -1, dtype="int64")
    index[present] = np.arange(len(present))
    return index[labels], tuple(names[label] for label in present)


def _existing(spec: DataSpec, base_dir: Path | None) -> Path:
    """The data path resolved against the space file's folder; it must exist."""
    path = (Path(base_dir or ".") / str(spec.path)).resolve()
    if not path.exists():
        raise InputError(f"{path} does not exist", key="data.path")
    return path


def _stat(path: Path) -> list[Any]:
    """What identifies a file's content for the cache key without reading it."""
    status = path.stat()
    return [str(path), status.st_size, status.st_mtime_ns]


def _digits() -> Source:
    """scikit-learn's bundled 8x8 digits: ships with the package, so it works offline."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype("uint8")[..., np.newaxis]
    names = tuple(str(name) for name in digits.target_names)
    return Source(images, digits.target.astype("int64"), names, DIGITS_SCALE)


def _shapes(spec: DataSpec, seed: int) -> Source:
    """The generated grouping task, labels −1 (index 0) and +1 (index 1), float pixels in [0, 1]."""
    images, signs = shapes.generate(
        samples=spec.samples or shapes.DEFAULT_SAMPLES,
        image_size=(spec.image_size[0], spec.image_size[1]),
        grouping=spec.grouping or shapes.DEFAULT_GROUPING,
        noise=shapes.DEFAULT_NOISE if spec.noise is None else spec.noise,
        seed=seed,
    )
    return Source(images, (signs > 0).astype("int64"), ("-1", "+1"), 1.0)


def _cached(
    fingerprint: dict[str, Any], build: Callable[[Sink], dict[str, Any]], enabled: bool
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and meta ``build`` makes, from the shared cache when it holds them (see ``tuner.data.cache``)."""
    stored = load_or_build({"format": CACHE_FORMAT, **fingerprint}, build, enabled=enabled, warn=warn)
    return stored.arrays, stored.meta


def _npz(path: Path, cache: bool) -> Source:
    """A NumPy archive holding ``x`` (N, H, W[, C]) images and ``y`` (N,) labels."""
    if not path.is_file():
        raise InputError(f"{path} is not a file: source npz reads a .npz archive", key="data.path")
    arrays, meta = _cached({"kind": "npz", "file": _stat(path)}, lambda sink: _read_npz(path, sink), cache)
    return Source(arrays["images"], arrays["labels"], tuple(meta["class_names"]), meta["pixel_scale"])


def _read_npz(path: Path, sink: Sink) -> dict[str, Any]:
    """Copy an archive's images into ``sink`` as uint8 (integers 0..255) or float32, with indexed labels."""
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
    labels, names = _indexed(raw_labels, path)
    bytes_kept = np.issubdtype(images.dtype, np.integer) and images.min() >= 0 and images.max() <= 255
    if np.issubdtype(images.dtype, np.integer) and not bytes_kept:
        images = images / 255.0  # integers beyond a byte: scaled as before, kept as floats
    sink.array("images", images.shape, "uint8" if bytes_kept else "float32")[...] = images
    sink.array("labels", labels.shape, "int64")[...] = labels
    return {"class_names": list(names), "pixel_scale": UINT8_SCALE if bytes_kept else 1.0}


def _indexed(raw_labels: np.ndarray, path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels of any values as indices 0..K-1 into their sorted distinct values."""
    names, labels = np.unique(raw_labels, return_inverse=True)
    if len(names) < 2:
        raise InputError(
            f"{path}: every label is {names[0].item()!r}; a classifier needs two classes or more", key="data.path"
        )
    return labels.astype("int64"), tuple(str(name) for name in names)


def _directory(path: Path, spec: DataSpec) -> Source:
    """One sub-folder per class, each holding that class's image files, decoded once into the cache."""
    listing = list_folder(path, spec.class_names)
    size = (spec.image_size[0], spec.image_size[1])
    arrays, meta = _cached(
        listing.fingerprint(size, spec.color_mode),
        lambda sink: decode_folder(listing, size, spec.color_mode, spec.on_bad_image, sink),
        spec.cache,
    )
    skipped = meta["skipped"]
    if skipped and spec.on_bad_image == "error":
        raise InputError(f"{path / skipped[0]} is not a readable image", key="data.path")
    if skipped:
        more = f" and {len(skipped) - 1} more" if len(skipped) > 1 else ""
        warn(f"{path}: skipped {len(skipped)} unreadable image(s): {skipped[0]}{more} (data.on_bad_image: skip)")
    return Source(arrays["images"], arrays["labels"], listing.class_names, UINT8_SCALE)


def _standard(spec: DataSpec, folder: Path | None) -> Source:
    """mnist, fashion_mnist, cifar10 or cifar100: the training set, then the official test set, as uint8."""
    name = spec.source
    found = dataset_files(name, folder)
    arrays, meta = _cached(
        {"kind": name, "files": [_stat(file) for file in found]},
        lambda sink: _store_standard(name, found, sink),
        spec.cache,
    )
    labels = arrays["labels"]
    official = np.arange(meta["train_samples"], len(labels)) if spec.test_split == OFFICIAL else None
    return Source(arrays["images"], labels, CLASS_NAMES[name], UINT8_SCALE, official)


def _store_standard(name: str, found: tuple[Path, ...], sink: Sink) -> dict[str, Any]:
    parts = read_dataset(name, found)
    train = len(parts.train_labels)
    images = sink.array("images", (train + len(parts.test_labels), *parts.train_images.shape[1:]), "uint8")
    images[:train], images[train:] = parts.train_images, parts.test_images
    labels = sink.array("labels", (len(images),), "int64")
    labels[:train], labels[train:] = parts.train_labels, parts.test_labels
    return {"train_samples": train}
