"""One search per run directory at a time."""

from __future__ import annotations

import pytest

from tests.helpers import write_tiny_space
from tuner.errors import RunBusyError
from tuner.rundir.lock import RunLock


def test_a_second_lock_on_the_same_run_is_refused_until_the_first_is_released(tmp_path):
    refused = pytest.raises(RunBusyError, match="another tuner search is running in")
    with RunLock(tmp_path / "run"), refused, RunLock(tmp_path / "run"):
        pass
    with RunLock(tmp_path / "run"):
        pass


@pytest.mark.slow
def test_search_refuses_a_run_another_search_holds_and_writes_nothing(tmp_path, run_tuner):
    write_tiny_space(tmp_path)
    with RunLock(tmp_path / "runs" / "tiny"):
        done = run_tuner("search", "space.yaml", "--runs-dir", "runs", "--overwrite")
    assert done.returncode == 5  # RunBusyError: busy, not bad input; retrying later can succeed
    assert done.stderr == (
        "tuner: space.yaml:1: name: another tuner search is running in runs/tiny; wait for it to finish,"
        " or give this space another name\n"
    )
    assert [path.name for path in (tmp_path / "runs" / "tiny").iterdir()] == [".lock"]
