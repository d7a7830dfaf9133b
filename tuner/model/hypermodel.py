"""The CNN family of a spec as a keras-tuner HyperModel: build each trial's model and train it."""

from __future__ import annotations

from typing import Any

import keras
import keras_tuner
import numpy as np

from tuner.compat.tensorflow import custom_gradients_released
from tuner.model import task
from tuner.model.builder import build_model
from tuner.model.space import declare_space
from tuner.space.schema import Spec

PREFETCH_BATCHES = 2


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
