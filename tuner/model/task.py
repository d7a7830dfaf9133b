"""What the readout predicts and how it is scored: multi-class logits, or one real value for ±1 labels.

For two-class data the model has one real-valued output ℓ, as in the design notes: its sign is the
predicted label, hinge losses train on ±1 targets, and binary cross-entropy reads ℓ as a logit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tuner.data.dataset import Dataset
from tuner.errors import InputError
from tuner.space.schema import BINARY_LOSSES, Choice, DataSpec, Spec, options

MULTICLASS_LOSS = "sparse_categorical_crossentropy"
BINARY_DEFAULT_LOSS = "binary_crossentropy"


def resolve_loss(loss: str, num_classes: int) -> str:
    """The concrete loss for a configured one: ``auto`` picks by the number of classes."""
    if loss == "auto":
        return BINARY_DEFAULT_LOSS if num_classes == 2 else MULTICLASS_LOSS
    return loss


def check_losses(loss_setting: Any, num_classes: int) -> None:
    """Refuse binary losses on data with more than two classes, before any training."""
    for loss in options(loss_setting):
        if loss in BINARY_LOSSES and num_classes != 2:
            raise InputError(f"{loss} needs two classes; the data has {num_classes}", key="training.loss")


def is_binary(labels: str, num_classes: int) -> bool:
    """Whether the task has ±1 labels and one real output: ``auto`` means exactly when there are two classes."""
    if labels == "binary" and num_classes != 2:
        raise InputError(f"binary needs two classes; the data has {num_classes}", key="data.labels")
    return num_classes == 2 and labels != "multiclass"


def settle(spec: Spec, num_classes: int) -> Spec:
    """The spec with ``training.loss: auto`` made concrete for the loaded data, after checking the loss fits it.

    Deciding here, once, means the search, its records and its resumes all see the same loss.
    """
    binary = is_binary(spec.data.labels, num_classes)
    check_losses(spec.training.loss, num_classes)
    concrete = []
    for loss in options(spec.training.loss):
        if loss == "auto":
            loss = BINARY_DEFAULT_LOSS if binary else MULTICLASS_LOSS
        elif binary and loss == MULTICLASS_LOSS and spec.data.labels == "binary":
            raise InputError(f"{loss} needs multiclass labels; data.labels is binary", key="training.loss")
        elif not binary and loss in BINARY_LOSSES:
            raise InputError(f"{loss} needs binary labels; data.labels is {spec.data.labels}", key="training.loss")
        if loss not in concrete:
            concrete.append(loss)
    loss_setting = spec.training.loss
    setting = loss_setting.model_copy(update={"values": concrete}) if isinstance(loss_setting, Choice) else concrete[0]
    return spec.model_copy(update={"training": spec.training.model_copy(update={"loss": setting})})


def output_units(loss: str, num_classes: int) -> int:
    """Width of the readout layer: one real value for binary losses, one logit per class otherwise."""
    return 1 if loss in BINARY_LOSSES else num_classes


def targets(labels: np.ndarray, loss: str) -> np.ndarray:
    """Class indices as the loss wants them: ±1 for hinge losses, 0/1 for cross-entropy, indices otherwise."""
    if loss in ("hinge", "squared_hinge"):
        return (2.0 * labels - 1.0).astype("float32").reshape(-1, 1)
    if loss == BINARY_DEFAULT_LOSS:
        return labels.astype("float32").reshape(-1, 1)
    return labels


def predicted_classes(outputs: np.ndarray) -> np.ndarray:
    """Class indices from the readout: the sign of ℓ for one real output (+1 is index 1), else the top logit."""
    if outputs.shape[-1] == 1:
        return (outputs[:, 0] > 0).astype("int64")
    return np.argmax(outputs, axis=-1).astype("int64")


def class_weights(spec: DataSpec, data: Dataset) -> np.ndarray | None:
    """Per-class loss weights for ``data.class_weight: balanced`` (scikit-learn's rule, on the training rows).

    A class with no training rows gets weight 0: it cannot be learnt, and its validation rows then do not
    steer the ranking either.
    """
    if spec.class_weight == "none":
        return None
    from sklearn.utils.class_weight import compute_class_weight

    labels = data.train.labels
    present = np.unique(labels)
    weights = np.zeros(data.num_classes, dtype="float32")
    weights[present] = compute_class_weight("balanced", classes=present, y=labels)
    return weights


def compile_arguments(loss: str, label_smoothing: float = 0.0, num_classes: int = 2) -> dict[str, Any]:
    """``loss`` and ``metrics`` for ``model.compile``, passed by keyword (Keras 3 reorders positionals)."""
    import keras

    if loss == MULTICLASS_LOSS and label_smoothing:
        from tuner.model.losses import SmoothedSparseCrossentropy

        return {"loss": SmoothedSparseCrossentropy(label_smoothing, num_classes), "metrics": ["accuracy"]}
    if loss == MULTICLASS_LOSS:
        return {"loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True), "metrics": ["accuracy"]}
    losses = {
        "binary_crossentropy": keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=label_smoothing),
        "hinge": keras.losses.Hinge(),
        "squared_hinge": keras.losses.SquaredHinge(),
    }
    return {"loss": losses[loss], "metrics": [keras.metrics.MeanMetricWrapper(sign_accuracy, name="accuracy")]}


def sign_accuracy(y_true: Any, y_pred: Any) -> Any:
    """Share of samples whose output sign matches the label (labels ±1 or 0/1)."""
    import keras

    ops = keras.ops
    y_true = ops.reshape(y_true, ops.shape(y_pred))
    return ops.cast(ops.equal(y_true > 0, y_pred > 0), "float32")
