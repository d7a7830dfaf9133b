"""An image folder, one sub-folder per class: listed without opening an image, decoded in parallel to uint8.

``decode_image`` is the one place pixels come from, for training and for ``tuner predict`` alike, so a model
never sees an image decoded two ways. JPEGs go through simplejpeg (libjpeg-turbo, as Pillow's wheels use, and
pixel for pixel the same as Pillow at the file's own size) at 40% of Pillow's CPU time per small image, which
parses the file's markers in Python; every other format, and a JPEG that simplejpeg refuses, goes through Pillow.
Paths are kept as strings: a Path object per file cost a third of reading a cached folder back.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tuner.data.cache import Sink
from tuner.errors import InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
FORMAT = 2  # of the decoded pixels; raising it makes every cached folder decode again (2: JPEGs by simplejpeg)
CHUNK = 32  # images per thread task: enough to make the scheduling cost small, few enough to balance the threads


class BadImageError(Exception):
    """A file that PIL cannot decode; callers word it for their own command."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(path, reason)
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path} is not a readable image ({self.reason})"


@dataclass(frozen=True, eq=False)
class Listing:
    """The image files of a folder in stored order (classes taken in turn), with labels and what each file was."""

    root: Path
    names: tuple[str, ...]  # "class/file" per image, relative to root
    labels: np.ndarray
    class_names: tuple[str, ...]
    sizes: np.ndarray  # int64 bytes per file, taken as the folder was listed
    mtimes_ns: np.ndarray  # int64 modification time per file, the same

    def paths(self) -> list[str]:
        """Each image's path, in stored order."""
        root = os.fspath(self.root)
        return [os.path.join(root, name) for name in self.names]

    def counts(self) -> dict[str, int]:
        """Images per class, in class order."""
        found = np.bincount(self.labels, minlength=len(self.class_names))
        return {name: int(count) for name, count in zip(self.class_names, found, strict=True)}

    def fingerprint(self, image_size: tuple[int, int], color_mode: str) -> dict[str, Any]:
        """What decoding depends on: any file added, removed, resized or touched changes it.

        The files enter as one digest of their names, sizes and times, not as a list: the list was most of the
        time a cached folder took to read back.
        """
        files = hashlib.sha256("\0".join(self.names).encode("utf-8", "surrogateescape"))
        files.update(self.sizes.astype("<i8").tobytes())
        files.update(self.mtimes_ns.astype("<i8").tobytes())
        return {
            "kind": "folder",
            "format": FORMAT,
            "root": os.fspath(self.root.resolve()),
            "class_names": list(self.class_names),
            "file_count": len(self.names),
            "files_sha256": files.hexdigest(),
            "image_size": list(image_size),
            "color_mode": color_mode,
        }


def list_folder(path: Path, class_names: Sequence[str] | None = None) -> Listing:
    """List ``path``'s classes (sorted sub-folders, or exactly ``class_names`` in that order) and their images."""
    if not path.is_dir():
        raise InputError(f"{path} is not a folder: source directory reads one sub-folder per class", key="data.path")
    root = os.path.realpath(path)
    if class_names is None:
        with os.scandir(path) as entries:
            names = sorted(
                entry.name
                for entry in entries
                if not entry.name.startswith(".") and _stays_inside(entry, root) and entry.is_dir()
            )
        classes = [(name, files) for name in names if (files := _image_files(path / name, root)).names]
        if len(classes) < 2:
            found = ", ".join(name for name, _ in classes) or "none"
            raise InputError(
                f"{path} needs one sub-folder of images per class, two classes or more (classes with images: {found})",
                key="data.path",
            )
    else:
        classes = _named_classes(path, class_names, root)
    # Take classes in turn, so that the first ``limit`` images hold every class.
    within = np.concatenate([np.arange(len(files.names)) for _, files in classes])
    order = np.argsort(within, kind="stable")
    names = [name for _, files in classes for name in files.names]
    labels = np.concatenate(
        [np.full(len(files.names), index, dtype="int64") for index, (_, files) in enumerate(classes)]
    )
    return Listing(
        root=path,
        names=tuple(names[index] for index in order.tolist()),
        labels=labels[order],
        class_names=tuple(name for name, _ in classes),
        sizes=np.concatenate([files.sizes for _, files in classes])[order],
        mtimes_ns=np.concatenate([files.mtimes_ns for _, files in classes])[order],
    )


def decode_image(path: str | Path, image_size: tuple[int, int], color_mode: str) -> np.ndarray:
    """One file as uint8 (H, W, C): C is 1 for "grayscale", 3 for "rgb"; JPEGs scaled down while decoding."""
    from PIL import Image, UnidentifiedImageError

    mode = "L" if color_mode == "grayscale" else "RGB"
    height, width = image_size
    try:
        # One read, then the decoder parses the markers from memory: about 10% less CPU than many small reads.
        with open(path, "rb") as stream:
            data = stream.read()
        pixels = _decode_jpeg(data, image_size, mode) if data[:2] == JPEG_START else None
        if pixels is None:
            with Image.open(io.BytesIO(data)) as image:
                image.draft(mode, (width, height))  # JPEG only: decode at 1/2, 1/4 or 1/8 scale when enough
                image.load()
                # convert() to the mode an image already has is a copy: a third of the time of a small JPEG.
                converted = image if image.mode == mode else image.convert(mode)
                pixels = _resized(converted, image_size)
    except UnidentifiedImageError:  # PIL would name the in-memory buffer rather than the file
        raise BadImageError(path, f"cannot identify image file {os.fspath(path)!r}") from None
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise BadImageError(path, str(error)) from None
    return pixels.reshape(height, width, len(mode))


JPEG_START = b"\xff\xd8"  # the start-of-image marker every JPEG begins with


def _decode_jpeg(data: bytes, image_size: tuple[int, int], mode: str) -> np.ndarray | None:
    """A JPEG by simplejpeg, scaled in the DCT to the smallest of libjpeg-turbo's sizes that covers
    ``image_size``, then resized as Pillow would; None for a file it cannot take (CMYK, damaged), left to Pillow.
    """
    import simplejpeg
    from PIL import Image

    height, width = image_size
    try:
        decoded = simplejpeg.decode_jpeg(
            data, colorspace="GRAY" if mode == "L" else "RGB", min_height=height, min_width=width
        )
    except ValueError:
        return None
    if decoded.shape[:2] == (height, width):
        return decoded
    return _resized(Image.fromarray(decoded[..., 0] if mode == "L" else decoded, mode), image_size)


def _resized(image: Any, image_size: tuple[int, int]) -> np.ndarray:
    """A PIL image's pixels at ``image_size`` (bilinear when it differs), flat uint8."""
    from PIL import Image

    height, width = image_size
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    return np.frombuffer(image.tobytes(), dtype=np.uint8)


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
    count = len(listing.names)
    images = sink.array("images", (count, height, width, 1 if color_mode == "grayscale" else 3), "uint8")
    labels = sink.array("labels", (count,), "int64")
    labels[:] = listing.labels
    try:
        skipped = _decode_in_threads(listing.paths(), images, image_size, color_mode, on_bad_image, os.cpu_count() or 1)
    except BadImageError as error:
        raise InputError(str(error), key="data.path") from None
    labels[skipped] = -1
    return {
        "class_names": list(listing.class_names),
        "skipped": [listing.names[row] for row in skipped],
    }


class _RowFile:
    """The rows of a memory-mapped array, written through its file with ``pwrite``.

    Writing through the map faults in each 4 KiB page of a new file one at a time: at 128x128 RGB that took
    1.5-10x as long as writing the row. Linux keeps one page cache for both, so the map sees the rows at once.
    """

    def __init__(self, images: np.memmap) -> None:
        assert images.filename is not None
        self.handle = os.open(images.filename, os.O_WRONLY)
        self.offset = images.offset
        self.row_bytes = images[0].nbytes

    def __setitem__(self, row: int, pixels: np.ndarray) -> None:
        data = memoryview(np.ascontiguousarray(pixels, dtype=np.uint8)).cast("B")
        position = self.offset + row * self.row_bytes
        while data:  # a regular file takes it all at once; a signal could cut a write short
            written = os.pwrite(self.handle, data, position)
            data, position = data[written:], position + written

    def close(self) -> None:
        os.close(self.handle)


def _decode_rows(
    files: Sequence[str],
    images: np.ndarray | _RowFile,
    start: int,
    image_size: tuple[int, int],
    color_mode: str,
    on_bad_image: Literal["skip", "error"],
    stop: threading.Event,
) -> list[int]:
    """Decode ``files`` into ``images`` from row ``start`` on; the rows of bad images (zeroed) when skipping.

    The first bad image under "error" sets ``stop``, which every other thread checks between images.
    """
    bad = []
    for row, file in enumerate(files, start):
        if stop.is_set():
            break
        try:
            images[row] = decode_image(file, image_size, color_mode)
        except BadImageError:
            if on_bad_image == "error":
                stop.set()
                raise
            images[row] = np.zeros((*image_size, 1 if color_mode == "grayscale" else 3), dtype=np.uint8)
            bad.append(row)
    return bad


def _decode_in_threads(
    files: Sequence[str],
    images: np.ndarray,
    image_size: tuple[int, int],
    color_mode: str,
    on_bad_image: Literal["skip", "error"],
    workers: int,
) -> list[int]:
    """Decode in ``workers`` threads, chunk by chunk; the first bad image stops them when it is an error."""
    stop = threading.Event()
    skipped: list[int] = []
    rows = _RowFile(images) if isinstance(images, np.memmap) and len(images) else images
    with ThreadPoolExecutor(max_workers=workers) as pool:
        tasks = [
            pool.submit(
                _decode_rows, files[start : start + CHUNK], rows, start, image_size, color_mode, on_bad_image, stop
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
        finally:
            if isinstance(rows, _RowFile):
                pool.shutdown(wait=True)  # no thread may write once the file is closed
                rows.close()
    return skipped


def read_one(listing: Listing, image_size: tuple[int, int], color_mode: str) -> tuple[int, int, int]:
    """The (H, W, C) a model gets, from decoding the first file only: what ``tuner validate`` can afford."""
    try:
        height, width, channels = decode_image(listing.root / listing.names[0], image_size, color_mode).shape
    except BadImageError as error:
        raise InputError(str(error), key="data.path") from None
    return height, width, channels


def _stays_inside(entry: os.DirEntry[str] | Path, root: str) -> bool:
    """Whether a folder entry may be followed: a plain one, or a symbolic link to a place strictly inside ``root``.

    A link out of the data folder would train on files nobody meant to give, and a link back up to it (a loop)
    would list the folder again as a class; both are left out.
    """
    if not entry.is_symlink():
        return True
    try:
        return os.path.realpath(entry, strict=True).startswith(root + os.sep)
    except OSError:  # a loop of links, or a link to nothing
        return False


def _named_classes(path: Path, class_names: Sequence[str], root: str) -> list[tuple[str, _ClassFiles]]:
    """Exactly the sub-folders ``class_names`` lists, in its order; each must exist and hold images."""
    repeated = sorted({name for name in class_names if list(class_names).count(name) > 1})
    if repeated:
        raise InputError(f"class_names lists {repeated[0]!r} more than once", key="data.class_names")
    if len(class_names) < 2:
        raise InputError("class_names must list two classes or more", key="data.class_names")
    classes = []
    for name in class_names:
        folder = path / name
        files = _image_files(folder, root) if _stays_inside(folder, root) and folder.is_dir() else None
        if files is None or not files.names:
            raise InputError(f"{folder} holds no images, but class_names lists {name!r}", key="data.class_names")
        classes.append((name, files))
    return classes


@dataclass(frozen=True)
class _ClassFiles:
    """One class folder's images as "folder/file", sorted by name, with their sizes and modification times."""

    names: list[str]
    sizes: np.ndarray
    mtimes_ns: np.ndarray


def _image_files(folder: Path, root: str) -> _ClassFiles:
    """The image files directly inside ``folder``; a symbolic link only when it stays inside ``root``.

    Hidden files are left out, as hidden folders are: macOS leaves a "._name.jpg" beside each copied photo.
    Kept as flat lists, not a tuple per file: a tuple per file is an object the garbage collector walks, and
    its collections were half the time of listing 16,000 files in a process that had imported scikit-learn.
    """
    names: list[str] = []
    sizes: list[int] = []
    mtimes_ns: list[int] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            if (
                name.lower().endswith(IMAGE_SUFFIXES)
                and name[0] != "."
                and _stays_inside(entry, root)  # first: is_file() raises on a loop
                and entry.is_file()
            ):
                stat = entry.stat()
                names.append(name)
                sizes.append(stat.st_size)
                mtimes_ns.append(stat.st_mtime_ns)
    order = sorted(range(len(names)), key=names.__getitem__)
    prefix = f"{folder.name}/"
    return _ClassFiles(
        names=[prefix + names[index] for index in order],
        sizes=np.array(sizes, dtype="int64")[order],
        mtimes_ns=np.array(mtimes_ns, dtype="int64")[order],
    )
