"""Batches from a memory-mapped subset: every row once per epoch, targets and weights aligned, seeded order,
and the same training whether the subset is copied into the pipeline or read from the file batch by batch."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from tuner.data.dataset import Subset
from tuner.model.batches import batches

STREAMED = 0  # no subset fits in zero bytes: every batch is gathered from the memory map


@pytest.fixture
def subset(tmp_path) -> Subset:
    """40 images in a read-only memory map whose pixels encode their row number; 30 of them in the subset."""
    images = np.lib.format.open_memmap(tmp_path / "images.npy", mode="w+", dtype="uint8", shape=(40, 4, 4, 1))
    images[...] = np.arange(40, dtype="uint8")[:, None, None, None]
    images.flush()
    mapped = np.load(tmp_path / "images.npy", mmap_mode="r")
    labels = (np.arange(40) % 3).astype("int64")
    rows = np.random.default_rng(0).permutation(40)[:30]
    return Subset(mapped, labels, rows)


def _epoch(data) -> list[tuple[np.ndarray, ...]]:
    """One epoch as Keras reads it: a tf.data pipeline by iterating it, a PyDataset (JAX, PyTorch) by index and then
    its end-of-epoch call."""
    if not isinstance(data, keras.utils.PyDataset):
        return [tuple(np.asarray(part) for part in batch) for batch in data]
    parts = [tuple(np.asarray(part) for part in data[index]) for index in range(len(data))]
    data.on_epoch_end()
    return parts


@pytest.mark.parametrize("in_memory_bytes", [STREAMED, 2**20])
def test_every_row_comes_once_per_epoch_with_its_target_and_weight(subset, in_memory_bytes):
    targets = subset.labels * 10
    weights = subset.labels.astype("float32") + 0.5
    data = batches(subset, targets, 8, shuffle=True, weights=weights, in_memory_bytes=in_memory_bytes)
    for _ in range(2):
        parts = _epoch(data)
        assert [len(images) for images, _, _ in parts] == [8, 8, 8, 6]
        rows = np.concatenate([images[:, 0, 0, 0] for images, _, _ in parts]).astype("int64")
        assert sorted(rows) == sorted(subset.rows)
        assert np.array_equal(np.concatenate([t for _, t, _ in parts]), subset.all_labels[rows] * 10)
        assert np.array_equal(np.concatenate([w for _, _, w in parts]), subset.all_labels[rows] + 0.5)
        assert parts[0][0].dtype == np.uint8  # one byte per pixel until the model scales it


def test_the_streamed_order_is_seeded_and_reshuffled_every_epoch(subset):
    def first_rows() -> list[list[int]]:
        keras.utils.set_random_seed(5)
        data = batches(subset, subset.labels, 8, shuffle=True, in_memory_bytes=STREAMED)
        return [sorted(np.asarray(epoch[0][0])[:, 0, 0, 0].tolist()) for epoch in (_epoch(data), _epoch(data))]

    once, again = first_rows(), first_rows()
    assert once == again and once[0] != once[1]


def test_validation_batches_keep_the_subsets_order_in_memory_and_read_forward_from_the_file(subset):
    in_memory = np.concatenate([b[0] for b in _epoch(batches(subset, subset.labels, 8, shuffle=False))])
    assert np.array_equal(in_memory[:, 0, 0, 0], subset.rows)
    streamed = _epoch(batches(subset, subset.labels, 8, shuffle=False, in_memory_bytes=STREAMED))
    for images, _ in streamed:
        assert np.all(np.diff(images[:, 0, 0, 0].astype(int)) > 0)  # rows sorted within each batch


@pytest.mark.slow
def test_training_from_the_file_is_bit_identical_between_reruns(subset):
    from tuner.model.builder import build_model

    values = {"conv_blocks": 1, "filters_0": 4, "kernel_size": 3, "pooling": "max", "batch_norm": False}
    values.update(dropout=0.0, dense_units=0, optimizer="adam", learning_rate=0.01, loss="auto")

    def losses() -> list[float]:
        keras.utils.set_random_seed(3)
        model = build_model(values, (4, 4, 1), 3, pixel_scale=1 / 255)
        data = batches(subset, subset.labels, 8, shuffle=True, in_memory_bytes=STREAMED)
        return model.fit(data, epochs=3, shuffle=False, verbose=0).history["loss"]

    assert losses() == losses()
