"""SIGTERM and SIGHUP stop a search as Ctrl-C does, end its local workers, and a worker leaves a chief that is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import default_signals, tuner_executable, write_tiny_space
from tuner.engine.interrupt import StopOnCtrlC, StopRequested
from tuner.parallel.cluster import free_port

pytestmark = pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="finds processes through /proc")


def start(command: list[str]) -> subprocess.Popen[str]:
    """Start the console script in the background, as a user's shell would."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [tuner_executable(), *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
    )


def wait_for(condition, process: subprocess.Popen[str], seconds: float = 240) -> None:
    """Poll ``condition`` while ``process`` runs; it must come true within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, f"the command ended first: {process.communicate()[1]}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def trials_trained(run_dir: Path) -> int:
    """Trials whose training has ended: each leaves its history file."""
    return len(list((run_dir / "history").glob("*.json")))


def workers_of(space: Path) -> list[int]:
    """Live ``tuner worker`` processes searching ``space``, from /proc (zombies have an empty command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"worker" in arguments and str(space.resolve()).encode() in arguments:
            found.append(int(entry.name))
    return found


def assert_one_line(stderr: str, expected: str) -> None:
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == [expected]


@pytest.mark.slow
def test_sigterm_to_a_search_with_workers_saves_ends_its_workers_and_resumes(tmp_path):
    space = write_tiny_space(tmp_path, search={"max_trials": 6}, training={"epochs": 3})
    runs, run_dir = tmp_path / "runs", tmp_path / "runs" / "tiny"
    command = ["search", str(space), "--workers", "2", "--runs-dir", str(runs), "--quiet"]
    launcher = start(command)
    # worker-0 trains in the launcher itself: one worker process beside it.
    wait_for(lambda: trials_trained(run_dir) >= 1 and len(workers_of(space)) == 1, launcher)
    launcher.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    _, stderr = launcher.communicate(timeout=60)

    assert launcher.returncode == 143
    resume = f"tuner {' '.join(command)}"
    assert_one_line(stderr, f"tuner: terminated; completed trials are saved in {run_dir}; resume with: {resume}")
    while workers_of(space) and time.monotonic() - signalled < 10:
        time.sleep(0.1)
    assert workers_of(space) == [], "a worker outlived its launcher by 10 s"
    assert len(pd.read_csv(run_dir / "results.csv")) < 6, "the search ended before it was stopped"

    resumed = subprocess.run([tuner_executable(), *command], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert list(pd.read_csv(run_dir / "results.csv")["status"]) == ["completed"] * 6


@pytest.mark.slow
def test_sigterm_then_sighup_to_a_search_save_and_each_resumes(tmp_path):
    """One search stopped twice: by SIGTERM, then, once resumed and a trial further, by SIGHUP."""
    space = write_tiny_space(tmp_path, search={"max_trials": 4}, training={"epochs": 2})
    runs, run_dir = tmp_path / "runs", tmp_path / "runs" / "tiny"
    command = ["search", str(space), "--runs-dir", str(runs), "--quiet"]
    resume = f"tuner {' '.join(command)}"
    for signum, code, reason, trained in ((signal.SIGTERM, 143, "terminated", 1), (signal.SIGHUP, 129, "hung up", 2)):
        process = start(command)
        wait_for(lambda trained=trained: trials_trained(run_dir) >= trained, process)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=120)

        assert process.returncode == code
        assert_one_line(stderr, f"tuner: {reason}; completed trials are saved in {run_dir}; resume with: {resume}")
    resumed = subprocess.run([tuner_executable(), *command], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert list(pd.read_csv(run_dir / "results.csv")["status"]) == ["completed"] * 4


@pytest.mark.slow
def test_a_worker_whose_chief_is_gone_exits_7_in_one_line(tmp_path):
    space = write_tiny_space(tmp_path, search={"max_trials": 6}, training={"epochs": 3})
    runs, run_dir = tmp_path / "runs", tmp_path / "runs" / "tiny"
    address = f"127.0.0.1:{free_port()}"
    chief = start(["chief", str(space), "--port", address.rsplit(":", 1)[1], "--runs-dir", str(runs), "--quiet"])
    worker = start(
        ["worker", str(space), "--chief", address, "--id", "solo", "--runs-dir", str(runs), "--chief-lost-after", "5"]
    )
    wait_for(lambda: trials_trained(run_dir) >= 1, worker)
    chief.kill()
    chief.communicate()
    killed = time.monotonic()
    _, stderr = worker.communicate(timeout=90)

    assert worker.returncode == 7
    assert time.monotonic() - killed < 35
    assert_one_line(
        stderr,
        f"tuner: the chief at {address} stopped answering and none listened there within 5 s;"
        " start the chief again (the same command resumes its run), then this worker",
    )


@pytest.fixture
def signals_at_default():
    """The stop signals at their defaults for one test (the suite may run with some ignored), restored after."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    default_signals()
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.usefixtures("signals_at_default")
def test_a_signal_after_the_last_safe_point_still_stops_when_the_block_ends():
    with pytest.raises(StopRequested) as raised, StopOnCtrlC():
        os.kill(os.getpid(), signal.SIGTERM)  # only sets the flag: no safe point is checked after it
    assert raised.value.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.mark.usefixtures("signals_at_default")
def test_no_signal_leaves_the_block_quietly_and_restores_the_handlers():
    previous = signal.getsignal(signal.SIGHUP)
    with StopOnCtrlC() as stop:
        assert signal.getsignal(signal.SIGHUP) is not previous
        stop.check()
    assert signal.getsignal(signal.SIGHUP) is previous
