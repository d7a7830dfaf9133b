"""Sparse categorical cross-entropy with label smoothing, which Keras offers only for one-hot targets.

The data keeps one class index per image; the loss one-hot encodes each batch itself.
"""

from __future__ import annotations

from typing import Any

import keras


@keras.saving.register_keras_serializable(package="tuner")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy of logits against class indices, each target spread by ``label_smoothing`` over all classes."""

    def __init__(self, label_smoothing: float, num_classes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.label_smoothing = label_smoothing
        self.num_classes = num_classes

    def call(self, y_true: Any, y_pred: Any) -> Any:
        indices = keras.ops.reshape(keras.ops.cast(y_true, "int32"), (-1,))
        return keras.losses.categorical_crossentropy(
            keras.ops.one_hot(indices, self.num_classes, dtype=y_pred.dtype),
            y_pred,
            from_logits=True,
            label_smoothing=self.label_smoothing,
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "label_smoothing": self.label_smoothing, "num_classes": self.num_classes}
