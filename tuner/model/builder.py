"""One point of the space as a compiled Keras model.

``build_model`` is a pure mapping from hyperparameter values to a model: no I/O, no global state, so the
corners of a space can be built and tested without any search.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras

from tuner.model import task


def build_model(
    values: Mapping[str, Any],
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    pixel_scale: float = 1.0,
    mixed_precision: bool = False,
    jit_compile: bool | str = "auto",
) -> keras.Model:
    """A compiled CNN for one point of the space: conv blocks, readout, optimiser.

    The model takes pixels as stored and scales them by ``pixel_scale`` itself (1/255 for uint8 images), so
    the data stays one byte per pixel and an exported model takes raw pixels.
    ``mixed_precision`` computes in float16 (fast on GPUs with tensor cores) and keeps the readout
    and the loss in float32; ``jit_compile`` is Keras' XLA switch.
    """
    # Per-layer policies rather than Keras' global one, so building stays free of side effects.
    policy = "mixed_float16" if mixed_precision else None
    height, width, _ = input_shape
    inputs = keras.Input(shape=input_shape)
    features = inputs
    if pixel_scale != 1.0:
        features = keras.layers.Rescaling(pixel_scale, name="rescale", dtype=policy)(features)
    for index in range(values["conv_blocks"]):
        features = keras.layers.Conv2D(
            values[f"filters_{index}"],
            values["kernel_size"],
            padding="same",
            use_bias=not values["batch_norm"],
            dtype=policy,
        )(features)
        if values["batch_norm"]:
            features = keras.layers.BatchNormalization(dtype=policy)(features)
        features = keras.layers.Activation("relu", dtype=policy)(features)
        # Pool only while the map is larger than one pixel, so every depth builds.
        if values["pooling"] != "none" and min(height, width) > 1:
            pool = keras.layers.MaxPooling2D if values["pooling"] == "max" else keras.layers.AveragePooling2D
            features = pool(pool_size=2, padding="same", dtype=policy)(features)
            height, width = -(-height // 2), -(-width // 2)
    features = keras.layers.Flatten(dtype=policy)(features)
    if values["dropout"] > 0:
        features = keras.layers.Dropout(values["dropout"], dtype=policy)(features)
    if values["dense_units"] > 0:
        features = keras.layers.Dense(values["dense_units"], activation="relu", dtype=policy)(features)
    loss = task.resolve_loss(values["loss"], num_classes)
    readout = keras.layers.Dense(task.output_units(loss, num_classes), name="readout", dtype="float32")(features)
    model = keras.Model(inputs, readout)
    optimizer = make_optimizer(values)
    if mixed_precision:
        # float16 gradients underflow without loss scaling.
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(optimizer=optimizer, jit_compile=jit_compile, **task.compile_arguments(loss))
    return model


def make_optimizer(values: Mapping[str, Any]) -> keras.optimizers.Optimizer:
    """The Keras optimiser named by ``values``, with its learning rate and momentum."""
    rate = values["learning_rate"]
    name = values["optimizer"]
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=rate, momentum=values.get("momentum", 0.0))
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=rate, momentum=values.get("momentum", 0.0))
    kinds = {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW, "nadam": keras.optimizers.Nadam}
    return kinds[name](learning_rate=rate)
