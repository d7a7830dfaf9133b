"""A folder of images through the console script: validate lists it, unreadable images stop or are skipped as
``data.on_bad_image`` says, and a cache that cannot be written costs one warning line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.helpers import TINY_MODEL, make_image_folder
from tuner.cli.main import main


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


@pytest.mark.slow
def test_validate_lists_the_folder_without_decoding_every_image(tmp_path, run_tuner):
    images = _space(tmp_path, per_class=5, classes=("cats", "dogs", "owls"))
    (images / "owls" / "4.png").write_bytes(b"not a png")  # never read by validate
    done = run_tuner("validate", "space.yaml")
    assert done.returncode == 0, done.stderr
    assert "data: 15 images of shape (10, 12, 1), 3 classes" in done.stdout
    assert "classes: cats 5, dogs 5, owls 5" in done.stdout


@pytest.mark.slow
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
    space = yaml.safe_load((tmp_path / "space.yaml").read_text())
    space["search"] = {"max_trials": 2, "objective": "val_accuracy"}
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(space), encoding="utf-8")
    skipped = run_tuner("search", "space.yaml", "--runs-dir", "runs", "--quiet")
    assert skipped.returncode == 0, skipped.stderr
    warning = f"tuner: warning: {images.resolve()}: skipped 1 unreadable image(s): dogs/3.png (data.on_bad_image: skip)"
    assert skipped.stderr.splitlines() == [warning]
    results = pd.read_csv(tmp_path / "runs" / "folder" / "results.csv")
    assert len(results) == 2 and results["objective"].is_monotonic_decreasing  # accuracies ranked highest first


def test_a_cache_folder_that_cannot_be_written_costs_one_warning(tmp_path, monkeypatch, capsys):
    np.savez(tmp_path / "data.npz", x=np.zeros((8, 4, 4), "uint8"), y=np.arange(8) % 2)
    (tmp_path / "space.yaml").write_text("data: {source: npz, path: data.npz}\nmodel: {conv_blocks: 1}\n")
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("TUNER_CACHE", str(tmp_path / "a-file" / "cache"))
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "space.yaml"]) == 0
    assert capsys.readouterr().err == (
        f"tuner: warning: cannot write the image cache at {tmp_path / 'a-file' / 'cache'} (Not a directory);"
        " decoding in memory\n"
    )
