"""Spec values become keras-tuner hyperparameters, and every corner of a space builds a valid model."""

from __future__ import annotations

import keras_tuner
import numpy as np
import pytest

from tests.helpers import write_tiny_space
from tuner.backend.selection import active
from tuner.compat.keras_tuner import TunerHooks
from tuner.data.dataset import Subset
from tuner.engine.listener import SilentListener
from tuner.engine.search import load_task, make_tuner
from tuner.model.builder import build_model
from tuner.model.hypermodel import CNNHyperModel, SpaceOnly
from tuner.model.space import declare_space
from tuner.space.loading import load_spec
from tuner.space.schema import Spec

BASE = {
    "conv_blocks": 1,
    "filters_0": 4,
    "kernel_size": 3,
    "pooling": "max",
    "batch_norm": False,
    "dropout": 0.0,
    "dense_units": 0,
    "optimizer": "adam",
    "learning_rate": 1e-3,
    "loss": "auto",
}


def space(space_file, body: str):
    spec, _ = load_spec(space_file("data: {source: digits}\n" + body))
    hp = keras_tuner.HyperParameters()
    values = declare_space(hp, spec)
    return {item.name: item for item in hp.space}, values


def test_each_value_form_maps_to_its_keras_tuner_type(space_file):
    kinds, _ = space(
        space_file,
        """
model:
  kernel_size: 3
  filters: {values: [8, 16]}
  conv_blocks: {min: 1, max: 3}
  dropout: {min: 0.0, max: 0.5, step: 0.1}
  dense_units: {min: 16, max: 64, step: 16}
optimizer:
  learning_rate: {min: 1.0e-4, max: 1.0e-1, sampling: log}
""",
    )
    assert type(kinds["kernel_size"]).__name__ == "Fixed"
    assert type(kinds["filters_0"]).__name__ == "Choice"
    assert type(kinds["conv_blocks"]).__name__ == "Int"
    assert type(kinds["dense_units"]).__name__ == "Int" and kinds["dense_units"].step == 16
    assert type(kinds["dropout"]).__name__ == "Float" and kinds["dropout"].step == 0.1
    assert kinds["learning_rate"].sampling == "log"


def test_per_block_filters_and_momentum_are_conditional(space_file):
    kinds, values = space(
        space_file,
        "model:\n  conv_blocks: {min: 1, max: 3}\noptimizer:\n  name: {values: [adam, sgd]}\n",
    )
    assert [c.values for c in kinds["filters_0"].conditions] == []
    assert [list(c.values) for c in kinds["filters_2"].conditions] == [[3]]
    assert [list(c.values) for c in kinds["momentum"].conditions] == [["sgd"]]
    active_filters = [name for name in values if name.startswith("filters_")]
    assert len(active_filters) == values["conv_blocks"]


class LearnByBuilding:
    """keras-tuner's own way of learning a space: build the hypermodel's model once per conditional branch."""

    def learn_space(self) -> None:
        TunerHooks.learn_space(self)


def test_the_space_is_learned_without_building_a_model_and_is_the_one_building_learns(tmp_path, monkeypatch):
    model = {"conv_blocks": {"min": 1, "max": 3}, "filters": {"values": [4, 8]}, "dropout": 0.0, "dense_units": 0}
    optimizer = {"name": {"values": ["adam", "sgd", "adamw"]}, "learning_rate": 1e-3, "weight_decay": 1e-4}
    space = write_tiny_space(tmp_path, model=model, optimizer=optimizer)
    spec, data = load_task(load_spec(space)[0], tmp_path)
    built: list[str] = []
    build = CNNHyperModel.build
    monkeypatch.setattr(CNNHyperModel, "build", lambda self, hp: built.append("model") or build(self, hp))

    def learned(mixins: tuple[type, ...], run: str) -> dict:
        tuner = make_tuner(spec, data, tmp_path / run, True, SilentListener(), mixins=mixins)
        assert isinstance(tuner.hypermodel, CNNHyperModel)  # the builder is back for the trials
        return tuner.oracle.get_space().get_config()

    declared = learned((), "declared")
    assert built == []
    by_building = learned((LearnByBuilding,), "built")
    assert len(built) > 1  # one build per conditional branch: the walk had conditions to activate
    assert declared == by_building
    names = {item["config"]["name"] for item in declared["space"]}
    assert {"filters_2", "momentum", "weight_decay"} <= names


def test_space_only_declares_the_whole_space_and_builds_nothing(space_file):
    spec, _ = load_spec(space_file("data: {source: digits}\nmodel:\n  conv_blocks: {min: 1, max: 2}\n"))
    hp = keras_tuner.HyperParameters()
    assert SpaceOnly(spec).build(hp) is None
    assert {"conv_blocks", "filters_0", "filters_1"} <= {item.name for item in hp.space}


def test_momentum_is_not_declared_for_adam_only(space_file):
    kinds, values = space(space_file, "optimizer:\n  name: adam\n")
    assert "momentum" not in kinds and "momentum" not in values


@pytest.mark.parametrize("blocks", [1, 3, 6])
@pytest.mark.parametrize("pooling", ["max", "avg", "none"])
def test_any_depth_builds_on_a_tiny_image_without_pooling_a_pixel_away(blocks, pooling):
    values = {**BASE, "conv_blocks": blocks, "pooling": pooling, **{f"filters_{i}": 4 for i in range(blocks)}}
    model = build_model(values, (8, 8, 1), 10)
    assert model.output_shape == (None, 10)
    spatial = [layer.output.shape[1] for layer in model.layers if "pooling" in layer.name]
    assert all(size >= 1 for size in spatial)
    assert len(spatial) == (0 if pooling == "none" else min(blocks, 3))


@pytest.mark.slow
def test_largest_corner_with_batch_norm_dense_and_dropout_builds_and_trains():
    values = {**BASE, "conv_blocks": 2, "filters_1": 8, "batch_norm": True, "dropout": 0.5, "dense_units": 16}
    values["optimizer"], values["momentum"] = "sgd", 0.9
    model = build_model(values, (8, 8, 1), 3)
    history = model.fit(np.zeros((8, 8, 8, 1), "float32"), np.arange(8) % 3, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_binary_losses_read_one_real_output():
    for loss in ("hinge", "squared_hinge", "binary_crossentropy"):
        model = build_model({**BASE, "loss": loss}, (8, 8, 1), 2)
        assert model.output_shape == (None, 1)
        assert model.layers[-1].activation.__name__ == "linear"


def _random_subset(count: int) -> Subset:
    """``count`` random float images in [0, 1], alternately of class 0 and 1."""
    images = np.random.default_rng(0).random((count, 8, 8, 1), dtype="float32")
    return Subset(images, np.arange(count) % 2, np.arange(count))


def test_pixels_are_scaled_inside_the_model():
    model = build_model(BASE, (8, 8, 1), 3, pixel_scale=1 / 255)
    assert model.layers[1].name == "rescale" and model.layers[1].scale == pytest.approx(1 / 255)
    assert "rescale" not in [layer.name for layer in build_model(BASE, (8, 8, 1), 3).layers]


def test_balanced_class_weights_follow_scikit_learn_and_weigh_absent_classes_zero():
    from tuner.data.dataset import Dataset
    from tuner.model.task import class_weights
    from tuner.space.schema import DataSpec

    labels = np.array([0] * 6 + [1] * 2 + [2] * 2)
    data = Dataset(np.zeros((10, 1, 1, 1)), labels, ("a", "b", "c"), np.arange(8), np.arange(8, 10), np.arange(0), 1)
    weights = class_weights(DataSpec(source="digits", class_weight="balanced"), data)
    assert weights.tolist() == pytest.approx([8 / (2 * 6), 8 / (2 * 2), 0.0])  # class c has no training rows
    assert class_weights(DataSpec(source="digits"), data) is None


def test_balanced_classes_weigh_every_batch_and_plain_ones_do_not(space_file):
    spec, _ = load_spec(space_file("data: {source: digits}\ntraining: {batch_size: 4}\n"))
    hp = keras_tuner.HyperParameters()
    declare_space(hp, spec)
    rows = _random_subset(10)
    weights = np.array([0.5, 2.0], dtype="float32")
    weighed = CNNHyperModel(spec, (8, 8, 1), ("a", "b"), 1.0, class_weights=weights).batches(hp, rows, shuffle=False)
    seen = np.concatenate([np.asarray(batch[2]) for batch in weighed])
    assert np.array_equal(seen, weights[rows.labels])
    plain = CNNHyperModel(spec, (8, 8, 1), ("a", "b"), 1.0).batches(hp, rows, shuffle=False)
    assert {len(batch) for batch in plain} == {2}  # images and targets, no weights


@pytest.mark.slow
def test_fit_uses_the_trial_batch_size_and_epochs(space_file):
    spec, _ = load_spec(space_file("data: {source: digits}\ntraining: {epochs: 2, batch_size: 5, early_stopping: 0}\n"))
    hp = keras_tuner.HyperParameters()
    hypermodel = CNNHyperModel(spec, (8, 8, 1), ("a", "b"), 1.0)
    model = hypermodel.build(hp)
    rows = _random_subset(10)
    history = hypermodel.fit(hp, model, rows, validation_data=rows, verbose=0)
    assert len(history.history["val_loss"]) == 2
    assert model.optimizer.iterations.numpy() == 4


def test_per_block_filters_are_fixed_block_by_block():
    spec = Spec.model_validate(
        {"name": "s", "data": {"source": "digits"}, "model": {"conv_blocks": 2, "filters": [8, 32]}}
    )
    hp = keras_tuner.HyperParameters()
    values = declare_space(hp, spec)
    assert (values["filters_0"], values["filters_1"]) == (8, 32)
    assert {type(item).__name__ for item in hp.space if item.name.startswith("filters_")} == {"Fixed"}


@pytest.mark.slow
def test_mixed_precision_computes_in_float16_and_reads_out_in_float32(space_file):
    spec, _ = load_spec(
        space_file("data: {source: digits}\ntraining: {epochs: 1, mixed_precision: true, jit_compile: false}\n")
    )
    hp = keras_tuner.HyperParameters()
    model = CNNHyperModel(spec, (8, 8, 1), ("a", "b", "c"), 1.0).build(hp)
    conv = next(layer for layer in model.layers if layer.name.startswith("conv2d"))
    assert conv.compute_dtype == "float16" and conv.variable_dtype == "float32"
    assert model.get_layer("readout").compute_dtype == "float32"
    assert model.optimizer.__class__.__name__ == "LossScaleOptimizer"
    assert model.jit_compile is False
    history = model.fit(np.zeros((6, 8, 8, 1), "float32"), np.arange(6) % 3, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_default_precision_is_float32_throughout():
    model = build_model(BASE, (8, 8, 1), 3)
    assert {layer.compute_dtype for layer in model.layers[1:]} == {"float32"}
    assert model.optimizer.__class__.__name__ == "Adam"


@pytest.mark.slow
@pytest.mark.skipif(active() != "tensorflow", reason="only TensorFlow traces its training step into the registry")
def test_fitting_leaves_no_traced_graph_in_tensorflows_gradient_registry(space_file):
    """Each fit's optimizer step registers a custom gradient holding its whole graph; fit must release it."""
    from tensorflow.python.framework import ops

    spec, _ = load_spec(space_file("data: {source: digits}\ntraining: {epochs: 1, batch_size: 5, early_stopping: 0}\n"))
    hypermodel = CNNHyperModel(spec, (8, 8, 1), ("a", "b"), 1.0)
    rows = _random_subset(10)
    registry = ops._gradient_registry._registry
    before = set(registry)
    for _ in range(2):
        hp = keras_tuner.HyperParameters()
        history = hypermodel.fit(hp, hypermodel.build(hp), rows, validation_data=rows, verbose=0)
        assert len(history.history["loss"]) == 1
    assert not [name for name in set(registry) - before if name.startswith("CustomGradient-")]
