"""The bundled example spaces: each parses, and those that need no download validate through the real stack."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest

from tests.helpers import make_image_folder
from tuner.engine.validate import check_space
from tuner.space.loading import load_spec

BUNDLED = Path(str(resources.files("tuner.search_spaces")))
EXAMPLES = ("digits.yaml", "shapes_binary.yaml", "mnist.yaml", "cifar10.yaml", "folder.yaml")


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_parses_and_starts_with_a_comment_header(name):
    path = BUNDLED / name
    spec, _ = load_spec(path)
    assert path.read_text(encoding="utf-8").startswith("# ")
    assert spec.search.max_trials >= 10


def test_shapes_binary_is_the_notes_three_stage_hinge_model():
    spec, _ = load_spec(BUNDLED / "shapes_binary.yaml")
    assert spec.data.source == "shapes" and spec.data.labels == "binary"
    assert (spec.model.conv_blocks.min, spec.model.conv_blocks.max) == (1, 3)
    assert spec.training.loss == "hinge"
    check = check_space(spec, BUNDLED)
    assert len(check.class_counts) == 2 and check.input_shape == (30, 30, 1)
    assert {"filters_0", "filters_1", "filters_2"} <= {row.name for row in check.hyperparameters}


def test_standard_datasets_are_gpu_sized():
    mnist, _ = load_spec(BUNDLED / "mnist.yaml")
    cifar, _ = load_spec(BUNDLED / "cifar10.yaml")
    assert (mnist.data.source, cifar.data.source) == ("mnist", "cifar10")
    assert max(cifar.model.filters.values) >= 128 and cifar.model.batch_norm is True


def test_folder_example_validates_next_to_a_folder_of_images(tmp_path):
    shutil.copy(BUNDLED / "folder.yaml", tmp_path / "folder.yaml")
    make_image_folder(tmp_path / "images", classes=("cats", "dogs", "owls"), per_class=10)
    spec, _ = load_spec(tmp_path / "folder.yaml")
    check = check_space(spec, tmp_path)
    assert len(check.class_counts) == 3 and check.input_shape == (64, 64, 3)


def test_fashion_mnist_spaces_search_the_cnn_family_for_their_machine():
    cpu, _ = load_spec(BUNDLED / "fashion_mnist.yaml")
    gpu, _ = load_spec(BUNDLED / "fashion_mnist_gpu.yaml")
    for spec in (cpu, gpu):
        assert spec.data.test_split == "official" and spec.search.objective.name == "val_accuracy"
        assert spec.model.filters_growth == 2.0 and spec.optimizer.schedule == "cosine"
        assert spec.augmentation.flip == "horizontal"
    assert cpu.training.mixed_precision is False and cpu.search.max_trials * cpu.training.epochs == 60
    assert gpu.training.mixed_precision is True and gpu.model.residual is True
    assert gpu.training.epochs > cpu.training.epochs
