"""The CNN family's keys beyond plain conv blocks: stages of several layers, shortcuts, filter growth,
activations, global pooling heads, weight decay, schedules, label smoothing and augmentation."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import keras
import keras_tuner
import numpy as np
import pandas as pd
import pytest
import yaml

from tests.helpers import tiny_space, tuner_executable, write_digits_npz
from tuner.model.builder import build_model
from tuner.model.losses import SmoothedSparseCrossentropy
from tuner.model.schedule import learning_rate_at
from tuner.model.space import declared_space
from tuner.space.architecture import block_filters, describe
from tuner.space.schema import Spec
from tuner.testing import run_tiny_search, without_timings

# Every new key tuned, at sizes small enough to train on 8x8 digits in a second.
FAMILY = {
    "model": {
        "conv_blocks": {"values": [1, 2]},
        "convs_per_block": {"values": [1, 2]},
        "residual": {"values": [False, True]},
        "filters": {"values": [4, 8]},
        "filters_growth": {"values": [1.0, 2.0]},
        "activation": {"values": ["relu", "gelu", "swish", "elu"]},
        "head": {"values": ["flatten", "global_avg", "global_max"]},
        "batch_norm": {"values": [False, True]},
        "dense_units": {"values": [0, 8]},
    },
    "optimizer": {
        "name": {"values": ["adamw", "sgd", "adam"]},
        "learning_rate": {"min": 1e-3, "max": 1e-2, "sampling": "log"},
        "weight_decay": {"min": 1e-5, "max": 1e-3, "sampling": "log"},
        "schedule": {"values": ["constant", "cosine", "exponential"]},
        "warmup_epochs": {"values": [0, 1]},
    },
    "training": {"epochs": 2, "batch_size": 32, "early_stopping": 0, "label_smoothing": {"values": [0.0, 0.1]}},
    "augmentation": {
        "flip": {"values": ["none", "horizontal", "both"]},
        "rotation": {"min": 0.0, "max": 0.1},
        "translation": {"values": [0.0, 0.1]},
        "zoom": {"values": [0.0, 0.1]},
        "contrast": {"values": [0.0, 0.2]},
    },
}


def _family_spec() -> Spec:
    return Spec.model_validate(tiny_space(**FAMILY))


def test_a_space_without_the_new_keys_declares_what_it_declared_before():
    space = declared_space(Spec.model_validate({"name": "old", "data": {"source": "digits"}}))
    assert [item.name for item in space.space] == [
        "conv_blocks", "kernel_size", "pooling", "batch_norm", "dropout", "dense_units", "optimizer",
        "learning_rate", "epochs", "batch_size", "loss", "filters_0", "filters_1", "filters_2", "momentum",
    ]  # fmt: skip


def test_weight_decay_is_conditional_on_the_optimisers_that_have_it():
    space = declared_space(_family_spec())
    decay = next(item for item in space.space if item.name == "weight_decay")
    assert [(c.name, list(c.values)) for c in decay.conditions] == [("optimizer", ["adamw", "sgd"])]
    assert "filters_1" not in {item.name for item in space.space}  # the growth rule derives it


def test_random_points_of_a_space_with_every_new_key_build_and_run():
    spec = _family_spec()
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective="val_loss", max_trials=20, hyperparameters=declared_space(spec), seed=3
    )
    seen: set[str] = set()
    for index in range(20):
        values = oracle.populate_space(str(index))["values"]
        model = build_model(values, (9, 7, 3), 4, pixel_scale=1 / 255)
        pixels = np.random.default_rng(index).integers(0, 255, size=(2, 9, 7, 3)).astype("float32")
        assert model(pixels, training=True).shape == (2, 4)
        inference = keras.ops.convert_to_numpy(model(pixels, training=False))
        assert np.array_equal(inference, keras.ops.convert_to_numpy(model(pixels, training=False)))
        seen.add(describe(values))
    assert len(seen) > 10


def test_filters_grow_by_the_rule_and_the_architecture_is_one_line():
    values = {"conv_blocks": 3, "filters_0": 16, "filters_growth": 2.0, "convs_per_block": 2, "residual": True}
    assert block_filters(values) == [16, 32, 64]
    assert describe({**values, "head": "global_avg"}) == "3x2 [16 32 64] residual global_avg"
    assert describe({"conv_blocks": 2, "filters_0": 8, "filters_1": 4}) == "2x1 [8 4] flatten"


def test_a_residual_block_projects_its_shortcut_only_where_the_channels_change():
    base = {"conv_blocks": 2, "filters_0": 8, "filters_1": 8, "convs_per_block": 2, "residual": True}
    base.update(kernel_size=3, pooling="max", batch_norm=False, dropout=0.0, dense_units=0)
    base.update(optimizer="adam", learning_rate=0.01, loss="auto")
    model = build_model(base, (8, 8, 8), 3)
    kernels = [layer.kernel_size for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert kernels == [(3, 3)] * 4  # 8 channels in, 8 out: identity shortcuts
    model = build_model(base, (8, 8, 1), 3)
    kernels = [layer.kernel_size for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert kernels.count((1, 1)) == 1 and len([layer for layer in model.layers if "add" in layer.name]) == 2


def test_the_learning_rate_warms_up_then_follows_its_schedule():
    assert [learning_rate_at(e, 1.0, "constant", 2, 10) for e in range(3)] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert learning_rate_at(0, 1.0, "cosine", 0, 10) == 1.0
    assert learning_rate_at(5, 1.0, "cosine", 0, 10) == pytest.approx(0.5)
    assert learning_rate_at(9, 1.0, "cosine", 0, 10) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.9)))
    assert learning_rate_at(10, 1.0, "exponential", 0, 10) == pytest.approx(0.01)


def test_smoothed_sparse_cross_entropy_is_keras_categorical_cross_entropy_of_one_hot_labels():
    logits = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]], dtype="float32")
    labels = np.array([0, 2])
    ours = SmoothedSparseCrossentropy(0.1, 3)
    keras_loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    assert float(ours(labels, logits)) == pytest.approx(float(keras_loss(np.eye(3)[labels], logits)), rel=1e-6)
    assert SmoothedSparseCrossentropy.from_config(ours.get_config()).label_smoothing == 0.1


@pytest.mark.slow
def test_a_space_with_every_new_key_searches_reruns_bit_identically_and_exports(tmp_path: Path):
    write_digits_npz(tmp_path)
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(tiny_space(**FAMILY)), encoding="utf-8")
    first = run_tiny_search(path, tmp_path / "a", max_trials=2, epochs=2)
    second = run_tiny_search(path, tmp_path / "b", max_trials=2, epochs=2)
    pd.testing.assert_frame_equal(without_timings(first), without_timings(second))
    assert (first["status"] == "completed").all()
    assert first["architecture"].str.match(r"^\d+x\d+ \[[\d ]+\]( residual)? (flatten|global_avg|global_max)$").all()

    run_dir = tmp_path / "a" / "tiny"
    out = tmp_path / "out"
    done = subprocess.run(
        [tuner_executable(), "export", str(run_dir), "--output", str(out / "best.keras")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    exported = yaml.safe_load((out / "best.yaml").read_text(encoding="utf-8"))
    best = json.loads((run_dir / "keras_tuner" / f"trial_{first.iloc[0]['trial']}" / "trial.json").read_text())
    values = best["hyperparameters"]["values"]
    assert exported["model"]["head"] == values["head"] and exported["augmentation"]["flip"] == values["flip"]
    model = keras.models.load_model(out / "best.keras")
    assert not any("augmentation" in layer.name for layer in model.layers[-1].layers)
    assert Spec.model_validate(exported).model.convs_per_block == values["convs_per_block"]


def test_validate_lists_the_new_keys_and_builds_both_corners(tmp_path: Path):
    write_digits_npz(tmp_path)
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(tiny_space(**FAMILY)), encoding="utf-8")
    done = subprocess.run(
        [tuner_executable(), "validate", "space.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    for name in ("convs_per_block", "residual", "filters_growth", "head", "weight_decay", "schedule", "flip"):
        assert name in done.stdout
    assert "ok: space.yaml is a valid space" in done.stdout
