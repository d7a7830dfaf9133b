"""The CNN family of a spec as a keras-tuner HyperModel: declare hyperparameters, build, fit.

``build_model`` is a pure mapping from hyperparameter values to a compiled Keras model, so the
corners of a space can be built and tested without any search.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import keras
import keras_tuner
import numpy as np

from tuner import task
from tuner.errors import InputError
from tuner.graphs import custom_gradients_released
from tuner.spec import MOMENTUM_OPTIMIZERS, Choice, Range, Spec, options

PREFETCH_BATCHES = 2

# Short hyperparameter names, as they appear in keras-tuner's records and in reports.
HP_NAMES: dict[str, str] = {
    "model.conv_blocks": "conv_blocks",
    "model.kernel_size": "kernel_size",
    "model.pooling": "pooling",
    "model.batch_norm": "batch_norm",
    "model.dropout": "dropout",
    "model.dense_units": "dense_units",
    "optimizer.name": "optimizer",
    "optimizer.learning_rate": "learning_rate",
    "training.epochs": "epochs",
    "training.batch_size": "batch_size",
    "training.loss": "loss",
}


def declare(hp: keras_tuner.HyperParameters, name: str, value: Any) -> Any:
    """Register one spec value on ``hp`` as Fixed, Choice, Int or Float and return its current value."""
    if isinstance(value, Choice):
        return hp.Choice(name, list(value.values))
    if isinstance(value, Range):
        kind = hp.Int if isinstance(value.min, int) and isinstance(value.max, int) else hp.Float
        return kind(name, value.min, value.max, step=value.step, sampling=value.sampling)
    return hp.Fixed(name, value)


def range_values(value: Any) -> list[Any]:
    """All values of a fixed, choice or integer-range key (used for conditional parents)."""
    if isinstance(value, Range):
        return list(range(value.min, value.max + 1, value.step or 1))
    return options(value)


def declare_space(hp: keras_tuner.HyperParameters, spec: Spec) -> dict[str, Any]:
    """Register the whole space on ``hp`` and return the values of the active hyperparameters.

    Per-block filters and momentum are conditional: ``filters_i`` exists only when there are more
    than ``i`` blocks, ``momentum`` only for optimisers that use it.
    """
    values = {short: declare(hp, short, _setting(spec, key)) for key, short in HP_NAMES.items()}
    blocks = values["conv_blocks"]
    depths = range_values(spec.model.conv_blocks)
    for index in range(max(depths)):
        deeper = [depth for depth in depths if depth > index]
        if len(deeper) == len(depths):
            value = declare(hp, f"filters_{index}", block_filters(spec, index))
        else:
            with hp.conditional_scope("conv_blocks", deeper):
                value = declare(hp, f"filters_{index}", block_filters(spec, index))
        if index < blocks:
            values[f"filters_{index}"] = value
    names = options(spec.optimizer.name)
    users = [name for name in names if name in MOMENTUM_OPTIMIZERS]
    if users and len(users) == len(names):
        values["momentum"] = declare(hp, "momentum", spec.optimizer.momentum)
    elif users:
        with hp.conditional_scope("optimizer", users):
            momentum = declare(hp, "momentum", spec.optimizer.momentum)
        if values["optimizer"] in users:
            values["momentum"] = momentum
    return values


def declared_space(spec: Spec) -> keras_tuner.HyperParameters:
    """The whole space registered on fresh keras-tuner hyperparameters, for looking at it without a trial."""
    space = keras_tuner.HyperParameters()
    declare_space(space, spec)
    return space


def block_filters(spec: Spec, index: int) -> Any:
    """The filters setting of block ``index``: its own entry when given per block, else the shared one."""
    filters = spec.model.filters
    return filters[index] if isinstance(filters, list) else filters


def _setting(spec: Spec, dotted: str) -> Any:
    section, key = dotted.split(".")
    return getattr(getattr(spec, section), key)


def deepest_useful(input_shape: tuple[int, int, int]) -> int:
    """How many pooled conv blocks an input holds before the map is one pixel: deeper blocks see nothing new."""
    side = min(input_shape[:2])
    return max(1, math.ceil(math.log2(side)))


def check_depth(spec: Spec, input_shape: tuple[int, int, int]) -> None:
    """Refuse a depth whose last blocks would only ever convolve a single pixel."""
    if set(options(spec.model.pooling)) == {"none"}:
        return
    deepest = max(range_values(spec.model.conv_blocks))
    limit = deepest_useful(input_shape)
    if deepest > limit:
        height, width, _ = input_shape
        raise InputError(
            f"{height}x{width} images are pooled down to one pixel by {limit} blocks, so at most {limit} conv blocks"
            f" fit (got up to {deepest}); lower the maximum or use pooling: none",
            key="model.conv_blocks",
        )


def build_model(
    values: Mapping[str, Any],
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    mixed_precision: bool = False,
    jit_compile: bool | str = "auto",
) -> keras.Model:
    """A compiled CNN for one point of the space: conv blocks, readout, optimiser.

    ``mixed_precision`` computes in float16 (fast on GPUs with tensor cores) and keeps the readout
    and the loss in float32; ``jit_compile`` is Keras' XLA switch.
    """
    # Per-layer policies rather than Keras' global one, so building stays free of side effects.
    policy = "mixed_float16" if mixed_precision else None
    height, width, _ = input_shape
    inputs = keras.Input(shape=input_shape)
    features = inputs
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


class CNNHyperModel(keras_tuner.HyperModel):
    """keras-tuner's view of the spec: it builds a model per trial and trains it with the spec's settings."""

    def __init__(self, spec: Spec, input_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__(name=spec.name)
        self.spec = spec
        self.input_shape = input_shape
        self.num_classes = num_classes

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        training = self.spec.training
        return build_model(
            declare_space(hp, self.spec),
            self.input_shape,
            self.num_classes,
            mixed_precision=training.mixed_precision,
            jit_compile=training.jit_compile,
        )

    def fit(
        self,
        hp: keras_tuner.HyperParameters,
        model: keras.Model,
        x: np.ndarray,
        y: np.ndarray,
        validation_data: tuple[np.ndarray, np.ndarray],
        callbacks: list[keras.callbacks.Callback] | None = None,
        **kwargs: Any,
    ) -> keras.callbacks.History:
        """Train with the trial's batch size and epochs (Hyperband passes its own epochs)."""
        loss = task.resolve_loss(hp.get("loss"), self.num_classes)
        x_val, y_val = validation_data
        objective = self.spec.search.objective
        extra: list[keras.callbacks.Callback] = [keras.callbacks.TerminateOnNaN()]
        if self.spec.training.early_stopping:
            extra.append(
                keras.callbacks.EarlyStopping(
                    monitor=objective.name, mode=objective.direction, patience=self.spec.training.early_stopping
                )
            )
        kwargs.setdefault("epochs", hp.get("epochs"))
        batch_size = hp.get("batch_size")
        with custom_gradients_released():
            return model.fit(
                pipeline(x, task.targets(y, loss), batch_size, shuffle=True),
                validation_data=pipeline(x_val, task.targets(y_val, loss), batch_size, shuffle=False),
                callbacks=[*(callbacks or []), *extra],
                shuffle=False,  # the pipeline shuffles
                **kwargs,
            )


def pipeline(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool) -> Any:
    """Arrays as a batched, prefetched ``tf.data`` pipeline, reshuffled every epoch when training.

    Its batches have an unknown leading size, so Keras traces the training step once per model; numpy
    arrays give a fixed batch size and a second trace for the last, smaller batch. The shuffle draws from
    the seed set before the model was built, so a trial trains the same way whatever ran before it.
    tf.data's autotuner is off: on a worker with one core it left that core idle a third of the time
    (waits between its measurements), and a fixed two-batch prefetch is as fast (docs/performance.md).
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    data = tf.data.Dataset.from_tensor_slices((x, y)).with_options(options)
    if shuffle:
        data = data.shuffle(len(y), reshuffle_each_iteration=True)
    data = data.batch(batch_size)
    if not shuffle:
        data = data.cache()
    return data.prefetch(PREFETCH_BATCHES)
