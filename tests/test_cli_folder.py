"""A folder of images through the console script: validate lists it, unreadable images stop or are skipped as
``data.on_bad_image`` says, a cache that cannot be written costs one warning, and classes can be balanced."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from tests.helpers import TINY_MODEL, make_image_folder

pytestmark = pytest.mark.slow


def _space(tmp_path, per_class=12, classes=("cats", "dogs"), **data):
    make_image_folder(tmp_path / "images", classes=classes, per_class=per_class)
    space = yaml.safe_load(TINY_MODEL)
    space.update(name="folder", data={"source": "directory", "path": "images", "image_size": [10, 12], **data})
    space["search"] = {"max_trials": 1}
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(space), encoding="utf-8")
    return tmp_path / "images"


def _set_data(tmp_path, **keys):
    """Change data keys of the space file written by ``_space``."""
    space = yaml.safe_load((tmp_path / "space.yaml").read_text())
    space["data"].update(keys)
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(space), encoding="utf-8")


def test_validate_lists_the_folder_without_decoding_every_image(tmp_path, run_tuner):
    images = _space(tmp_path, per_class=5, classes=("cats", "dogs", "owls"))
    (images / "owls" / "4.png").write_bytes(b"not a png")  # never read by validate
    done = run_tuner("validate", "space.yaml")
    assert done.returncode == 0, done.stderr
    assert "data: 15 images of shape (10, 12, 1), 3 classes" in done.stdout
    assert "classes: cats 5, dogs 5, owls 5" in done.stdout


def test_an_unreadable_image_stops_the_search_by_default_and_is_skipped_on_request(tmp_path, run_tuner):
    images = _space(tmp_path)
    (images / "dogs" / "3.png").write_bytes(b"not a png")
    stopped = run_tuner("search", "space.yaml", "--runs-dir", "runs", "--quiet")
    assert stopped.returncode == 2
    assert stopped.stderr.startswith("tuner: space.yaml:")
    assert f": data.path: {images.resolve()}/dogs/3.png is not a readable image (" in stopped.stderr
    assert len(stopped.stderr.splitlines()) == 1
    assert not (tmp_path / "runs" / "folder" / "results.csv").exists()

    _set_data(tmp_path, on_bad_image="skip")
    skipped = run_tuner("search", "space.yaml", "--runs-dir", "runs", "--quiet")
    assert skipped.returncode == 0, skipped.stderr
    warning = f"tuner: warning: {images.resolve()}: skipped 1 unreadable image(s): dogs/3.png (data.on_bad_image: skip)"
    assert skipped.stderr.splitlines() == [warning]


def test_a_cache_folder_that_cannot_be_written_costs_one_warning(tmp_path, run_tuner, monkeypatch):
    _space(tmp_path)
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("TUNER_CACHE", str(tmp_path / "a-file" / "cache"))
    done = run_tuner("search", "space.yaml", "--runs-dir", "runs", "--quiet")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tuner: warning: cannot write the image cache at {tmp_path}")
    assert pd.read_csv(tmp_path / "runs" / "folder" / "results.csv")["status"].tolist() == ["completed"]


def test_balanced_class_weights_weigh_the_validation_loss_of_an_imbalanced_folder(tmp_path, run_tuner):
    images = _space(tmp_path, per_class=16)
    for number in range(4, 16):
        (images / "dogs" / f"{number}.png").unlink()  # 16 cats, 4 dogs
    plain = run_tuner("search", "space.yaml", "--runs-dir", "plain", "--quiet")
    _set_data(tmp_path, class_weight="balanced")
    balanced = run_tuner("search", "space.yaml", "--runs-dir", "balanced", "--quiet")
    assert plain.returncode == balanced.returncode == 0, plain.stderr + balanced.stderr
    losses = [pd.read_csv(tmp_path / run / "folder" / "results.csv")["objective"][0] for run in ("plain", "balanced")]
    assert losses[0] != losses[1]  # the same seeds and rows, only the weights differ
