"""One point of the space as a compiled Keras model.

``build_model`` is a pure mapping from hyperparameter values to a model: no I/O, no global state, so the
corners of a space can be built and tested without any search.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras

from tuner.model import task
from tuner.model.space import DEFAULTS
from tuner.space.architecture import block_filters


def build_model(
    values: Mapping[str, Any],
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    pixel_scale: float = 1.0,
    mixed_precision: bool = False,
    jit_compile: bool | str = "auto",
    augment: bool = True,
) -> keras.Model:
    """A compiled CNN for one point of the space: augmentation, conv blocks, head, readout, optimiser.

    The model takes pixels as stored and scales them by ``pixel_scale`` itself (1/255 for uint8 images), so
    the data stays one byte per pixel and an exported model takes raw pixels.
    ``mixed_precision`` computes in float16 (fast on GPUs with tensor cores) and keeps the readout
    and the loss in float32; ``jit_compile`` is Keras' XLA switch. ``augment=False`` leaves the augmentation
    out (it has no weights), as an exported model's inference path wants.
    """
    # Per-layer policies rather than Keras' global one, so building stays free of side effects.
    policy = "mixed_float16" if mixed_precision else None
    setting = {**DEFAULTS, **values}
    height, width, _ = input_shape
    inputs = keras.Input(shape=input_shape)
    features = inputs
    if pixel_scale != 1.0:
        features = keras.layers.Rescaling(pixel_scale, name="rescale", dtype=policy)(features)
    augmentation = augmentation_layers(setting)
    if augment and augmentation:
        features = keras.Sequential(augmentation, name="augmentation")(features)
    activation = setting["activation"]
    for filters in block_filters(setting):
        shortcut = features
        for conv in range(setting["convs_per_block"]):
            features = keras.layers.Conv2D(
                filters,
                setting["kernel_size"],
                padding="same",
                use_bias=not setting["batch_norm"],
                dtype=policy,
            )(features)
            if setting["batch_norm"]:
                features = keras.layers.BatchNormalization(dtype=policy)(features)
            if setting["residual"] and conv == setting["convs_per_block"] - 1:
                if shortcut.shape[-1] != filters:  # a 1x1 projection where the block changes the channels
                    shortcut = keras.layers.Conv2D(filters, 1, use_bias=not setting["batch_norm"], dtype=policy)(
                        shortcut
                    )
                    if setting["batch_norm"]:
                        shortcut = keras.layers.BatchNormalization(dtype=policy)(shortcut)
                features = keras.layers.Add(dtype=policy)([features, shortcut])
            features = keras.layers.Activation(activation, dtype=policy)(features)
        # Pool only while the map is larger than one pixel, so every depth builds.
        if setting["pooling"] != "none" and min(height, width) > 1:
            pool = keras.layers.MaxPooling2D if setting["pooling"] == "max" else keras.layers.AveragePooling2D
            features = pool(pool_size=2, padding="same", dtype=policy)(features)
            height, width = -(-height // 2), -(-width // 2)
    features = HEADS[setting["head"]](dtype=policy)(features)
    if setting["dropout"] > 0:
        features = keras.layers.Dropout(setting["dropout"], dtype=policy)(features)
    if setting["dense_units"] > 0:
        features = keras.layers.Dense(setting["dense_units"], activation=activation, dtype=policy)(features)
    loss = task.resolve_loss(setting["loss"], num_classes)
    readout = keras.layers.Dense(task.output_units(loss, num_classes), name="readout", dtype="float32")(features)
    model = keras.Model(inputs, readout)
    optimizer = make_optimizer(setting)
    if mixed_precision:
        # float16 gradients underflow without loss scaling.
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(
        optimizer=optimizer,
        jit_compile=jit_compile,
        **task.compile_arguments(loss, setting["label_smoothing"], num_classes),
    )
    return model


HEADS = {
    "flatten": keras.layers.Flatten,
    "global_avg": keras.layers.GlobalAveragePooling2D,
    "global_max": keras.layers.GlobalMaxPooling2D,
}
FLIP_MODES = {"horizontal": "horizontal", "vertical": "vertical", "both": "horizontal_and_vertical"}


def augmentation_layers(setting: Mapping[str, Any]) -> list[keras.layers.Layer]:
    """Keras' random image layers for the augmentation settings that are on; they act only while training.

    They are seeded from Keras' global seed, which each trial's build sets, so reruns stay bit-identical.
    """
    layers: list[keras.layers.Layer] = []
    if setting["flip"] != "none":
        layers.append(keras.layers.RandomFlip(FLIP_MODES[setting["flip"]]))
    if setting["rotation"] > 0:
        layers.append(keras.layers.RandomRotation(setting["rotation"], fill_mode="constant"))
    if setting["translation"] > 0:
        shift = setting["translation"]
        layers.append(keras.layers.RandomTranslation(shift, shift, fill_mode="constant"))
    if setting["zoom"] > 0:
        layers.append(keras.layers.RandomZoom(setting["zoom"], fill_mode="constant"))
    if setting["contrast"] > 0:
        layers.append(keras.layers.RandomContrast(setting["contrast"], value_range=(0, 1)))
    return layers


def make_optimizer(values: Mapping[str, Any]) -> keras.optimizers.Optimizer:
    """The Keras optimiser named by ``values``, with its learning rate, momentum and decoupled weight decay."""
    rate = values["learning_rate"]
    name = values["optimizer"]
    decay = {"weight_decay": values["weight_decay"]} if values.get("weight_decay") is not None else {}
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=rate, momentum=values.get("momentum", 0.0), **decay)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=rate, momentum=values.get("momentum", 0.0))
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate=rate, **decay)
    kinds = {"adam": keras.optimizers.Adam, "nadam": keras.optimizers.Nadam}
    return kinds[name](learning_rate=rate)
