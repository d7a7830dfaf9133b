"""A run directory whose disk fills up: one line and exit 9, every state file whole, and a resume once space is freed
that ends as an uninterrupted run would."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import keras
import keras_tuner
import numpy as np
import pandas as pd
import pytest

from tests.helpers import check_state_files, tuner_executable, write_tiny_space
from tuner.compat.keras_tuner import SaveBestEpoch
from tuner.engine.recording import BestEpochInMemory
from tuner.errors import NoSpaceError
from tuner.testing import run_tiny_search, without_timings


def used(folder: Path) -> int:
    """Bytes in use on the file system ``folder`` is on."""
    info = os.statvfs(folder)
    return (info.f_blocks - info.f_bfree) * info.f_frsize


def fill(folder: Path, leave: int) -> Path:
    """Write a file that leaves about ``leave`` bytes free on ``folder``'s file system."""
    info = os.statvfs(folder)
    filler = folder / "filler"
    filler.write_bytes(b"\0" * max(info.f_bavail * info.f_frsize - leave, 0))
    return filler


@pytest.mark.slow
def test_a_full_disk_stops_in_one_line_and_the_same_command_resumes_once_space_is_freed(tmpfs, tmp_path):
    disk = tmpfs("2m")
    space = write_tiny_space(tmp_path)
    run_tiny_search(space, disk / "reference", max_trials=3)
    needed = used(disk)
    filler = fill(disk, leave=needed * 2 // 5)  # room for about the first trial: the disk fills mid-search
    runs = disk / "runs"
    command = [tuner_executable(), "search", str(space), "--runs-dir", str(runs), "--quiet"]

    full = subprocess.run(command, capture_output=True, text=True, timeout=300)

    run_dir = runs / "tiny"
    assert full.returncode == NoSpaceError.exit_code == 9, full.stderr
    assert full.stderr.splitlines() == [
        f"tuner: no space left on the device of {run_dir}; the files written so far are whole and kept;"
        " free some space and run the same command to resume"
    ]
    assert check_state_files(run_dir) >= 3  # at least the space, run.json and the oracle's state
    filler.unlink()

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)

    assert resumed.returncode == 0, resumed.stderr
    check_state_files(run_dir)
    results, reference = (
        without_timings(pd.read_csv(folder / "tiny" / "results.csv")) for folder in (runs, disk / "reference")
    )
    assert list(results["status"]) == ["completed"] * 3
    pd.testing.assert_frame_equal(results, reference)


@pytest.mark.slow
def test_a_checkpoint_that_does_not_fit_leaves_no_half_file_and_says_nothing_but_its_error(tmpfs, capfd):
    disk = tmpfs("64k")
    model = keras.Sequential([keras.Input((100,)), keras.layers.Dense(200)])  # 80 kB of weights, 240 kB with Adam's
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.zeros((2, 100)), np.zeros((2, 200)), verbose=0)  # builds the optimizer's variables
    checkpoint = disk / "trial_0" / "checkpoint.weights.h5"
    saver = BestEpochInMemory(SaveBestEpoch(keras_tuner.Objective("loss", "min"), str(checkpoint)))
    saver.set_model(model)
    saver.on_epoch_end(0, {"loss": 1.0})
    capfd.readouterr()  # TensorFlow's own start-up notes

    with pytest.raises(OSError) as raised:
        saver.on_train_end()

    assert raised.value.errno == 28  # ENOSPC, which the search turns into NoSpaceError
    assert list(checkpoint.parent.iterdir()) == []
    assert capfd.readouterr().err == ""
