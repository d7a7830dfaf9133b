"""keras-tuner's environment contract, addresses, ports and the plan of local workers."""

from __future__ import annotations

import socket

import pytest

from tuner.parallel.cluster import (
    ORACLE_IP,
    ORACLE_PORT,
    TUNER_ID,
    Address,
    WorkerSlot,
    check_tuner_id,
    chief_from_environment,
    default_tuner_id,
    free_port,
    parse_address,
    plan_workers,
    worker_environment,
)


def test_addresses_parse_and_print_back():
    assert parse_address("10.0.0.5:8000") == Address("10.0.0.5", 8000)
    assert str(parse_address("tuner-chief:9000")) == "tuner-chief:9000"
    assert str(parse_address("[::1]:8000")) == "[::1]:8000"
    for bad in ("10.0.0.5", ":8000", "host:0", "host:99999", "host:http"):
        with pytest.raises(ValueError, match="expected HOST:PORT"):
            parse_address(bad)


def test_worker_ids_that_keras_tuner_would_take_for_the_chief_are_refused():
    assert check_tuner_id("worker-3") == "worker-3"
    for bad in ("", "my-chief", "two words"):
        with pytest.raises(ValueError, match="worker id"):
            check_tuner_id(bad)


def test_environment_names_the_chief_and_the_worker():
    assert chief_from_environment({ORACLE_IP: "tuner-chief", ORACLE_PORT: "8000"}) == Address("tuner-chief", 8000)
    assert chief_from_environment({ORACLE_IP: "tuner-chief"}) is None
    assert default_tuner_id({TUNER_ID: "worker-7"}) == "worker-7"
    assert default_tuner_id({}) == f"worker-{socket.gethostname()}"


def test_a_local_worker_gets_keras_tuners_variables_its_threads_and_its_gpu():
    slot = WorkerSlot(tuner_id="worker-1", threads=2, gpu="1")
    environ = worker_environment({"PATH": "/bin"}, Address("127.0.0.1", 4321), slot)
    assert environ == {
        "PATH": "/bin",
        TUNER_ID: "worker-1",
        ORACLE_IP: "127.0.0.1",
        ORACLE_PORT: "4321",
        "OMP_NUM_THREADS": "2",
        "CUDA_VISIBLE_DEVICES": "1",
    }
    cpu = worker_environment({}, Address("127.0.0.1", 4321), WorkerSlot("worker-0", 1, None))
    assert "CUDA_VISIBLE_DEVICES" not in cpu


def test_auto_plans_one_worker_per_gpu_or_per_thread_budget_and_never_more_than_trials():
    assert [slot.gpu for slot in plan_workers(None, 1, 16, ["0", "1"], 20)] == ["0", "1"]
    assert len(plan_workers(None, 1, 2, [], 20)) == 2
    assert len(plan_workers(None, 4, 16, [], 20)) == 4
    assert len(plan_workers(None, 1, 16, [], 3)) == 3
    assert len(plan_workers(None, 8, 4, [], 20)) == 1
    explicit = plan_workers(3, 1, 2, ["0", "1"], 2)
    assert [(slot.tuner_id, slot.gpu) for slot in explicit] == [("worker-0", "0"), ("worker-1", "1"), ("worker-2", "0")]


def test_a_free_port_can_be_bound():
    port = free_port()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
