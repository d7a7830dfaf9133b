"""Parallel search through the installed console script: keras-tuner's chief and workers on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import TINY_MODEL, assert_ranked_run, tuner_executable, write_space, write_tiny_space
from tuner.parallel.cluster import TUNER_ID, free_port
from tuner.testing import without_timings

SPACE = "name: par\nseed: 7\ndata: {source: digits}\n" + TINY_MODEL + "search: {max_trials: 4}\n"
TRIALS = 4


STARTED: list[subprocess.Popen[str]] = []


def start(cwd: Path, *args: str) -> subprocess.Popen[str]:
    """Start the console script in the background, as a user's shell would."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [tuner_executable(), *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    STARTED.append(process)
    return process


@pytest.fixture(autouse=True)
def no_process_left_behind() -> Iterator[None]:
    """A test that fails midway must not leave its chief or workers running into the tests after it."""
    yield
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.communicate()


def finish(process: subprocess.Popen[str], timeout: float = 300) -> tuple[str, str]:
    """Wait for a background command; it must succeed."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    return out, err


def children(parent: int) -> list[int]:
    """The processes ``parent`` started that are still alive, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def finish_counting_children(process: subprocess.Popen[str], timeout: float = 300) -> tuple[str, str, int]:
    """``finish``, sampling how many processes the command ran beside itself; the most seen at once."""
    most, deadline = 0, time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        most = max(most, len(children(process.pid)))
        time.sleep(0.05)
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    return out, err, most


def comparable(results: pd.DataFrame) -> pd.DataFrame:
    """What must not depend on the number of workers: every column but the timings."""
    return without_timings(results).reset_index(drop=True)


def assert_complete_and_distinct(run_dir: Path) -> pd.DataFrame:
    """All trials completed, each with its own configuration, and the run directory complete."""
    results = assert_ranked_run(run_dir, trials=TRIALS)
    assert set(results["status"]) == {"completed"}
    configurations = results.filter(like="hp_").astype(str).apply(tuple, axis=1)
    assert configurations.is_unique
    return results


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The reference: the same space searched by a single worker."""
    folder = tmp_path_factory.mktemp("one")
    space = write_space(folder, SPACE)
    *_, beside = finish_counting_children(start(folder, "search", str(space), "--workers", "1", "--quiet"))
    assert beside == 0, "one worker trains in the launcher's own process"
    return assert_complete_and_distinct(folder / "runs" / "par")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="counts the processes through /proc")
def test_two_workers_find_the_same_trials_as_one(one_worker, tmp_path):
    space = write_space(tmp_path, SPACE)
    out, _, beside = finish_counting_children(start(tmp_path, "search", str(space), "--workers", "2"))
    assert beside == 1, "two workers are two processes: the launcher (chief and worker-0) and worker-1"
    assert "2 worker(s), 1 thread(s) each" in out
    assert "top trials of par" in out
    run_dir = tmp_path / "runs" / "par"
    results = assert_complete_and_distinct(run_dir)
    pd.testing.assert_frame_equal(comparable(results), comparable(one_worker))
    assert {path.name for path in (run_dir / "keras_tuner").glob("worker-*.json")} == {"worker-0.json", "worker-1.json"}


def worker_pids(parent: int) -> dict[str, int]:
    """The launcher's worker processes by keras-tuner id, read from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid != parent:
                continue
            variables = dict(item.split("=", 1) for item in (entry / "environ").read_text().split("\0") if "=" in item)
        except (OSError, ValueError, IndexError):
            continue
        if TUNER_ID in variables:
            found[variables[TUNER_ID]] = int(entry.name)
    return found


def ongoing_trials(run_dir: Path) -> dict[str, str]:
    """Which worker holds which trial, from the oracle's saved state (may be mid-write)."""
    try:
        return json.loads((run_dir / "keras_tuner" / "oracle.json").read_text())["ongoing_trials"]
    except (OSError, ValueError, KeyError):
        return {}


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the workers through /proc")
def test_a_killed_worker_is_restarted_and_reruns_its_trial(one_worker, tmp_path):
    space = write_space(tmp_path, SPACE)
    run_dir = tmp_path / "runs" / "par"
    launcher = start(tmp_path, "search", str(space), "--workers", "2", "--quiet")
    victim = None
    deadline = time.monotonic() + 240
    while victim is None and launcher.poll() is None and time.monotonic() < deadline:
        pids = worker_pids(launcher.pid)
        for tuner_id, trial_id in ongoing_trials(run_dir).items():
            if tuner_id in pids:
                os.kill(pids[tuner_id], signal.SIGKILL)
                victim = tuner_id, trial_id
                break
        time.sleep(0.02)
    assert victim is not None, "no worker was seen holding a trial"
    out, _ = finish(launcher)
    assert f"{victim[0]} stopped (signal 9); restarting it to re-run its trial" in out
    results = assert_complete_and_distinct(run_dir)
    pd.testing.assert_frame_equal(comparable(results), comparable(one_worker))


@pytest.mark.slow
def test_chief_and_worker_commands_on_an_explicit_port_and_a_resumed_chief(one_worker, tmp_path):
    space = write_space(tmp_path, SPACE)
    port = str(free_port())
    worker = start(tmp_path, "worker", str(space), "--chief", f"127.0.0.1:{port}", "--id", "solo")
    finish(start(tmp_path, "chief", str(space), "--port", port, "--max-trials", "2", "--quiet"))
    finish(worker)
    assert len(pd.read_csv(tmp_path / "runs" / "par" / "results.csv")) == 2
    # A chief started again on the run directory carries on from the oracle's saved state.
    worker = start(tmp_path, "worker", str(space), "--chief", f"127.0.0.1:{port}", "--id", "solo")
    chief = start(tmp_path, "chief", str(space), "--port", port)
    finish(worker)
    worker_left = time.monotonic()
    out, _ = finish(chief)
    # keras-tuner's own chief would poll for up to 20 s more before noticing the end.
    assert time.monotonic() - worker_left < 15
    assert f"chief: serving on 127.0.0.1:{port}" in out
    assert "top trials of par" in out
    results = assert_complete_and_distinct(tmp_path / "runs" / "par")
    pd.testing.assert_frame_equal(comparable(results), comparable(one_worker))


@pytest.mark.slow
def test_worker_refuses_a_chief_searching_another_space(tmp_path):
    space = write_space(tmp_path, SPACE)
    port = str(free_port())
    chief = start(tmp_path, "chief", str(space), "--port", port, "--quiet")
    other = write_space(tmp_path, SPACE.replace("seed: 7", "seed: 8"), name="other.yaml")
    worker = subprocess.run(
        [tuner_executable(), "worker", str(other), "--chief", f"127.0.0.1:{port}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    chief.kill()
    chief.communicate()
    assert worker.returncode == 2
    assert "holds a search of a different space" in worker.stderr
    assert "Traceback" not in worker.stderr


@pytest.mark.slow
def test_worker_and_thread_options_are_checked(run_tuner, space_file):
    space = space_file(SPACE)
    result = run_tuner("worker", str(space))
    assert result.returncode == 2
    assert "worker needs --chief HOST:PORT (or KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT" in result.stderr
    result = run_tuner("worker", str(space), "--chief", "10.0.0.5", "--id", "my-chief")
    assert result.returncode == 2
    assert "expected HOST:PORT" in result.stderr and "Traceback" not in result.stderr
    result = run_tuner("search", str(space), "--threads", "2")
    assert result.returncode == 2
    assert "--threads sets the threads of each worker; it needs --workers" in result.stderr


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the workers through /proc")
def test_a_failure_streak_stops_every_worker_with_one_line_and_keeps_the_ended_trials(tmp_path):
    space = write_tiny_space(
        tmp_path,
        optimizer={"name": "sgd", "learning_rate": 1.0e30, "momentum": {"values": [0.0, 0.5, 0.9]}},
        search={"max_trials": 8, "max_consecutive_failures": 2},
        training={"epochs": 2},
    )
    run_dir = tmp_path / "runs" / "tiny"
    launcher = start(tmp_path, "search", str(space), "--workers", "2", "--quiet", "--runs-dir", str(run_dir.parent))
    beside: set[int] = set()
    while launcher.poll() is None:
        beside.update(children(launcher.pid))
        time.sleep(0.05)
    _, err = launcher.communicate(timeout=300)
    assert launcher.returncode == 3, err  # TrialsFailedError, found by the chief's thread, raised by the launcher
    assert err.splitlines()[-1].startswith("tuner: stopped: the last 2 trials failed (trial "), err
    assert "Traceback" not in err
    assert beside, "worker-1 was never seen"
    assert not [pid for pid in beside if Path(f"/proc/{pid}").exists()], "worker-1 outlived its launcher"
    results = pd.read_csv(run_dir / "results.csv")
    histories = {path.name.split("-")[0] for path in (run_dir / "history").glob("*.json")}
    assert (results["status"] == "failed").sum() >= 2
    assert set(results["status"]) <= {"failed", "running"}
    assert set(results.loc[results["status"] == "failed", "trial"].astype(str)) <= histories
    assert len(results) < 8, "worker-0 went on training after the chief had stopped the search"


def test_every_command_keeps_grpc_notes_off_stderr_unless_the_user_chose_a_level(monkeypatch, tmp_path):
    # A --workers search's own process is a gRPC chief and client: its "Got goaway" INFO note at the end
    # reached the terminal. gRPC reads the level once, when imported, so the command sets it before.
    from tuner.cli.main import main

    monkeypatch.setenv("GRPC_VERBOSITY", "")  # recorded, so that the level this test's command sets goes again after
    monkeypatch.delenv("GRPC_VERBOSITY")
    assert main(["report", str(tmp_path / "no-run")]) == 2
    assert os.environ["GRPC_VERBOSITY"] == "ERROR"
    monkeypatch.setenv("GRPC_VERBOSITY", "DEBUG")
    assert main(["report", str(tmp_path / "no-run")]) == 2
    assert os.environ["GRPC_VERBOSITY"] == "DEBUG"
