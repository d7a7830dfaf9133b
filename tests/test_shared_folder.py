"""A chief and a worker run by two users of one group share a run directory (setgid folder, umask 002)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import TINY_MODEL, User, become, check_state_files, tuner_as_any_user, write_space
from tuner.parallel.cluster import free_port

SPACE = "name: shared\nseed: 7\ndata: {source: digits}\n" + TINY_MODEL + "search: {max_trials: 3}\n"


def start(user: User, home: Path, *args: str) -> subprocess.Popen[str]:
    """The console script as ``user`` with umask 002, its HOME and image cache in ``home``."""
    home.mkdir()
    os.chown(home, user.uid, user.gid)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HOME": str(home), "TUNER_CACHE": str(home / "cache")}
    return subprocess.Popen(
        [*tuner_as_any_user(), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=become(user, umask=0o002),
    )


@pytest.mark.slow
def test_a_chief_and_a_worker_of_two_users_complete_a_search_in_a_shared_folder(users, open_folder):
    chief_user, worker_user = users(group="ttshared"), users(group="ttshared")
    shared = open_folder / "shared"
    shared.mkdir()
    os.chown(shared, 0, chief_user.shared_gid)
    shared.chmod(0o2775)  # setgid: what is made inside belongs to the group
    space = write_space(shared, SPACE)
    runs, port = shared / "runs", str(free_port())

    worker = start(
        worker_user,
        open_folder / "worker",
        "worker",
        str(space),
        "--chief",
        f"127.0.0.1:{port}",
        "--runs-dir",
        str(runs),
    )
    chief = start(
        chief_user, open_folder / "chief", "chief", str(space), "--port", port, "--runs-dir", str(runs), "--quiet"
    )
    ended = [(*process.communicate(timeout=300), process.returncode) for process in (chief, worker)]

    for _, stderr, code in ended:
        assert code == 0, stderr
        assert "Traceback" not in stderr
    run_dir = runs / "shared"
    assert list(pd.read_csv(run_dir / "results.csv")["status"]) == ["completed"] * 3
    check_state_files(run_dir)
    entries = [run_dir, *run_dir.rglob("*")]
    assert {entry.stat().st_uid for entry in entries} == {chief_user.uid, worker_user.uid}
    assert {entry.stat().st_gid for entry in entries} == {chief_user.shared_gid}
    unshared = [str(entry) for entry in entries if not entry.stat().st_mode & stat.S_IWGRP]
    assert unshared == [], "not writable by the group"
