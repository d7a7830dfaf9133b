"""The standard image datasets by name, read from their original files: a folder the space names, or the
files ``keras.datasets`` downloads into its cache.

Files are fetched by Keras' own ``keras.utils.get_file`` with the names, origins and hashes
``keras.datasets`` uses, into the same cache (``$KERAS_HOME`` or ``~/.keras``), so either fills it for the
other. A file already there, downloaded before or placed by hand, is read without a network. A failed
download is one line naming the URL and where to save the file by hand. Keras is imported only to download.
"""

from __future__ import annotations

import gzip
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from tuner.errors import InputError

STORAGE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


@dataclass(frozen=True)
class Remote:
    """One file as ``keras.datasets`` fetches it: the same name, origin, hash and cache folder."""

    fname: str
    origin: str
    file_hash: str | None = None
    subdir: str = "datasets"
    extract: bool = False

    def kept(self, cache: Path) -> Path:
        """What the cache holds once fetched: the file, or the folder an archive was extracted into."""
        return cache / self.subdir / self.fname

    def download_target(self, cache: Path) -> Path:
        """Where ``keras.utils.get_file`` saves the download itself (archives get an ``_archive`` suffix)."""
        return cache / self.subdir / (f"{self.fname}_archive" if self.extract else self.fname)


MNIST = Remote("mnist.npz", f"{STORAGE}mnist.npz", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1")
FASHION = tuple(
    Remote(name, f"{STORAGE}{name}", subdir="datasets/fashion-mnist")
    for name in (
        "train-labels-idx1-ubyte.gz",
        "train-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
    )
)
CIFAR = {
    "cifar10": Remote(
        "cifar-10-batches-py-target",
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
        extract=True,
    ),
    "cifar100": Remote(
        "cifar-100-python-target",
        "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
        extract=True,
    ),
}
# The folder inside each extracted CIFAR archive that holds the batches.
CIFAR_INNER = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(str(digit) for digit in range(10)),
    "fashion_mnist": (
        "t-shirt",
        "trouser",
        "pullover",
        "dress",
        "coat",
        "sandal",
        "shirt",
        "sneaker",
        "bag",
        "ankle-boot",
    ),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
    "cifar100": tuple(str(index) for index in range(100)),
}
# The globals a CIFAR batch pickle may name: numpy array reconstruction only, never arbitrary code.
PICKLE_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


def keras_cache() -> Path:
    """Keras' cache folder, by Keras' own rule: ``$KERAS_HOME``, else ``~/.keras`` (``/tmp/.keras`` if unwritable)."""
    if "KERAS_HOME" in os.environ:
        return Path(os.environ["KERAS_HOME"])
    home = Path.home()
    return (home if os.access(home, os.W_OK) else Path("/tmp")) / ".keras"


@dataclass(frozen=True)
class Parts:
    """A standard dataset as published: its training and test images (uint8 NHWC) and class-index labels."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


# The original files each dataset is published as, by name inside ``data.path``.
IDX_FILES = tuple(remote.fname for remote in FASHION)
CIFAR_TRAIN = {"cifar10": tuple(f"data_batch_{index}" for index in range(1, 6)), "cifar100": ("train",)}
CIFAR_TEST = {"cifar10": ("test_batch",), "cifar100": ("test",)}


def dataset_files(name: str, folder: Path | None) -> tuple[Path, ...]:
    """The files a standard dataset is read from: its original files in ``folder``, else Keras' download cache.

    mnist: ``mnist.npz`` (Keras' packaging) or the four IDX files; fashion_mnist: the four IDX files (as
    Debian's ``dataset-fashion-mnist`` installs them); cifar10 and cifar100: the python batches, in the
    folder or in the folder the archive extracts to.
    """
    if folder is None:
        cache = keras_cache()
        if name == "mnist":
            return (fetch(MNIST, cache),)
        if name == "fashion_mnist":
            return tuple(fetch(remote, cache) for remote in FASHION)
        return _cifar_files(fetch(CIFAR[name], cache) / CIFAR_INNER[name], name, "data.source")
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder: data.path names the folder of the {name} files", key="data.path")
    if name == "mnist" and (folder / MNIST.fname).is_file():
        return (folder / MNIST.fname,)
    if name in ("mnist", "fashion_mnist"):
        return _named_files(folder, IDX_FILES, name, "data.path")
    inner = folder / CIFAR_INNER[name]
    return _cifar_files(inner if inner.is_dir() else folder, name, "data.path")


def _named_files(folder: Path, names: tuple[str, ...], dataset: str, key: str) -> tuple[Path, ...]:
    """``names`` inside ``folder``, all of which must be there."""
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise InputError(f"{folder} has no {missing[0]}: a {dataset} folder holds {', '.join(names)}", key=key)
    return tuple(folder / name for name in names)


def _cifar_files(folder: Path, name: str, key: str) -> tuple[Path, ...]:
    return _named_files(folder, (*CIFAR_TRAIN[name], *CIFAR_TEST[name]), name, key)


def read_dataset(name: str, files: tuple[Path, ...]) -> Parts:
    """The images and labels in a standard dataset's files (as ``dataset_files`` found them)."""
    if name == "mnist" and len(files) == 1:
        (x_train, y_train), (x_test, y_test) = _mnist_npz(files[0])
    elif name in ("mnist", "fashion_mnist"):
        x_train, x_test = _idx_images(files[1]), _idx_images(files[3])
        y_train, y_test = _idx_labels(files[0]), _idx_labels(files[2])
    else:
        train = len(CIFAR_TRAIN[name])
        (x_train, y_train), (x_test, y_test) = _cifar_batches(files[:train], files[train:], name)
    if x_train.ndim == 3:
        x_train, x_test = x_train[..., np.newaxis], x_test[..., np.newaxis]
    return Parts(x_train, np.ravel(y_train).astype("int64"), x_test, np.ravel(y_test).astype("int64"))


def fetch(remote: Remote, cache: Path) -> Path:
    """The cached file (or extracted folder), downloaded by Keras first if the cache lacks it.

    The cache is passed explicitly rather than left to Keras, whose own copy of ``$KERAS_HOME``
    is fixed when Keras is first imported.
    """
    kept = remote.kept(cache)
    if kept.is_dir() if remote.extract else kept.is_file():
        return kept
    import keras

    try:
        fetched = keras.utils.get_file(
            fname=remote.fname,
            origin=remote.origin,
            file_hash=remote.file_hash,
            cache_subdir=remote.subdir,
            cache_dir=str(cache),
            extract=remote.extract,
        )
    except Exception as error:  # get_file raises a bare Exception for network failures
        reason = f"{type(error).__name__}: {error}" if remote.download_target(cache).exists() else "download failed"
        raise InputError(
            f"could not fetch {remote.origin} ({reason}); download it by hand and save it as"
            f" {remote.download_target(cache)}",
            key="data.source",
        ) from None
    return Path(fetched)


def _mnist_npz(path: Path) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """keras' mnist.npz: arrays x_train, y_train, x_test, y_test."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return (archive["x_train"], archive["y_train"]), (archive["x_test"], archive["y_test"])
    except (OSError, ValueError, KeyError) as error:
        raise InputError(
            f"{path} is not a usable mnist.npz ({error}); delete it to download again", key="data.source"
        ) from None


def _idx_labels(path: Path) -> np.ndarray:
    """A gzip'd IDX label file: an 8-byte header, then one byte per label."""
    return np.frombuffer(_gunzip(path), np.uint8, offset=8)


def _idx_images(path: Path) -> np.ndarray:
    """A gzip'd IDX image file: a 16-byte header, then 28x28 bytes per image."""
    pixels = np.frombuffer(_gunzip(path), np.uint8, offset=16)
    if pixels.size % (28 * 28):
        raise InputError(f"{path} does not hold 28x28 images; delete it to download again", key="data.source")
    return pixels.reshape(-1, 28, 28)


def _gunzip(path: Path) -> bytes:
    """The unpacked bytes of a cached ``.gz`` file; a broken file is named."""
    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as error:
        raise InputError(
            f"{path} is not a readable .gz file ({error}); delete it to download again", key="data.source"
        ) from None


def _cifar_batches(
    train: tuple[Path, ...], test: tuple[Path, ...], name: str
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The CIFAR python batches (pickled dicts), training and test."""
    label_key = "labels" if name == "cifar10" else "fine_labels"
    try:
        parts = [[_cifar_batch(path, label_key) for path in paths] for paths in (train, test)]
    except (OSError, KeyError, ValueError, EOFError, pickle.UnpicklingError) as error:
        raise InputError(
            f"{train[0].parent} does not hold readable {name} batches ({error}); delete it to download again",
            key="data.source",
        ) from None
    return tuple((np.concatenate([x for x, _ in part]), np.concatenate([y for _, y in part])) for part in parts)  # type: ignore[return-value]


def _cifar_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch: rows of 3x32x32 bytes (channels first) and their labels, as NHWC."""
    with path.open("rb") as stream:
        batch = {key.decode() if isinstance(key, bytes) else key: value for key, value in _unpickle(stream).items()}
    images = np.asarray(batch["data"], dtype="uint8").reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, np.asarray(batch[label_key], dtype="int64")


def _unpickle(stream: BinaryIO) -> dict[Any, Any]:
    """Unpickle allowing numpy arrays only, as keras.datasets does."""

    class Restricted(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if (module, name) in PICKLE_GLOBALS:
                return super().find_class(module, name)
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

    return Restricted(stream, encoding="bytes").load()
