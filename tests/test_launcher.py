"""The local workers of ``tuner search --workers``: quick to start, and stopped, never waited for, at the end."""

from __future__ import annotations

import sys
import time

import pytest

from tests.helpers import write_tiny_space
from tuner.engine.listener import SilentListener
from tuner.engine.search import load_task, make_tuner
from tuner.model.hypermodel import CNNHyperModel
from tuner.parallel.chief import OracleServer, own_oracle
from tuner.parallel.cluster import (
    LOOPBACK,
    ORACLE_IP,
    ORACLE_PORT,
    TUNER_ID,
    Address,
    WorkerSlot,
    free_port,
    join_chief,
)
from tuner.parallel.launcher import LEAVE_SECONDS, STOP_SECONDS, WorkerPool
from tuner.parallel.worker import WORKER_MIXINS
from tuner.space.loading import load_spec


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


@pytest.mark.slow
def test_a_workers_tuner_builds_no_model_to_learn_the_space_the_chiefs_oracle_holds(tmp_path, monkeypatch):
    # keras-tuner builds the hypermodel once per conditional branch to fill an oracle; a worker's is the chief's.
    space = write_tiny_space(tmp_path)
    spec, data = load_task(load_spec(space)[0], tmp_path)
    built: list[str] = []
    build = CNNHyperModel.build
    monkeypatch.setattr(CNNHyperModel, "build", lambda self, hp: built.append("model") or build(self, hp))
    for name in (TUNER_ID, ORACLE_IP, ORACLE_PORT):  # set, so that monkeypatch takes them away again after
        monkeypatch.setenv(name, "")
    chief_tuner = own_oracle(spec, data, tmp_path / spec.name, overwrite=True, verbose=False)
    assert built and chief_tuner.oracle.get_space().space  # the chief learned the space by building models
    built.clear()
    address = Address(LOOPBACK, free_port())
    with OracleServer(chief_tuner.oracle, address):
        join_chief(address, "worker-0")
        make_tuner(spec, data, tmp_path / spec.name, False, SilentListener(), mixins=WORKER_MIXINS)
    assert built == []
