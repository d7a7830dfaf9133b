"""Interim folder listing and decoding (replaced by the cache branch)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tuner.data.cache import Sink
from tuner.errors import InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class BadImageError(Exception):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path} is not a readable image ({reason})")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Listing:
    root: Path
    files: tuple[Path, ...]
    labels: np.ndarray
    class_names: tuple[str, ...]

    def counts(self) -> dict[str, int]:
        found = np.bincount(self.labels, minlength=len(self.class_names))
        return {name: int(count) for name, count in zip(self.class_names, found, strict=True)}

    def fingerprint(self, image_size: tuple[int, int], color_mode: str) -> dict[str, Any]:
        return {"kind": "directory", "root": str(self.root), "image_size": list(image_size), "color_mode": color_mode}


def list_folder(path: Path, class_names: Sequence[str] | None = None) -> Listing:
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
    files = [file for _, listed in classes for file in listed]
    labels = np.concatenate([np.full(len(listed), index) for index, (_, listed) in enumerate(classes)])
    within = np.concatenate([np.arange(len(listed)) for _, listed in classes])
    order = np.argsort(within, kind="stable")
    return Listing(
        path, tuple(files[i] for i in order), labels[order].astype("int64"), tuple(f.name for f, _ in classes)
    )


def decode_image(path: Path, image_size: tuple[int, int], color_mode: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    mode = "L" if color_mode == "grayscale" else "RGB"
    height, width = image_size
    try:
        with Image.open(path) as image:
            image.draft(mode, (width, height))
            image = image.convert(mode)
            if image.size != (width, height):
                image = image.resize((width, height), Image.Resampling.BILINEAR)
            pixels = np.asarray(image, dtype="uint8")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise BadImageError(path, str(error)) from None
    return pixels if pixels.ndim == 3 else pixels[..., np.newaxis]


def decode_folder(
    listing: Listing, image_size: tuple[int, int], color_mode: str, on_bad_image: str, sink: Sink
) -> dict[str, Any]:
    channels = 1 if color_mode == "grayscale" else 3
    images = sink.array("images", (len(listing.files), *image_size, channels), "uint8")
    labels = sink.array("labels", (len(listing.files),), "int64")
    labels[:] = listing.labels
    skipped = []
    for row, file in enumerate(listing.files):
        try:
            images[row] = decode_image(file, image_size, color_mode)
        except BadImageError as error:
            if on_bad_image == "error":
                raise InputError(str(error), key="data.path") from None
            labels[row] = -1
            skipped.append(str(file.relative_to(listing.root)))
    return {"class_names": list(listing.class_names), "skipped": skipped}


def read_one(listing: Listing, image_size: tuple[int, int], color_mode: str) -> tuple[int, int, int]:
    pixels = decode_image(listing.files[0], image_size, color_mode)
    return pixels.shape


def _image_files(folder: Path) -> list[Path]:
    return sorted(file for file in folder.iterdir() if file.is_file() and file.suffix.lower() in IMAGE_SUFFIXES)
