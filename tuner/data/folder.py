"""An image folder, one sub-folder per class: listed without opening an image, decoded in parallel to uint8.

``decode_image`` is the one place pixels come from, for training and for ``tuner predict`` alike, so a model
never sees an image decoded two ways.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tuner.data.cache import Sink
from tuner.errors import InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
FORMAT = 1  # of the decoded pixels; raising it makes every cached folder decode again
CHUNK = 32  # images per thread task: enough to make the scheduling cost small, few enough to balance the threads
# From this many files into a cache file, worker processes decode (free of the GIL, which PIL holds for a third
# of each image); below, starting them costs more than they save. At 4,000 128x128 JPEGs in a process that has
# imported TensorFlow (as a search has), processes took 1.56x a Keras pass against 2.35x for threads.
PROCESSES_FROM = 2000
PROCESS_CHUNK = 256  # images per process task: each costs a round trip to a worker


class BadImageError(Exception):
    """A file that PIL cannot decode; callers word it for their own command."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(path, reason)
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path} is not a readable image ({self.reason})"


@dataclass(frozen=True, eq=False)
class Listing:
    """The image files of a folder in stored order (classes taken in turn), with labels and what each file was."""

    root: Path
    files: tuple[Path, ...]
    labels: np.ndarray
    class_names: tuple[str, ...]
    stats: tuple[tuple[int, int], ...]  # (size, mtime_ns) per file, taken as the folder was listed

    def counts(self) -> dict[str, int]:
        """Images per class, in class order."""
        found = np.bincount(self.labels, minlength=len(self.class_names))
        return {name: int(count) for name, count in zip(self.class_names, found, strict=True)}

    def fingerprint(self, image_size: tuple[int, int], color_mode: str) -> dict[str, Any]:
        """What decoding depends on: any file added, removed, resized or touched changes it."""
        return {
            "kind": "folder",
            "format": FORMAT,
            "root": os.fspath(self.root.resolve()),
            "class_names": list(self.class_names),
            "files": [
                [_relative(file), size, mtime_ns] for file, (size, mtime_ns) in zip(self.files, self.stats, strict=True)
            ],
            "image_size": list(image_size),
            "color_mode": color_mode,
        }


def list_folder(path: Path, class_names: Sequence[str] | None = None) -> Listing:
    """List ``path``'s classes (sorted sub-folders, or exactly ``class_names`` in that order) and their images."""
    if not path.is_dir():
        raise InputError(f"{path} is not a folder: source directory reads one sub-folder per class", key="data.path")
    if class_names is None:
        with os.scandir(path) as entries:
            names = sorted(entry.name for entry in entries if entry.is_dir() and not entry.name.startswith("."))
        classes = [(name, files) for name in names if (files := _image_files(path / name))]
        if len(classes) < 2:
            found = ", ".join(name for name, _ in classes) or "none"
            raise InputError(
                f"{path} needs one sub-folder of images per class, two classes or more (classes with images: {found})",
                key="data.path",
            )
    else:
        classes = _named_classes(path, class_names)
    # Take classes in turn, so that the first ``limit`` images hold every class.
    within = np.concatenate([np.arange(len(files)) for _, files in classes])
    order = np.argsort(within, kind="stable")
    everything = [item for _, files in classes for item in files]
    labels = np.concatenate([np.full(len(files), index, dtype="int64") for index, (_, files) in enumerate(classes)])
    return Listing(
        root=path,
        files=tuple(everything[index][0] for index in order),
        labels=labels[order],
        class_names=tuple(name for name, _ in classes),
        stats=tuple(everything[index][1] for index in order),
    )


def decode_image(path: Path, image_size: tuple[int, int], color_mode: str) -> np.ndarray:
    """One file as uint8 (H, W, C): C is 1 for "grayscale", 3 for "rgb"; JPEGs scaled down while decoding."""
    from PIL import Image, UnidentifiedImageError

    mode = "L" if color_mode == "grayscale" else "RGB"
    height, width = image_size
    try:
        # One read, then PIL parses the markers from memory: about 10% less CPU than many small file reads.
        with open(path, "rb") as stream:
            data = stream.read()
        with Image.open(io.BytesIO(data)) as image:
            image.draft(mode, (width, height))  # JPEG only: decode at 1/2, 1/4 or 1/8 scale when that is enough
            image.load()
            # convert() to the mode an image already has is a copy: a third of the time of a small JPEG.
            converted = image if image.mode == mode else image.convert(mode)
            if converted.size != (width, height):
                converted = converted.resize((width, height), Image.Resampling.BILINEAR)
            pixels = np.frombuffer(converted.tobytes(), dtype=np.uint8)
    except UnidentifiedImageError:  # PIL would name the in-memory buffer rather than the file
        raise BadImageError(path, f"cannot identify image file {os.fspath(path)!r}") from None
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise BadImageError(path, str(error)) from None
    return pixels.reshape(height, width, len(mode))


def decode_folder(
    listing: Listing,
    image_size: tuple[int, int],
    color_mode: str,
    on_bad_image: Literal["skip", "error"],
    sink: Sink,
) -> dict[str, Any]:
    """Fill ``images`` and ``labels`` through ``sink`` in the listing's order; a builder for ``load_or_build``.

    A bad image raises an InputError ("error") or gets label -1 and a place in meta["skipped"] ("skip").
    """
    height, width = image_size
    count = len(listing.files)
    images = sink.array("images", (count, height, width, 1 if color_mode == "grayscale" else 3), "uint8")
    labels = sink.array("labels", (count,), "int64")
    labels[:] = listing.labels
    workers = os.cpu_count() or 1
    try:
        forkable = "fork" in multiprocessing.get_all_start_methods()
        if isinstance(images, np.memmap) and count >= PROCESSES_FROM and workers > 1 and forkable:
            skipped = _decode_in_processes(listing.files, images, image_size, color_mode, on_bad_image, workers - 1)
        else:
            skipped = _decode_in_threads(listing.files, images, image_size, color_mode, on_bad_image, workers)
    except BadImageError as error:
        raise InputError(str(error), key="data.path") from None
    labels[skipped] = -1
    return {
        "class_names": list(listing.class_names),
        "skipped": [_relative(listing.files[row]) for row in skipped],
    }


def _decode_rows(
    files: Sequence[Path],
    images: np.ndarray,
    start: int,
    image_size: tuple[int, int],
    color_mode: str,
    on_bad_image: Literal["skip", "error"],
    stop: threading.Event | None = None,
) -> list[int]:
    """Decode ``files`` into ``images`` from row ``start`` on; the rows of bad images (zeroed) when skipping."""
    bad = []
    for row, file in enumerate(files, start):
        if stop is not None and stop.is_set():
            break
        try:
            images[row] = decode_image(file, image_size, color_mode)
        except BadImageError:
            if on_bad_image == "error":
                if stop is not None:
                    stop.set()
                raise
            images[row] = 0
            bad.append(row)
    return bad


def _decode_mapped_rows(
    filename: str,
    offset: int,
    shape: tuple[int, ...],
    files: Sequence[Path],
    start: int,
    image_size: tuple[int, int],
    color_mode: str,
    on_bad_image: Literal["skip", "error"],
) -> list[int]:
    """In a worker process: map the builder's file and decode into its rows."""
    images = np.memmap(filename, dtype="uint8", mode="r+", offset=offset, shape=shape)
    return _decode_rows(files, images, start, image_size, color_mode, on_bad_image)


def _decode_in_threads(
    files: Sequence[Path],
    images: np.ndarray,
    image_size: tuple[int, int],
    color_mode: str,
    on_bad_image: Literal["skip", "error"],
    workers: int,
) -> list[int]:
    """Decode in ``workers`` threads, chunk by chunk; the first bad image stops them when it is an error."""
    stop = threading.Event()
    skipped: list[int] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        tasks = [
            pool.submit(
                _decode_rows, files[start : start + CHUNK], images, start, image_size, color_mode, on_bad_image, stop
            )
            for start in range(0, len(files), CHUNK)
        ]
        try:
            for task in tasks:
                skipped.extend(task.result())
        except BadImageError:
            for task in tasks:
                task.cancel()
            raise
    return skipped


def _decode_in_processes(
    files: Sequence[Path],
    images: np.memmap,
    image_size: tuple[int, int],
    color_mode: str,
    on_bad_image: Literal["skip", "error"],
    workers: int,
) -> list[int]:
    """Decode in ``workers`` processes and this one, each writing its rows of the shared file.

    Workers take chunks from the front; this process takes from the back those no worker has started.
    They are forked, as Keras' own multiprocessing data workers are: a forked worker starts in milliseconds
    and only runs PIL and NumPy before it exits, never TensorFlow, whose threads it does not inherit.
    forkserver and spawn would import the caller's main script again in every worker, which breaks a user's
    script without an ``if __name__ == "__main__":`` guard.
    """
    context = multiprocessing.get_context("fork")
    assert images.filename is not None
    starts = range(0, len(files), PROCESS_CHUNK)
    skipped: list[int] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        tasks: list[Future[list[int]]] = [
            pool.submit(
                _decode_mapped_rows,
                images.filename,
                images.offset,
                images.shape,
                files[start : start + PROCESS_CHUNK],
                start,
                image_size,
                color_mode,
                on_bad_image,
            )
            for start in starts
        ]
        try:
            for task, start in zip(reversed(tasks), reversed(starts), strict=True):
                if task.cancel():
                    chunk = files[start : start + PROCESS_CHUNK]
                    skipped.extend(_decode_rows(chunk, images, start, image_size, color_mode, on_bad_image))
            for task in tasks:
                if not task.cancelled():
                    skipped.extend(task.result())
        except BadImageError:
            for task in tasks:
                task.cancel()
            raise
    return sorted(skipped)


def read_one(listing: Listing, image_size: tuple[int, int], color_mode: str) -> tuple[int, int, int]:
    """The (H, W, C) a model gets, from decoding the first file only: what ``tuner validate`` can afford."""
    try:
        height, width, channels = decode_image(listing.files[0], image_size, color_mode).shape
    except BadImageError as error:
        raise InputError(str(error), key="data.path") from None
    return height, width, channels


def _named_classes(path: Path, class_names: Sequence[str]) -> list[tuple[str, list[tuple[Path, tuple[int, int]]]]]:
    """Exactly the sub-folders ``class_names`` lists, in its order; each must exist and hold images."""
    repeated = sorted({name for name in class_names if list(class_names).count(name) > 1})
    if repeated:
        raise InputError(f"class_names lists {repeated[0]!r} more than once", key="data.class_names")
    if len(class_names) < 2:
        raise InputError("class_names must list two classes or more", key="data.class_names")
    classes = []
    for name in class_names:
        folder = path / name
        files = _image_files(folder) if folder.is_dir() else []
        if not files:
            raise InputError(f"{folder} holds no images, but class_names lists {name!r}", key="data.class_names")
        classes.append((name, files))
    return classes


def _image_files(folder: Path) -> list[tuple[Path, tuple[int, int]]]:
    """Image files directly inside ``folder``, sorted by name, each with its (size, mtime_ns)."""
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_file() and os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES:
                stat = entry.stat()
                found.append((entry.name, (stat.st_size, stat.st_mtime_ns)))
    found.sort()
    return [(folder / name, stats) for name, stats in found]


def _relative(file: Path) -> str:
    """``class/name`` of a listed file: what ``relative_to(root)`` gives, at a fraction of its cost."""
    return f"{file.parent.name}/{file.name}"
