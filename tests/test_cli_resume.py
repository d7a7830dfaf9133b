"""Killed or interrupted searches resume to the results of an uninterrupted run, through the console script."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.helpers import default_signals, tuner_executable, write_tiny_space
from tuner.testing import run_tiny_search, without_timings

RUN_V0 = Path(__file__).parent / "fixtures" / "run_v0"  # made by the tuner before run formats (its README says how)

GRID = {
    "optimizer": {"name": {"values": ["adam", "sgd"]}, "learning_rate": {"values": [0.01, 0.05]}, "momentum": 0.5},
    "model": {"conv_blocks": {"min": 1, "max": 2}, "filters": 4},
}


def _wait_for_running_trial(run_dir: Path, started: int, process: subprocess.Popen) -> None:
    """Poll oracle.json until the ``started``-th trial is running (ids count from 0)."""
    oracle = run_dir / "keras_tuner" / "oracle.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "the search ended before it could be interrupted"
        try:
            state = json.loads(oracle.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            state = None
        if state and len(state["start_order"]) >= started and state["ongoing_trials"]:
            return
        time.sleep(0.02)
    raise AssertionError("no trial started in time")


def _results(run_dir: Path) -> pd.DataFrame:
    return without_timings(pd.read_csv(run_dir / "results.csv"))


def _uninterrupted(space: Path, tmp_path: Path, algorithm: str) -> pd.DataFrame:
    run_tiny_search(space, tmp_path / "uninterrupted", max_trials=3, epochs=2, algorithm=algorithm)
    return _results(tmp_path / "uninterrupted" / "tiny")


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["random", "grid"])
def test_kill_9_mid_trial_then_resume_equals_an_uninterrupted_run(algorithm, tmp_path):
    sections = GRID if algorithm == "grid" else {}
    space = write_tiny_space(
        tmp_path, search={"algorithm": algorithm, "max_trials": 3}, training={"epochs": 2}, **sections
    )
    command = [tuner_executable(), "search", str(space), "--runs-dir", str(tmp_path / "runs"), "--quiet"]
    run_dir = tmp_path / "runs" / "tiny"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_running_trial(run_dir, 2, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    interrupted = json.loads((run_dir / "keras_tuner" / "oracle.json").read_text())

    resumed = subprocess.run(command, capture_output=True, text=True)

    assert resumed.returncode == 0, resumed.stderr
    assert interrupted["ongoing_trials"], "the kill should have caught a trial running"
    results = _results(run_dir)
    assert len(results) == 3
    assert set(results["status"]) == {"completed"}
    expected = _uninterrupted(space, tmp_path, algorithm)
    pd.testing.assert_frame_equal(results, expected)
    assert not list(run_dir.rglob("*.tmp")), "a temporary file was left behind"


@pytest.mark.slow
def test_ctrl_c_saves_state_and_names_the_resume_command(tmp_path):
    space = write_tiny_space(tmp_path, search={"max_trials": 3}, training={"epochs": 2})
    command = [tuner_executable(), "search", str(space), "--runs-dir", str(tmp_path / "runs"), "--quiet"]
    run_dir = tmp_path / "runs" / "tiny"
    process = subprocess.Popen(
        [*command, "--overwrite"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
    )
    _wait_for_running_trial(run_dir, 2, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 130
    assert stderr.splitlines()[-1] == (
        f"tuner: interrupted; completed trials are saved in {run_dir}; resume with: tuner search {space}"
        f" --runs-dir {tmp_path / 'runs'} --quiet"
    )
    assert "Traceback" not in stderr
    statuses = list(pd.read_csv(run_dir / "results.csv")["status"])
    assert len(statuses) >= 2
    assert statuses == ["completed"] * (len(statuses) - 1) + ["running"]

    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert list(_results(run_dir)["status"]) == ["completed"] * 3


def _objectives(run_dir: Path) -> dict[str, float]:
    results = pd.read_csv(run_dir / "results.csv", dtype={"trial": str})
    return dict(zip(results["trial"], results["objective"], strict=True))


@pytest.mark.slow
def test_a_key_added_with_a_default_since_the_run_began_does_not_block_its_resume(tmp_path, run_tuner):
    space = write_tiny_space(tmp_path, search={"max_trials": 1})
    assert run_tuner("search", str(space), "--quiet").returncode == 0
    run_dir = tmp_path / "runs" / "tiny"
    before = _objectives(run_dir)
    # As an older tuner left it: no run.json, and no keys that were added later with defaults.
    saved = yaml.safe_load((run_dir / "space.yaml").read_text())
    del saved["search"]["initial_points"], saved["data"]["test_split"]
    (run_dir / "space.yaml").write_text(yaml.safe_dump(saved, sort_keys=False))
    (run_dir / "run.json").unlink()

    resumed = run_tuner("search", str(space), "--max-trials", "2", "--quiet")

    assert resumed.returncode == 0, resumed.stderr
    after = _objectives(run_dir)
    assert len(after) == 2
    assert after[next(iter(before))] == next(iter(before.values()))
    assert json.loads((run_dir / "run.json").read_text())["format"] == 1


@pytest.mark.slow
def test_a_run_made_before_run_formats_still_reports_and_resumes(tmp_path, run_tuner):
    shutil.copy(RUN_V0 / "space.yaml", tmp_path)
    shutil.copy(RUN_V0 / "digits.npz", tmp_path)
    shutil.copytree(RUN_V0 / "v0", tmp_path / "runs" / "v0")
    run_dir = tmp_path / "runs" / "v0"
    old = _objectives(run_dir)
    assert len(old) == 2

    reported = run_tuner("report", "runs/v0")
    assert reported.returncode == 0, reported.stderr
    assert _objectives(run_dir) == old
    assert not (run_dir / "run.json").exists()  # reading a run leaves its format alone

    resumed = run_tuner("search", "space.yaml", "--max-trials", "3", "--quiet")

    assert resumed.returncode == 0, resumed.stderr
    now = _objectives(run_dir)
    assert len(now) == 3
    assert {trial: now[trial] for trial in old} == old
    assert json.loads((run_dir / "run.json").read_text())["format"] == 1
