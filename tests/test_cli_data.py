"""Every data mistake is one located line on stderr and exit code 2 (the CLI's own entry point, in-process: the
console script's one-line errors are pinned by tests/test_cli_bad_inputs.py)."""

from __future__ import annotations

import numpy as np
import pytest

from tuner.cli.main import main

CASES = [
    (
        "data:\n  source: mnsit\n",
        "space.yaml:2: data.source: must be one of digits, npz, directory, shapes, mnist, fashion_mnist, cifar10"
        " or cifar100 (got 'mnsit')",
    ),
    (
        "data:\n  source: digits\n  samples: 100\n",
        "space.yaml:3: data.samples: is only read for source shapes",
    ),
    (
        "data:\n  source: shapes\n  grouping: circle\n",
        "space.yaml:3: data.grouping: must be one of cross or corner (got 'circle')",
    ),
    (
        "data:\n  source: digits\n  validation_split: 0.5\n  test_split: 0.5\n",
        "space.yaml:4: data.test_split: validation_split and test_split together must leave training data",
    ),
    (
        "data:\n  source: digits\n  limit: 0\n",
        "space.yaml:3: data.limit: must be greater than or equal to 1 (got 0)",
    ),
    (
        "data:\n  source: npz\n  path: same.npz\n  limit: 4\n",
        "space.yaml:4: data.limit: the first 4 samples are all of class '7'; a classifier needs two classes",
    ),
    (
        "data:\n  source: shapes\n  samples: 10\n  test_split: 0.01\n",
        "space.yaml:4: data.test_split: 10 samples cannot spare a test set of 0.01",
    ),
    (
        "data:\n  source: shapes\n  image_size: [12, 40]\n",
        "space.yaml:3: data.image_size: grouping cross needs images of at least 15x15 pixels (cells of 5 pixels);"
        " got 12x40",
    ),
    (
        "data:\n  source: digits\n  labels: binary\n",
        "space.yaml:3: data.labels: binary needs two classes; the data has 10",
    ),
    (
        "data:\n  source: shapes\n  labels: multiclass\ntraining:\n  loss: hinge\n",
        "space.yaml:5: training.loss: hinge needs binary labels; data.labels is multiclass",
    ),
    (
        "data:\n  source: shapes\n  labels: binary\ntraining:\n  loss: sparse_categorical_crossentropy\n",
        "space.yaml:5: training.loss: sparse_categorical_crossentropy needs multiclass labels; data.labels is binary",
    ),
    (
        "data:\n  source: mnist\n",
        "space.yaml:2: data.source: could not fetch https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
        "mnist.npz (download failed); download it by hand and save it as {home}/datasets/mnist.npz",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[line.split(": ")[1] for _, line in CASES])
def test_data_error_is_one_line_with_exit_code_2(tmp_path, monkeypatch, capsys, text, expected):
    home = tmp_path / "keras-home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "same.npz", x=np.zeros((6, 8, 8)), y=np.array([7, 7, 7, 7, 8, 8]))
    (tmp_path / "space.yaml").write_text(text + "model: {conv_blocks: 1, filters: 4}\n", encoding="utf-8")
    code = main(["validate", "space.yaml"])
    assert (code, capsys.readouterr().err) == (2, "tuner: " + expected.format(home=home) + "\n")
