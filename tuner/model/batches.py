"""A subset's images as Keras batches: in memory when small, read batch by batch from the shared file when not.

On TensorFlow they come through a tuned ``tf.data`` pipeline; on JAX and PyTorch, which have no ``tf.data``, through
a ``keras.utils.PyDataset`` of NumPy batches whose order is seeded the same way.

Training never holds a float copy of the data: batches carry the stored pixels (uint8 for images) and the
model scales them. A subset under ``IN_MEMORY_BYTES`` is copied once into the pipeline, which is what
keeps tiny tasks like digits as fast as before (a per-batch gather costs about 0.3 ms, a fifth of a
digits training step); a larger one is gathered from the memory map per batch, so every process reads the
one copy in the page cache and resident memory does not grow with the dataset.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from tuner.backend.selection import active
from tuner.data.dataset import Subset

PREFETCH_BATCHES = 2
IN_MEMORY_BYTES = 64 * 2**20


def batches(
    subset: Subset,
    targets: np.ndarray,
    batch_size: int,
    shuffle: bool,
    weights: np.ndarray | None = None,
    in_memory_bytes: int = IN_MEMORY_BYTES,
) -> Any:
    """``(images, targets[, weights])`` batches of ``subset``, for the active backend.

    ``targets`` and ``weights`` have one entry per row of the subset. When training, the order is reshuffled
    every epoch from the seed set before the model was built, so a trial trains the same way whatever ran
    before it.
    """
    columns = (targets,) if weights is None else (targets, weights.astype("float32"))
    if active() != "tensorflow":
        in_memory = subset.nbytes <= in_memory_bytes
        gather = ArrayGather((subset.pixels(), *columns)) if in_memory else RowGather(subset, columns)
        return SeededBatches(gather, len(subset), batch_size, shuffle)
    return _tf_batches(subset, columns, batch_size, shuffle, in_memory_bytes)


def _tf_batches(
    subset: Subset, columns: tuple[np.ndarray, ...], batch_size: int, shuffle: bool, in_memory_bytes: int
) -> Any:
    """The batches as a prefetched ``tf.data`` pipeline, shuffled from TensorFlow's seed.

    Its batches have an unknown leading size, so Keras traces the training step once per model.
    tf.data's autotuner is off: on a worker with one core it left that core idle a third of the time, and
    a fixed two-batch prefetch is as fast (docs/performance.md).
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    if subset.nbytes <= in_memory_bytes:
        data = tf.data.Dataset.from_tensor_slices((subset.pixels(), *columns)).with_options(options)
        if shuffle:
            data = data.shuffle(len(subset), reshuffle_each_iteration=True)
        data = data.batch(batch_size)
        return (data if shuffle else data.cache()).prefetch(PREFETCH_BATCHES)
    gather = RowGather(subset, columns)
    data = tf.data.Dataset.from_tensor_slices(np.arange(len(subset))).with_options(options)
    if shuffle:
        data = data.shuffle(len(subset), reshuffle_each_iteration=True)
    dtypes = [tf.as_dtype(subset.images.dtype), *(tf.as_dtype(column.dtype) for column in columns)]
    shapes = [(None, *subset.images.shape[1:]), *((None, *column.shape[1:]) for column in columns)]

    def read(positions: Any) -> tuple[Any, ...]:
        parts = tf.numpy_function(gather, [positions], dtypes, stateful=False)
        return tuple(tf.ensure_shape(part, shape) for part, shape in zip(parts, shapes, strict=True))

    return data.batch(batch_size).map(read).prefetch(PREFETCH_BATCHES)


class RowGather:
    """One batch read from the memory map: the rows at some positions of a subset, in file order.

    Sorting the rows of a batch turns random reads into forward ones; the order within a batch does not
    change what the batch trains. Plain NumPy, so any backend's data pipeline can call it.
    """

    def __init__(self, subset: Subset, columns: tuple[np.ndarray, ...]) -> None:
        self.subset = subset
        self.columns = columns

    def __call__(self, positions: np.ndarray) -> list[np.ndarray]:
        order = np.argsort(self.subset.rows[positions], kind="stable")
        chosen = positions[order]
        return [np.asarray(self.subset.images[self.subset.rows[chosen]]), *(column[chosen] for column in self.columns)]


class ArrayGather:
    """One batch taken from arrays in memory: the rows at some positions."""

    def __init__(self, arrays: tuple[np.ndarray, ...]) -> None:
        self.arrays = arrays

    def __call__(self, positions: np.ndarray) -> list[np.ndarray]:
        return [array[positions] for array in self.arrays]


class SeededBatches(keras.utils.PyDataset):
    """Batches as NumPy arrays for JAX and PyTorch, read in the main process (no worker threads to schedule).

    When shuffling, epoch ``e`` visits the rows in a permutation drawn from ``(seed, e)``; the seed is drawn from
    NumPy's global generator, which every trial's build seeds, so reruns and any worker train the same batches.
    """

    def __init__(
        self, gather: Callable[[np.ndarray], list[np.ndarray]], rows: int, batch_size: int, shuffle: bool
    ) -> None:
        super().__init__()
        self.gather = gather
        self.rows = rows
        self.batch_size = batch_size
        self.seed = int(np.random.randint(2**31 - 1)) if shuffle else None
        self.epoch = 0
        self.order = self._order()

    def __len__(self) -> int:
        return math.ceil(self.rows / self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        return tuple(self.gather(self.order[index * self.batch_size : (index + 1) * self.batch_size]))

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.order = self._order()

    def _order(self) -> np.ndarray:
        if self.seed is None:
            return np.arange(self.rows)
        return np.random.default_rng([self.seed, self.epoch]).permutation(self.rows)
