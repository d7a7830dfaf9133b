"""The generated grouping task: labels that match the pictures, determinism, balance, and depth mattering."""

from __future__ import annotations

import numpy as np
import pytest

from tuner.data.shapes import generate
from tuner.errors import InputError

# The atomic elements as a reader sees them, drawn independently of the generator: 5x5 cells.
H = ".....\n.....\n.###.\n.....\n....."
V = ".....\n..#..\n..#..\n..#..\n....."
D = ".....\n.....\n..#..\n.....\n....."
# Each grouping as cells (row, column) -> drawing; cells not listed are free.
CROSS = {(0, 1): V, (1, 0): H, (1, 1): D, (1, 2): H, (2, 1): V}
CORNER = {(0, 0): V, (1, 0): D, (1, 1): H}


def pixels(drawing: str) -> np.ndarray:
    return np.array([[char == "#" for char in line] for line in drawing.splitlines()])


def grouping_visible(image: np.ndarray, grouping: dict) -> bool:
    """Pixel-level search: every cell of the grouping shows exactly its element, at any cell position."""
    on = image > 0.5
    rows, columns = on.shape[0] // 5, on.shape[1] // 5
    height = max(row for row, _ in grouping) + 1
    width = max(column for _, column in grouping) + 1
    for top in range(rows - height + 1):
        for left in range(columns - width + 1):
            if all(
                np.array_equal(on[(top + r) * 5 : (top + r + 1) * 5, (left + c) * 5 : (left + c + 1) * 5], pixels(d))
                for (r, c), d in grouping.items()
            ):
                return True
    return False


@pytest.mark.parametrize(("name", "drawing"), [("cross", CROSS), ("corner", CORNER)])
def test_labels_match_the_grouping_in_the_pixels(name, drawing):
    images, labels = generate(samples=120, image_size=(30, 25), grouping=name, noise=0.0, seed=3)
    assert images.shape == (120, 30, 25, 1) and images.dtype == np.float32
    seen = np.array([grouping_visible(image[..., 0], drawing) for image in images])
    assert np.array_equal(seen, labels == 1)


def test_noise_perturbs_pixels_but_not_labels():
    clean, clean_labels = generate(samples=40, image_size=(20, 20), grouping="corner", noise=0.0, seed=5)
    noisy, noisy_labels = generate(samples=40, image_size=(20, 20), grouping="corner", noise=0.2, seed=5)
    assert np.array_equal(clean_labels, noisy_labels)
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0
    assert 0.05 < float(np.abs(noisy - clean).mean()) < 0.3


def test_same_seed_same_data_other_seed_other_data():
    first = generate(samples=50, image_size=(20, 20), grouping="cross", noise=0.1, seed=1)
    again = generate(samples=50, image_size=(20, 20), grouping="cross", noise=0.1, seed=1)
    other = generate(samples=50, image_size=(20, 20), grouping="cross", noise=0.1, seed=2)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("samples", [2, 101, 400])
def test_classes_are_balanced_and_shuffled(samples):
    _, labels = generate(samples=samples, image_size=(15, 15), grouping="cross", noise=0.0, seed=0)
    assert set(labels) == {-1, 1}
    assert (labels == 1).sum() == samples // 2
    if samples >= 100:
        # Shuffled: the first fifth is not all one class, so data.limit keeps both.
        assert 0.25 < (labels[: samples // 5] == 1).mean() < 0.75


def test_images_too_small_for_the_grouping_are_refused():
    with pytest.raises(InputError) as caught:
        generate(samples=10, image_size=(14, 30), grouping="cross", noise=0.0, seed=0)
    assert caught.value.key == "data.image_size"
    assert caught.value.message == "grouping cross needs images of at least 15x15 pixels (cells of 5 pixels); got 14x30"


@pytest.mark.slow
def test_a_one_block_four_filter_net_is_visibly_worse_than_a_deeper_one():
    """Depth and filters matter: a 3x3 single stage cannot relate elements across cells."""
    import keras

    from tuner.data.sources import load_data
    from tuner.model.builder import build_model
    from tuner.model.task import targets
    from tuner.space.schema import DataSpec

    data = load_data(DataSpec(source="shapes", samples=1200, image_size=[30, 30], grouping="corner"), None, seed=7)
    common = {"kernel_size": 3, "pooling": "max", "batch_norm": False, "dropout": 0.0, "optimizer": "adam"}
    common.update(learning_rate=3e-3, loss="hinge", dense_units=0)
    space = {
        "small": {"conv_blocks": 1, "filters_0": 4},
        "deep": {"conv_blocks": 3, "filters_0": 16, "filters_1": 32, "filters_2": 32, "dense_units": 32},
        "two": {"conv_blocks": 2, "filters_0": 16, "filters_1": 32},
    }
    scores = {}
    for name, values in space.items():
        keras.utils.set_random_seed(1)
        model = build_model({**common, **values}, data.input_shape, data.num_classes)
        history = model.fit(
            data.train.pixels(),
            targets(data.train.labels, "hinge"),
            validation_data=(data.val.pixels(), targets(data.val.labels, "hinge")),
            batch_size=16,
            epochs=10,
            verbose=0,
        )
        scores[name] = (min(history.history["val_loss"]), max(history.history["val_accuracy"]))
    best_loss = min(loss for loss, _ in scores.values())
    best_accuracy = max(accuracy for _, accuracy in scores.values())
    small_loss, small_accuracy = scores["small"]
    assert best_accuracy >= small_accuracy + 0.15, scores
    assert best_loss <= small_loss - 0.2, scores
