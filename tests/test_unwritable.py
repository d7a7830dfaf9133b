"""Folders a search cannot write, or data that goes away: one line, its exit code, and the run's files untouched."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.helpers import (
    TINY_MODEL,
    User,
    become,
    make_image_folder,
    snapshot,
    tuner_as_any_user,
    tuner_executable,
    write_tiny_space,
)
from tuner.errors import InputError, NotWritableError
from tuner.testing import run_tiny_search

RESUME = "the files in it are kept; once it can be, run the same command to resume"


def search(space: Path, runs: Path, user: User | None = None, home: Path | None = None) -> subprocess.CompletedProcess:
    """``tuner search SPACE --runs-dir RUNS --max-trials 2``, as root or as ``user`` (whose HOME and cache are
    ``home``: pytest's own folders are root's alone)."""
    command = [*(tuner_as_any_user() if user else [tuner_executable()]), "search", str(space)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if home is not None:
        env.update(HOME=str(home), TUNER_CACHE=str(home / "cache"))
    return subprocess.run(
        [*command, "--runs-dir", str(runs), "--max-trials", "2", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=become(user) if user else None,
    )


@pytest.mark.slow
def test_a_read_only_runs_folder_is_one_line_and_its_run_is_untouched(tmpfs, tmp_path):
    disk = tmpfs("4m")
    space = write_tiny_space(tmp_path)
    run_tiny_search(space, disk, max_trials=1)
    before = snapshot(disk)
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)

    done = search(space, disk)

    assert done.returncode == NotWritableError.exit_code == 10
    assert done.stderr.splitlines() == [f"tuner: cannot write in {disk / 'tiny'}: read-only file system; {RESUME}"]
    assert snapshot(disk) == before


@pytest.mark.slow
def test_a_run_directory_of_another_user_is_one_line_and_untouched(users, open_folder):
    owner, other = users(), users()
    space = write_tiny_space(open_folder)
    runs = open_folder / "runs"
    run_tiny_search(space, runs, max_trials=1)
    subprocess.run(["chown", "-R", f"{owner.uid}:{owner.gid}", str(runs)], check=True)
    home = open_folder / "home"
    (home / "cache").mkdir(parents=True)
    subprocess.run(["chown", "-R", f"{other.uid}:{other.gid}", str(home)], check=True)
    before = snapshot(runs)

    done = search(space, runs, other, home)

    assert done.returncode == NotWritableError.exit_code, done.stderr
    run_dir = runs / "tiny"
    assert done.stderr.splitlines() == [
        f"tuner: cannot write in {run_dir}: permission denied (it belongs to {owner.name}); {RESUME}"
    ]
    assert snapshot(runs) == before


@pytest.mark.slow
def test_a_data_folder_that_disappears_mid_search_loses_nothing_and_a_later_resume_says_so(tmp_path):
    images = make_image_folder(tmp_path / "images")
    space = yaml.safe_load(TINY_MODEL)
    space.update(name="folder", seed=3, data={"source": "directory", "path": "images", "image_size": [10, 12]})
    space["search"] = {"max_trials": 3}
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(space), encoding="utf-8")
    command = [tuner_executable(), "search", str(tmp_path / "space.yaml"), "--runs-dir", str(tmp_path / "runs")]
    run_dir = tmp_path / "runs" / "folder"
    process = subprocess.Popen([*command, "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (run_dir / "history" / "0-0.json").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.05)
    shutil.rmtree(images)  # the images are decoded before the first trial: the search needs them no more
    _, stderr = process.communicate(timeout=240)

    assert process.returncode == 0, stderr
    assert list(pd.read_csv(run_dir / "results.csv")["status"]) == ["completed"] * 3
    before = snapshot(run_dir)

    resumed = subprocess.run([*command, "--max-trials", "4", "--quiet"], capture_output=True, text=True, timeout=300)

    assert resumed.returncode == InputError.exit_code, resumed.stderr
    [line] = resumed.stderr.splitlines()
    assert line.startswith(f"tuner: {tmp_path / 'space.yaml'}:") and "data.path" in line and str(images) in line
    assert snapshot(run_dir) == before
