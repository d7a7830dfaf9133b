"""The CNN family of a spec as a keras-tuner HyperModel: build each trial's model and train it."""

from __future__ import annotations

from typing import Any

import keras
import keras_tuner
import numpy as np

from tuner.backend.memory import released_after_training
from tuner.data.dataset import Subset
from tuner.model import task
from tuner.model.batches import batches
from tuner.model.builder import build_model
from tuner.model.schedule import schedule_callback
from tuner.model.space import declare_space
from tuner.space.schema import Spec


class CNNHyperModel(keras_tuner.HyperModel):
    """keras-tuner's view of the spec: it builds a model per trial and trains it with the spec's settings."""

    def __init__(
        self,
        spec: Spec,
        input_shape: tuple[int, int, int],
        class_names: tuple[str, ...],
        pixel_scale: float,
        class_weights: np.ndarray | None = None,
    ) -> None:
        super().__init__(name=spec.name)
        self.spec = spec
        self.input_shape = input_shape
        self.class_names = class_names
        self.pixel_scale = pixel_scale
        self.class_weights = class_weights

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        training = self.spec.training
        return build_model(
            declare_space(hp, self.spec),
            self.input_shape,
            self.num_classes,
            pixel_scale=self.pixel_scale,
            mixed_precision=training.mixed_precision,
            jit_compile=training.jit_compile,
        )

    def space_only(self) -> SpaceOnly:
        """This hypermodel's hyperparameters without its models, for keras-tuner to learn the space from."""
        return SpaceOnly(self.spec)

    def fit(
        self,
        hp: keras_tuner.HyperParameters,
        model: keras.Model,
        x: Subset,
        validation_data: Subset,
        callbacks: list[keras.callbacks.Callback] | None = None,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> keras.callbacks.History:
        """Train on the ``x`` rows with the trial's batch size and epochs (Hyperband passes its own epochs).

        ``batch_size`` overrides the trial's, for a retry after running out of memory.
        """
        objective = self.spec.search.objective
        extra: list[keras.callbacks.Callback] = [keras.callbacks.TerminateOnNaN()]
        if self.spec.training.early_stopping:
            extra.append(
                keras.callbacks.EarlyStopping(
                    monitor=objective.name, mode=objective.direction, patience=self.spec.training.early_stopping
                )
            )
        schedule = schedule_callback(hp.values)
        if schedule is not None:
            extra.append(schedule)
        kwargs.setdefault("epochs", hp.get("epochs"))
        with released_after_training():
            return model.fit(
                self.batches(hp, x, shuffle=True, batch_size=batch_size),
                validation_data=self.batches(hp, validation_data, shuffle=False, batch_size=batch_size),
                callbacks=[*(callbacks or []), *extra],
                shuffle=False,  # the pipeline shuffles
                **kwargs,
            )

    def batches(
        self, hp: keras_tuner.HyperParameters, rows: Subset, shuffle: bool, batch_size: int | None = None
    ) -> Any:
        """The rows as the trial's loss wants them, in its batch size (or ``batch_size``), weighted when classes are."""
        loss = task.resolve_loss(hp.get("loss"), self.num_classes)
        labels = rows.labels
        weights = None if self.class_weights is None else self.class_weights[labels]
        return batches(rows, task.targets(labels, loss), batch_size or hp.get("batch_size"), shuffle, weights)


class SpaceOnly(keras_tuner.HyperModel):
    """Declares the spec's hyperparameters and builds nothing.

    keras-tuner learns a space by building the hypermodel once per conditional branch and keeping what each build
    declared; every hyperparameter is declared by ``declare_space`` before a layer is made, so this learns the same
    space without the Keras models (0.3-0.5 s of every search's start on the digits space).
    """

    def __init__(self, spec: Spec) -> None:
        super().__init__(name=spec.name)
        self.spec = spec

    def build(self, hp: keras_tuner.HyperParameters) -> None:
        declare_space(hp, self.spec)
