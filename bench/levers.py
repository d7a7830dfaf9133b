"""Each speed lever on its own, in one process: the same configurations trained with and without it.

    python bench/levers.py [--configs 6] [--epochs 5]

Levers: ``steps_per_execution`` (several training steps per call into TensorFlow), a ``tf.data`` pipeline
with cache and prefetch instead of numpy arrays, ``gc.freeze()`` before keras-tuner's per-trial
``clear_session()`` + ``gc.collect()``, and keeping the best epoch's weights in memory instead of writing a
checkpoint at every improvement. Variants are interleaved per configuration; the figures are the summed
seconds and the ratio to the baseline (below 1 pays). Parallel workers and thread pinning need processes of
their own: ``vs_keras_tuner.py --variant`` measures those.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import Figures, load_arrays, results_path, space

from tuner.backend.selection import import_quietly


def configurations(count: int, seed: int) -> list[dict[str, Any]]:
    """Random points of the digits space, like the ones a search trains."""
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        blocks = rng.randint(1, 3)
        values = {"conv_blocks": blocks, "kernel_size": 3, "pooling": "max", "batch_norm": False}
        values.update({f"filters_{index}": rng.choice([8, 16, 32, 64]) for index in range(blocks)})
        values.update(dropout=rng.choice([0.0, 0.2]), dense_units=rng.choice([0, 64]), optimizer="adam")
        values.update(learning_rate=10 ** rng.uniform(-3, -2), batch_size=rng.choice([32, 64]))
        found.append({**values, "loss": "sparse_categorical_crossentropy"})
    return found


def fit_seconds(values: dict[str, Any], data: Any, epochs: int, lever: str) -> float:
    """Seconds of ``model.fit`` of one configuration with one lever applied."""
    import keras
    import tensorflow as tf

    from tuner.model.builder import build_model

    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(1)
    model = build_model(values, data.input_shape, data.num_classes)
    if lever.startswith("steps_per_execution"):
        model.steps_per_execution = int(lever.rsplit("=", 1)[1])
    batch = values["batch_size"]
    train: Any = data.x_train
    fit: dict[str, Any] = {"y": data.y_train, "batch_size": batch, "validation_data": (data.x_val, data.y_val)}
    if lever == "tf.data":
        train = tf.data.Dataset.from_tensor_slices((data.x_train, data.y_train)).cache()
        train = train.shuffle(len(data.y_train), seed=1).batch(batch).prefetch(tf.data.AUTOTUNE)
        val = tf.data.Dataset.from_tensor_slices((data.x_val, data.y_val)).batch(batch).cache().prefetch(2)
        fit = {"validation_data": val}
    started = time.perf_counter()
    model.fit(train, epochs=epochs, verbose=0, **fit)
    return time.perf_counter() - started


def cleanup_seconds(frozen: bool, rounds: int, data: Any, values: dict[str, Any]) -> float:
    """Seconds keras-tuner spends per trial in ``clear_session()`` and ``gc.collect()``, with or without a freeze."""
    import keras

    from tuner.model.builder import build_model

    if frozen:
        gc.freeze()
    total = 0.0
    for _ in range(rounds):
        model = build_model(values, data.input_shape, data.num_classes)
        model.fit(data.x_train[:64], data.y_train[:64], epochs=1, verbose=0)
        del model
        started = time.perf_counter()
        keras.backend.clear_session()
        gc.collect()
        total += time.perf_counter() - started
    if frozen:
        gc.unfreeze()
    return total / rounds


def checkpoint_seconds(data: Any, values: dict[str, Any], rounds: int) -> tuple[float, float]:
    """Seconds per best-epoch checkpoint: keras-tuner's weights file, against a copy kept in memory."""
    from tuner.model.builder import build_model

    model = build_model(values, data.input_shape, data.num_classes)
    model.fit(data.x_train[:64], data.y_train[:64], epochs=1, verbose=0)
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        for _ in range(rounds):
            model.save_weights(str(Path(scratch) / "checkpoint.weights.h5"))
        to_file = (time.perf_counter() - started) / rounds
    started = time.perf_counter()
    for _ in range(rounds):
        kept = [variable.numpy() for variable in (*model.weights, *model.optimizer.variables)]
    in_memory = (time.perf_counter() - started) / rounds
    del kept
    return to_file, in_memory


def main() -> int:
    """Train every configuration once per lever, interleaved, then print the sums and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--results", help="results JSON (default bench/results/levers.json; '-' for none)")
    args = parser.parse_args()
    import_quietly()

    spec = space("digits")
    data = load_arrays(spec, spec.seed)
    levers = ["baseline", "steps_per_execution=4", "steps_per_execution=16", "tf.data"]
    figures = Figures("levers")
    chosen = configurations(args.configs, 1)
    fit_seconds(chosen[0], data, 1, "baseline")  # TensorFlow's one-off start
    totals = dict.fromkeys(levers, 0.0)
    for values in chosen:
        for lever in levers:
            totals[lever] += fit_seconds(values, data, args.epochs, lever)
    for lever in levers:
        ratio = totals[lever] / totals["baseline"]
        figures.show(f"fit[{lever}]", totals[lever], f"{totals[lever]:.2f} s, {ratio:.3f}x baseline")
    plain, frozen = cleanup_seconds(False, 4, data, chosen[0]), cleanup_seconds(True, 4, data, chosen[0])
    figures.show("cleanup_s", plain, f"clear_session + gc.collect {plain * 1000:.0f} ms per trial")
    figures.show("cleanup_frozen_s", frozen, f"after gc.freeze {frozen * 1000:.0f} ms per trial, {frozen / plain:.3f}x")
    to_file, in_memory = checkpoint_seconds(data, chosen[0], 10)
    figures.show("checkpoint_file_s", to_file, f"best-epoch checkpoint to file {to_file * 1000:.1f} ms")
    figures.show("checkpoint_memory_s", in_memory, f"kept in memory {in_memory * 1000:.1f} ms")
    return figures.finish(results_path("levers", args.results))


if __name__ == "__main__":
    sys.exit(main())
