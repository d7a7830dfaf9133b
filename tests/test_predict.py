"""``tuner predict``: an exported model or a run's best trial applied to raw image files, as a user would."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.helpers import TINY_MODEL, make_image_folder
from tuner.cli.main import main
from tuner.data.folder import list_folder
from tuner.data.sources import load_data
from tuner.rundir import layout
from tuner.space.loading import load_spec
from tuner.testing import run_tiny_search

CLASSES = ("circle", "square", "star")


def _folder_space(tmp_path: Path, **data) -> Path:
    make_image_folder(tmp_path / "images", classes=CLASSES, per_class=16)
    space = yaml.safe_load(TINY_MODEL)
    space["training"].update(epochs=3, batch_size=8, early_stopping=0)
    space.update(
        name="shapes-folder",
        seed=3,
        data={"source": "directory", "path": "images", "image_size": [10, 12], "validation_split": 0.25, **data},
        search={"max_trials": 2},
    )
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(space), encoding="utf-8")
    return path


def _validation_files(space: Path) -> list[Path]:
    """The files the search validated on: the split's rows in the folder's stored order."""
    spec, _ = load_spec(space)
    data = load_data(spec.data, space.parent, spec.seed)
    listing = list_folder(space.parent / "images")
    return [Path(listing.paths()[row]) for row in data.val_rows]


def _recorded_val_accuracy(run_dir: Path, rank: int) -> float:
    """val_accuracy at the ranked trial's best epoch (lowest val_loss): the weights its checkpoint holds."""
    ranked = pd.read_csv(run_dir / "results.csv", dtype={"trial": str})
    trial = str(ranked[ranked["rank"] == rank].iloc[0]["trial"])
    epochs = json.loads(layout.history_file(run_dir, trial, 0).read_text())["epochs"]
    return min(epochs, key=lambda epoch: epoch["val_loss"])["val_accuracy"]


def _accuracy(predictions: pd.DataFrame) -> float:
    """Share of files predicted as the class folder they are in."""
    return float(np.mean(predictions["predicted"] == [Path(file).parent.name for file in predictions["file"]]))


@pytest.mark.slow
def test_predict_on_the_validation_files_scores_the_recorded_validation_accuracy(tmp_path, run_tuner):
    space = _folder_space(tmp_path)
    run_tiny_search(space, tmp_path / "runs", max_trials=2, epochs=3)  # the search is not what is tested here
    run_dir = tmp_path / "runs" / "shapes-folder"
    files = _validation_files(space)

    done = run_tuner("predict", str(run_dir), *map(str, files), "--output", "out/predictions.csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{len(files)} images: ")
    predicted = pd.read_csv(tmp_path / "out" / "predictions.csv")
    assert list(predicted.columns) == ["file", "predicted", *(f"p_{name}" for name in CLASSES)]
    assert np.allclose(predicted[[f"p_{name}" for name in CLASSES]].sum(axis=1), 1.0, atol=1e-5)
    assert _accuracy(predicted) == pytest.approx(_recorded_val_accuracy(run_dir, rank=1), abs=1e-6)

    # An exported model with its YAML, from raw files only: the second trial, which learnt less.
    assert run_tuner("export", str(run_dir), "--rank", "2", "--output", "second.keras").returncode == 0
    exported = run_tuner("predict", "second.keras", *map(str, files))
    assert exported.returncode == 0, exported.stderr
    second = pd.read_csv(io.StringIO(exported.stdout))
    assert _accuracy(second) == pytest.approx(_recorded_val_accuracy(run_dir, rank=2), abs=1e-6)

    # The saved model takes raw pixels of any size, uint8 as a file holds them, and resizes them itself.
    import keras
    from PIL import Image

    model = keras.models.load_model(tmp_path / "second.keras")
    image = Image.open(tmp_path / "images" / "star" / "0.png")
    assert model.input_shape == (None, None, None, 1)

    def probabilities(pixels: np.ndarray) -> np.ndarray:
        return keras.ops.convert_to_numpy(keras.ops.softmax(model.predict(pixels, verbose=0)))[0]

    same = probabilities(np.asarray(image)[None, ..., None])
    larger = probabilities(np.asarray(image.resize((24, 20), Image.Resampling.BILINEAR))[None, ..., None])
    star = tmp_path / "images" / "star" / "0.png"
    answered = run_tuner("predict", "second.keras", str(star))
    assert np.allclose(pd.read_csv(io.StringIO(answered.stdout)).iloc[0, 2:].to_numpy(float), same, atol=1e-5)
    assert np.allclose(larger, same, atol=0.05)


@pytest.mark.slow
def test_a_binary_task_gives_the_sign_and_the_real_output(tmp_path, run_tuner):
    make_image_folder(tmp_path / "images", classes=("absent", "present"), per_class=12)
    space = yaml.safe_load(TINY_MODEL)
    space.update(name="pm", data={"source": "directory", "path": "images", "image_size": [10, 12]})
    space["search"] = {"max_trials": 1}
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(space), encoding="utf-8")
    run_tiny_search(tmp_path / "space.yaml", tmp_path / "runs", max_trials=1)
    done = run_tuner("predict", "runs/pm", "images")
    assert done.returncode == 0, done.stderr
    rows = pd.read_csv(io.StringIO(done.stdout))
    assert list(rows.columns) == ["file", "predicted", "sign", "output"] and len(rows) == 24
    assert (rows["predicted"] == np.where(rows["output"] > 0, "present", "absent")).all()
    assert set(rows["sign"]) <= {-1, 1}


def test_predict_errors_are_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lonely.keras").write_bytes(b"")
    assert main(["predict", "lonely.keras", "."]) == 2
    assert (
        capsys.readouterr().err
        == "tuner: lonely.keras: no lonely.yaml next to it; tuner export writes the two together\n"
    )
    assert main(["predict", "nowhere.keras", "."]) == 2
    assert "nowhere.keras does not exist" in capsys.readouterr().err
