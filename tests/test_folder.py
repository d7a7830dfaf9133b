"""tuner/data/folder.py: an image folder listed in stored order and decoded to uint8, pixel for pixel as PIL does."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import write_classes, write_image
from tuner.data import folder
from tuner.data.cache import load_or_build
from tuner.data.folder import BadImageError, decode_folder, decode_image, list_folder, read_one
from tuner.errors import InputError


def decoded(listing, image_size=(7, 9), color_mode="rgb", on_bad_image="error"):
    """The folder decoded in memory."""
    return load_or_build(
        {},
        lambda sink: decode_folder(listing, image_size, color_mode, on_bad_image, sink),
        enabled=False,
        warn=print,
    )


@pytest.mark.parametrize("color_mode", ["rgb", "grayscale"])
@pytest.mark.parametrize("source_mode", ["RGB", "L"])
@pytest.mark.parametrize("image_size", [(23, 37), (16, 20)])
def test_png_pixels_equal_a_direct_pil_decode(tmp_path, color_mode, source_mode, image_size):
    path = write_image(tmp_path / "a.png", mode=source_mode)
    mode = "L" if color_mode == "grayscale" else "RGB"
    with Image.open(path) as image:
        expected = image.convert(mode)
        if expected.size != (image_size[1], image_size[0]):
            expected = expected.resize((image_size[1], image_size[0]), Image.Resampling.BILINEAR)
    pixels = decode_image(path, image_size, color_mode)
    assert pixels.dtype == np.uint8
    assert pixels.shape == (*image_size, len(mode))
    np.testing.assert_array_equal(pixels, np.asarray(expected).reshape(pixels.shape))


def test_jpeg_at_its_own_size_equals_a_direct_pil_decode(tmp_path):
    path = write_image(tmp_path / "a.jpg")
    with Image.open(path) as image:
        expected = np.asarray(image.convert("RGB"))
    np.testing.assert_array_equal(decode_image(path, (23, 37), "rgb"), expected)


@pytest.mark.parametrize("color_mode", ["rgb", "grayscale"])
@pytest.mark.parametrize("source_mode", ["RGB", "L"])
def test_jpeg_through_simplejpeg_equals_pil_at_the_own_size(tmp_path, color_mode, source_mode):
    """Equal where no colour is converted; a colour JPEG read as grayscale is its luma plane, as Keras reads it,
    where PIL converts its upsampled RGB back: close, not equal, on a noise image."""
    path = write_image(tmp_path / "a.jpg", mode=source_mode)
    mode = "L" if color_mode == "grayscale" else "RGB"
    with Image.open(path) as image:
        expected = np.asarray(image.convert(mode)).reshape(23, 37, len(mode)).astype(int)
    pixels = decode_image(path, (23, 37), color_mode).astype(int)
    if (source_mode, mode) == ("RGB", "L"):
        assert 0 < np.abs(pixels - expected).mean() < 3
    else:
        np.testing.assert_array_equal(pixels, expected)


def test_a_cmyk_jpeg_is_read_as_rgb_within_one_level_of_pil(tmp_path):
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (37, 23), (10, 20, 30, 40)).save(path)
    with Image.open(path) as image:
        expected = np.asarray(image.convert("RGB")).astype(int)
    assert np.abs(decode_image(path, (23, 37), "rgb") - expected).max() <= 1


@pytest.mark.parametrize("color_mode", ["rgb", "grayscale"])
def test_jpeg_scaled_down_while_decoding_matches_pil_draft_and_stays_close_to_a_full_decode(tmp_path, color_mode):
    path = tmp_path / "big.jpg"
    Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (200, 1)), "L").convert("RGB").save(path, quality=95)
    mode = "L" if color_mode == "grayscale" else "RGB"
    with Image.open(path) as image:
        image.draft(mode, (64, 50))
        drafted = np.asarray(image.convert(mode).resize((64, 50), Image.Resampling.BILINEAR))
    with Image.open(path) as image:
        full = np.asarray(image.convert(mode).resize((64, 50), Image.Resampling.BILINEAR))
    pixels = decode_image(path, (50, 64), color_mode)
    np.testing.assert_array_equal(pixels, drafted.reshape(pixels.shape))
    assert np.abs(pixels.astype(int) - full.reshape(pixels.shape)).mean() < 3


def test_classes_are_taken_in_turn_so_the_first_images_hold_every_class(tmp_path):
    listing = list_folder(write_classes(tmp_path / "data", {"ant": 3, "bee": 1, "cat": 2}))
    assert listing.class_names == ("ant", "bee", "cat")
    assert listing.names == (
        "ant/000.png",
        "bee/000.png",
        "cat/000.png",
        "ant/001.png",
        "cat/001.png",
        "ant/002.png",
    )
    assert listing.paths()[1] == os.path.join(listing.root, "bee", "000.png")
    assert listing.labels.tolist() == [0, 1, 2, 0, 2, 0]
    assert listing.labels.dtype == np.int64
    assert listing.counts() == {"ant": 3, "bee": 1, "cat": 2}


def test_decoded_rows_follow_the_listing(tmp_path):
    listing = list_folder(write_classes(tmp_path / "data", {"ant": 3, "bee": 2}))
    stored = decoded(listing)
    assert stored.arrays["images"].shape == (5, 7, 9, 3)
    np.testing.assert_array_equal(stored.arrays["labels"], listing.labels)
    for row, file in enumerate(listing.paths()):
        np.testing.assert_array_equal(stored.arrays["images"][row], decode_image(file, (7, 9), "rgb"))
    assert stored.meta == {"class_names": ["ant", "bee"], "skipped": []}


def test_more_images_than_a_chunk_are_all_decoded_in_order(tmp_path):
    listing = list_folder(write_classes(tmp_path / "data", {"ant": 40, "bee": 35}))
    images = decoded(listing, color_mode="grayscale").arrays["images"]
    assert images.shape == (75, 7, 9, 1)
    for row in (0, 31, 32, 33, 74):
        np.testing.assert_array_equal(images[row], decode_image(listing.paths()[row], (7, 9), "grayscale"))


def test_hidden_folders_other_files_and_empty_classes_are_ignored(tmp_path):
    root = write_classes(tmp_path / "data", {"ant": 2, "bee": 2, ".git": 3})
    (root / "ant" / "notes.txt").write_text("not an image")
    (root / "ant" / "._000.png").write_bytes(b"macOS metadata, not an image")
    (root / "empty").mkdir()
    (root / "README.md").write_text("about")
    listing = list_folder(root)
    assert listing.class_names == ("ant", "bee")
    assert len(listing.names) == 4


def test_a_file_is_not_a_folder(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("x")
    with pytest.raises(InputError) as raised:
        list_folder(path)
    assert raised.value.key == "data.path"
    assert str(raised.value) == f"data.path: {path} is not a folder: source directory reads one sub-folder per class"


def test_one_class_with_images_is_not_enough(tmp_path):
    root = write_classes(tmp_path / "data", {"ant": 2})
    (root / "bee").mkdir()
    with pytest.raises(InputError, match=r"two classes or more \(classes with images: ant\)") as raised:
        list_folder(root)
    assert raised.value.key == "data.path"


def test_class_names_select_and_order_the_classes(tmp_path):
    root = write_classes(tmp_path / "data", {"ant": 2, "bee": 1, "cat": 3})
    listing = list_folder(root, class_names=["cat", "ant"])
    assert listing.class_names == ("cat", "ant")
    assert listing.names == ("cat/000.png", "ant/000.png", "cat/001.png", "ant/001.png", "cat/002.png")
    assert listing.labels.tolist() == [0, 1, 0, 1, 0]


@pytest.mark.parametrize(
    ("class_names", "message"),
    [
        (["ant", "dog"], "holds no images, but class_names lists 'dog'"),
        (["ant", "empty"], "holds no images, but class_names lists 'empty'"),
        (["ant", "ant"], "class_names lists 'ant' more than once"),
        (["ant"], "class_names must list two classes or more"),
    ],
)
def test_a_bad_class_names_entry_names_the_key(tmp_path, class_names, message):
    root = write_classes(tmp_path / "data", {"ant": 2, "bee": 1})
    (root / "empty").mkdir()
    with pytest.raises(InputError, match=message) as raised:
        list_folder(root, class_names=class_names)
    assert raised.value.key == "data.class_names"


def corrupt_folder(tmp_path: Path) -> tuple[Path, Path]:
    """A two-class folder whose second ant image is not an image."""
    root = write_classes(tmp_path / "data", {"ant": 3, "bee": 2})
    bad = root / "ant" / "001.png"
    bad.write_bytes(b"this is not a png")
    return root, bad


def test_a_corrupt_file_stops_the_decode_with_an_error_naming_it(tmp_path):
    root, bad = corrupt_folder(tmp_path)
    with pytest.raises(InputError) as raised:
        decoded(list_folder(root))
    assert raised.value.key == "data.path"
    assert raised.value.message.startswith(f"{bad} is not a readable image (")


def test_a_corrupt_file_is_skipped_with_label_minus_one_and_listed(tmp_path):
    root, bad = corrupt_folder(tmp_path)
    listing = list_folder(root)
    stored = decoded(listing, on_bad_image="skip")
    row = listing.names.index(bad.relative_to(root).as_posix())
    assert stored.arrays["labels"][row] == -1
    assert (stored.arrays["labels"] >= 0).sum() == 4
    assert stored.meta["skipped"] == ["ant/001.png"]


def test_decode_image_raises_bad_image_error(tmp_path):
    path = tmp_path / "cut.jpg"
    path.write_bytes(write_image(tmp_path / "whole.jpg").read_bytes()[:200])
    with pytest.raises(BadImageError) as raised:
        decode_image(path, (23, 37), "rgb")
    assert raised.value.path == path
    # simplejpeg refuses it, and Pillow, which reads what simplejpeg refuses, gives the reason
    assert str(raised.value) == f"{path} is not a readable image (Truncated File Read)"


def test_read_one_gives_the_model_input_without_decoding_the_rest(tmp_path):
    root, _ = corrupt_folder(tmp_path)
    listing = list_folder(root)
    assert read_one(listing, (5, 6), "rgb") == (5, 6, 3)
    assert read_one(listing, (5, 6), "grayscale") == (5, 6, 1)


def test_the_fingerprint_changes_when_a_file_is_touched_or_resized(tmp_path):
    root = write_classes(tmp_path / "data", {"ant": 2, "bee": 2})
    first = list_folder(root).fingerprint((7, 9), "rgb")
    assert list_folder(root).fingerprint((7, 9), "rgb") == first
    assert list_folder(root).fingerprint((7, 8), "rgb") != first
    assert list_folder(root).fingerprint((7, 9), "grayscale") != first
    file = root / "ant" / "000.png"
    stat = file.stat()
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    touched = list_folder(root).fingerprint((7, 9), "rgb")
    assert touched != first
    with file.open("ab") as stream:
        stream.write(b"\0")
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert list_folder(root).fingerprint((7, 9), "rgb") != touched


@pytest.mark.parametrize("image_size", [(23, 37), (12, 20)], ids=["own size", "resized"])
def test_a_cached_folder_holds_exactly_what_decode_image_gives(tmp_path, monkeypatch, image_size):
    monkeypatch.setenv("TUNER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(folder, "CHUNK", 3)  # rows written by several threads
    root = tmp_path / "data"
    for index in range(8):
        write_image(root / "ant" / f"{index}.png", seed=index)
        write_image(root / "bee" / f"{index}.jpg", seed=index + 8)
    listing = list_folder(root)
    stored = load_or_build(
        listing.fingerprint(image_size, "rgb"),
        lambda sink: decode_folder(listing, image_size, "rgb", "error", sink),
        warn=pytest.fail,
    )
    assert isinstance(stored.arrays["images"], np.memmap)
    expected = np.stack([decode_image(file, image_size, "rgb") for file in listing.paths()])
    np.testing.assert_array_equal(stored.arrays["images"], expected)
