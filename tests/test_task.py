"""The readout and loss follow the labels: ±1 with one real output for binary tasks, logits otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from tuner.errors import InputError
from tuner.model.task import is_binary, output_units, settle, sign_accuracy, targets
from tuner.space.schema import Choice, DataSpec, SearchSpec, Spec, TrainingSpec


def spec_with(labels: str = "auto", loss=None) -> Spec:
    training = TrainingSpec() if loss is None else TrainingSpec(loss=loss)
    search = SearchSpec(objective={"name": "val_accuracy", "direction": "max"})
    return Spec(name="t", data=DataSpec(source="shapes", labels=labels), training=training, search=search)


@pytest.mark.parametrize(
    ("labels", "classes", "binary"),
    [("auto", 2, True), ("auto", 3, False), ("binary", 2, True), ("multiclass", 2, False), ("multiclass", 5, False)],
)
def test_auto_labels_are_binary_exactly_for_two_classes(labels, classes, binary):
    assert is_binary(labels, classes) is binary


def test_binary_labels_with_more_classes_are_refused():
    with pytest.raises(InputError) as caught:
        is_binary("binary", 10)
    assert (caught.value.key, caught.value.message) == ("data.labels", "binary needs two classes; the data has 10")


@pytest.mark.parametrize(
    ("labels", "loss", "classes", "settled"),
    [
        ("auto", "auto", 2, "binary_crossentropy"),
        ("binary", "auto", 2, "binary_crossentropy"),
        ("multiclass", "auto", 2, "sparse_categorical_crossentropy"),
        ("auto", "auto", 10, "sparse_categorical_crossentropy"),
        ("binary", "hinge", 2, "hinge"),
        ("auto", "sparse_categorical_crossentropy", 2, "sparse_categorical_crossentropy"),
    ],
)
def test_settle_makes_auto_concrete(labels, loss, classes, settled):
    assert settle(spec_with(labels, loss), classes).training.loss == settled


def test_settle_keeps_a_choice_and_drops_duplicates():
    spec = spec_with("auto", Choice[str](values=["auto", "hinge", "binary_crossentropy"]))
    settled = settle(spec, 2).training.loss
    assert isinstance(settled, Choice) and settled.values == ["binary_crossentropy", "hinge"]


@pytest.mark.parametrize(
    ("labels", "loss", "classes", "key", "message"),
    [
        ("multiclass", "hinge", 2, "training.loss", "hinge needs binary labels; data.labels is multiclass"),
        ("auto", "squared_hinge", 4, "training.loss", "squared_hinge needs two classes; the data has 4"),
        (
            "binary",
            "sparse_categorical_crossentropy",
            2,
            "training.loss",
            "sparse_categorical_crossentropy needs multiclass labels; data.labels is binary",
        ),
    ],
)
def test_settle_refuses_a_loss_that_does_not_fit_the_labels(labels, loss, classes, key, message):
    with pytest.raises(InputError) as caught:
        settle(spec_with(labels, loss), classes)
    assert (caught.value.key, caught.value.message) == (key, message)


def test_binary_targets_are_plus_minus_one_for_hinge_and_zero_one_for_cross_entropy():
    labels = np.array([0, 1, 1, 0])
    assert targets(labels, "hinge").ravel().tolist() == [-1.0, 1.0, 1.0, -1.0]
    assert targets(labels, "squared_hinge").shape == (4, 1)
    assert targets(labels, "binary_crossentropy").ravel().tolist() == [0.0, 1.0, 1.0, 0.0]
    assert targets(labels, "sparse_categorical_crossentropy") is labels
    assert output_units("hinge", 2) == 1 and output_units("sparse_categorical_crossentropy", 2) == 2


def test_accuracy_is_on_the_sign_of_the_output():
    y_pred = np.array([[0.3], [-2.0], [0.1], [-0.1]], dtype="float32")
    plus_minus = np.array([[1.0], [-1.0], [-1.0], [-1.0]], dtype="float32")
    zero_one = (plus_minus + 1) / 2
    assert np.asarray(sign_accuracy(plus_minus, y_pred)).ravel().tolist() == [1.0, 1.0, 0.0, 1.0]
    assert np.asarray(sign_accuracy(zero_one, y_pred)).ravel().tolist() == [1.0, 1.0, 0.0, 1.0]
