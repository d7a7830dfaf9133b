"""Loading and splitting images from each source, and the one-line errors for bad data."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import make_image_folder, make_npz
from tuner.data.sources import load_data
from tuner.errors import InputError
from tuner.space.schema import DataSpec


def test_digits_load_offline_as_scaled_nhwc():
    data = load_data(DataSpec(source="digits"), base_dir=None, seed=1)
    assert data.input_shape == (8, 8, 1)
    assert data.num_classes == 10
    assert len(data.train) + len(data.val) == 1797
    # Stored as scikit-learn gives them (counts 0..16, one byte each); the model scales them.
    assert data.images.dtype == np.uint8 and data.images.max() == 16 and data.pixel_scale == 1 / 16


def test_split_is_seeded_and_stratified():
    first = load_data(DataSpec(source="digits"), None, seed=3)
    again = load_data(DataSpec(source="digits"), None, seed=3)
    other = load_data(DataSpec(source="digits"), None, seed=4)
    assert np.array_equal(first.val_rows, again.val_rows)
    assert not np.array_equal(first.val_rows, other.val_rows)
    assert set(first.val.labels) == set(range(10))


def test_npz_path_is_read_relative_to_the_space_file(tmp_path):
    make_npz(tmp_path / "set.npz", samples=30, classes=3)
    data = load_data(DataSpec(source="npz", path="set.npz", validation_split=0.2), tmp_path, seed=0)
    assert data.input_shape == (8, 8, 1)
    assert data.class_names == ("0", "1", "2")
    assert len(data.val) == 6
    assert data.images.dtype == np.uint8 and data.pixel_scale == pytest.approx(1 / 255)


def test_directory_classes_come_from_sub_folders(tmp_path):
    make_image_folder(tmp_path / "images", classes=("cats", "dogs"), per_class=5)
    spec = DataSpec(source="directory", path="images", image_size=[6, 7], color_mode="rgb")
    data = load_data(spec, tmp_path, seed=0)
    assert data.class_names == ("cats", "dogs")
    assert data.input_shape == (6, 7, 3)


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda d: None, "does not exist"),
        (lambda d: (d / "data").mkdir(), "is not a file: source npz reads a .npz archive"),
        (lambda d: np.savez(d / "data", images=np.zeros((4, 8, 8))), "has no array 'x' (arrays found: images)"),
        (lambda d: np.savez(d / "data", x=np.zeros((4, 8, 8)), y=np.zeros(3)), "y must be one label per image"),
        (lambda d: np.savez(d / "data", x=np.zeros((4, 8)), y=np.zeros(4)), "x must have shape (N, H, W)"),
        (lambda d: np.savez(d / "data", x=np.zeros((4, 8, 8)), y=np.ones(4)), "a classifier needs two classes"),
        (lambda d: (d / "data").write_bytes(b"not a zip"), "is not a readable .npz archive"),
    ],
)
def test_bad_npz_names_the_problem(tmp_path, setup, expected):
    setup(tmp_path)
    target = tmp_path / "data.npz" if (tmp_path / "data.npz").exists() else tmp_path / "data"
    with pytest.raises(InputError) as caught:
        load_data(DataSpec(source="npz", path=target.name), tmp_path, seed=0)
    assert caught.value.key == "data.path"
    assert expected in caught.value.message


def test_directory_with_one_class_is_refused(tmp_path):
    make_image_folder(tmp_path / "images", classes=("only",), per_class=3)
    with pytest.raises(InputError, match=r"two classes or more \(classes with images: only\)"):
        load_data(DataSpec(source="directory", path="images"), tmp_path, seed=0)


def test_corrupt_image_is_named(tmp_path):
    root = make_image_folder(tmp_path / "images", per_class=3)
    (root / "cats" / "broken.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(InputError, match=r"broken.png is not a readable image"):
        load_data(DataSpec(source="directory", path="images"), tmp_path, seed=0)


def test_limit_keeps_the_first_samples():
    data = load_data(DataSpec(source="digits", limit=100, validation_split=0.2), None, seed=0)
    assert len(data.train) + len(data.val) == 100
    from sklearn.datasets import load_digits

    first = load_digits().images[:100].astype("uint8")
    pooled = np.concatenate([data.train.pixels(), data.val.pixels()])[..., 0]
    assert sorted(map(bytes, pooled)) == sorted(map(bytes, first))


def test_limit_drops_classes_that_no_longer_occur(tmp_path):
    np.savez(tmp_path / "set.npz", x=np.zeros((9, 4, 4)), y=np.array([3, 5, 3, 5, 3, 5, 9, 9, 9]))
    data = load_data(DataSpec(source="npz", path="set.npz", limit=6, validation_split=0.34), tmp_path, seed=0)
    assert data.class_names == ("3", "5")
    assert set(data.train.labels) | set(data.val.labels) == {0, 1}


def test_test_split_is_held_out_seeded_and_fixed_by_validation_split():
    first = load_data(DataSpec(source="digits", validation_split=0.2, test_split=0.1), None, seed=5)
    other_val = load_data(DataSpec(source="digits", validation_split=0.3, test_split=0.1), None, seed=5)
    assert len(first.test) == 180 and set(first.test.labels) == set(range(10))
    assert len(first.train) + len(first.val) + len(first.test) == 1797
    assert np.array_equal(first.test_rows, other_val.test_rows)
    assert not set(first.test_rows) & (set(first.train_rows) | set(first.val_rows))


def test_no_test_split_means_an_empty_test_set():
    data = load_data(DataSpec(source="digits"), None, seed=0)
    assert data.test.pixels().shape == (0, 8, 8, 1) and len(data.test) == 0


def test_directory_order_takes_classes_in_turn_so_limit_keeps_both(tmp_path):
    make_image_folder(tmp_path / "images", classes=("cats", "dogs"), per_class=6)
    spec = DataSpec(source="directory", path="images", image_size=[10, 12], limit=4, validation_split=0.5)
    data = load_data(spec, tmp_path, seed=0)
    assert sorted(np.concatenate([data.train.labels, data.val.labels]).tolist()) == [0, 0, 1, 1]


def test_plus_minus_one_npz_labels_map_minus_one_to_index_zero(tmp_path):
    np.savez(tmp_path / "pm.npz", x=np.zeros((10, 4, 4)), y=np.array([1, -1] * 5))
    data = load_data(DataSpec(source="npz", path="pm.npz"), tmp_path, seed=0)
    assert data.class_names == ("-1", "1")


def test_shapes_source_is_balanced_binary_and_follows_the_run_seed():
    spec = DataSpec(source="shapes", samples=100, image_size=[20, 25], noise=0.0, grouping="corner")
    data = load_data(spec, None, seed=3)
    again = load_data(spec, None, seed=3)
    assert data.class_names == ("-1", "+1") and data.input_shape == (20, 25, 1)
    assert int(np.concatenate([data.train.labels, data.val.labels]).sum()) == 50
    assert np.array_equal(data.train.pixels(), again.train.pixels())
    assert not np.array_equal(data.train.pixels(), load_data(spec, None, seed=4).train.pixels())
