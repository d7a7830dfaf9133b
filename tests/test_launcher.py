"""The local workers of ``tuner search --workers``: stopped, never waited for, at the end."""

from __future__ import annotations

import sys
import time

from tuner.parallel.cluster import LOOPBACK, Address, WorkerSlot, free_port
from tuner.parallel.launcher import LEAVE_SECONDS, STOP_SECONDS, WorkerPool


def test_a_worker_still_running_when_the_search_ends_is_stopped_not_waited_for():
    # A worker that never asked for a trial (still starting when the others finished the search) holds none.
    pool = WorkerPool(
        [sys.executable, "-c", "import time; time.sleep(120)"],
        [WorkerSlot("worker-1", 1, None)],
        Address(LOOPBACK, free_port()),
        verbose=False,
        log=print,
    )
    with pool:
        started = time.monotonic()
    assert time.monotonic() - started < LEAVE_SECONDS + STOP_SECONDS
    assert all(process.poll() is not None for process in pool.processes.values())


def test_a_search_without_worker_processes_has_none_to_supervise():
    with WorkerPool(["true"], [], Address(LOOPBACK, free_port()), verbose=False, log=print) as pool:
        assert pool.processes == {}
        assert pool.supervise()  # none left: the launcher's own worker-0 decides
