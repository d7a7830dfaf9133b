"""What a trial's model costs to deploy: multiply-accumulates per image, latency on this machine, size on disk.

Recorded once per trial beside its epochs, so the reports can set the objective against the costs (the Pareto
front) without a deep-learning framework. Latency is the median of Keras' own call of the model on one
image, and on a batch of 64 per image, after a warm-up; the timing stops within a share of the trial's
training time, so measuring never costs more than a few percent of a search.
"""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

BATCH = 64
SINGLE_CALLS = (1, 20)  # at least, at most: single-image timings (a short trial affords one)
BATCH_CALLS = (1, 5)  # the same at batch 64


def macs(model: keras.Model) -> int:
    """Multiply-accumulates per image, counted from the model's convolutions and dense layers (the rest is
    element-wise and small beside them)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kernel_height, kernel_width = layer.kernel_size
            _, height, width, channels = layer.output.shape
            total += height * width * channels * kernel_height * kernel_width * layer.input.shape[-1] // layer.groups
        elif isinstance(layer, keras.layers.Dense):
            total += math.prod(layer.input.shape[1:]) * layer.units
    return int(total)


def latency_ms(model: keras.Model, budget_seconds: float) -> tuple[float, float]:
    """Median milliseconds of one image through the model, and per image at batch 64, within about
    ``budget_seconds`` (each takes half; the fewest calls are made even when they take longer)."""
    shape = tuple(model.input_shape[1:])
    keras.ops.convert_to_numpy(model(np.zeros((1, *shape), "float32"), training=False))  # warm-up: first-call costs
    single = _median_seconds(model, np.zeros((1, *shape), "float32"), SINGLE_CALLS, budget_seconds / 2)
    batch = _median_seconds(model, np.zeros((BATCH, *shape), "float32"), BATCH_CALLS, budget_seconds / 2)
    return round(single * 1000, 4), round(batch * 1000 / BATCH, 4)


def _median_seconds(model: keras.Model, pixels: np.ndarray, calls: tuple[int, int], budget: float) -> float:
    """Median wall time of ``model(pixels)`` over between ``calls[0]`` and ``calls[1]`` calls."""
    fewest, most = calls
    timings: list[float] = []
    spent = 0.0
    while len(timings) < most and (len(timings) < fewest or spent < budget):
        started = time.perf_counter()
        keras.ops.convert_to_numpy(model(pixels, training=False))
        timings.append(time.perf_counter() - started)
        spent += timings[-1]
    return statistics.median(timings)


def model_kb(weights_file: Path) -> float:
    """The saved weights' size in KiB (keras-tuner's best-epoch checkpoint)."""
    return round(weights_file.stat().st_size / 1024, 1)


def costs(model: keras.Model, weights_file: Path | None, training_seconds: float) -> dict[str, Any]:
    """Every cost of a trained model, timed within 3% of its training time, and the seconds measuring took."""
    started = time.perf_counter()
    single, batch = latency_ms(model, 0.03 * training_seconds)
    return {
        "macs": macs(model),
        "latency_ms": single,
        "latency_batch_ms": batch,
        "model_kb": model_kb(weights_file) if weights_file is not None and weights_file.exists() else None,
        "cost_seconds": round(time.perf_counter() - started, 4),
    }
