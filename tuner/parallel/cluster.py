"""The plumbing of keras-tuner's distributed mode: its environment contract, addresses, ports, cores and GPUs.

keras-tuner runs a search across processes when every process finds ``KERASTUNER_TUNER_ID``,
``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` in its environment: the chief serves the
oracle over gRPC and the workers ask it for trials. Nothing here imports a framework, so the command-line
parser can use these helpers without slowing ``tuner --help``; threads and GPUs are ``tuner.backend``'s.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

TUNER_ID = "KERASTUNER_TUNER_ID"
ORACLE_IP = "KERASTUNER_ORACLE_IP"
ORACLE_PORT = "KERASTUNER_ORACLE_PORT"
# Set for the workers of ``tuner search --workers``: stopped with their launcher, they leave the telling to it.
LOCAL_WORKER = "TUNER_LOCAL_WORKER"
LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8000
# A link that goes dead (a cable pulled, a host gone) carries no error: TCP keeps resending for about 15 minutes
# and gRPC keeps calling the connection ready. So while a worker's request is open it pings the chief every
# KEEPALIVE_MS and drops the connection when a ping goes unanswered for KEEPALIVE_TIMEOUT_MS; the chief accepts
# pings that often (by default gRPC servers refuse more than one every 5 minutes when they have sent no data).
KEEPALIVE_MS = 2000
KEEPALIVE_TIMEOUT_MS = 5000  # generous: a chief on a busy machine must not be taken for gone
WORKER_KEEPALIVE = [("grpc.keepalive_time_ms", KEEPALIVE_MS), ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS)]
CHIEF_KEEPALIVE = [
    ("grpc.http2.min_ping_interval_without_data_ms", KEEPALIVE_MS // 2),
    ("grpc.http2.max_ping_strikes", 0),  # never close a worker's connection for pinging
]


@dataclass(frozen=True)
class Address:
    """Where the chief's oracle listens."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class WorkerSlot:
    """One local worker: its stable keras-tuner id, threads and GPU (None on CPU)."""

    tuner_id: str
    threads: int
    gpu: str | None


def parse_address(text: str) -> Address:
    """``HOST:PORT`` as given to ``--chief``; the port must be a whole number from 1 to 65535."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, e.g. 10.0.0.5:{DEFAULT_PORT} (got {text!r})")
    return Address(host.strip("[]"), int(port))


def check_tuner_id(name: str) -> str:
    """A worker id; keras-tuner treats any id containing "chief" as the chief, so those are refused."""
    if not name or "chief" in name or any(char.isspace() for char in name):
        raise ValueError(f"a worker id must be non-empty, without spaces and without 'chief' (got {name!r})")
    return name


def chief_from_environment(environ: Mapping[str, str]) -> Address | None:
    """The chief keras-tuner's own variables point at, if both are set."""
    if ORACLE_IP in environ and ORACLE_PORT in environ:
        return parse_address(f"{environ[ORACLE_IP]}:{environ[ORACLE_PORT]}")
    return None


def default_tuner_id(environ: Mapping[str, str]) -> str:
    """The id keras-tuner's variable gives, else one per host: stable, so a restarted worker resumes its trial."""
    return check_tuner_id(environ.get(TUNER_ID) or f"worker-{socket.gethostname()}")


def join_chief(chief: Address, tuner_id: str) -> None:
    """Point this process at the chief the way keras-tuner expects, before any tuner is built."""
    os.environ.update({TUNER_ID: tuner_id, ORACLE_IP: chief.host, ORACLE_PORT: str(chief.port)})


def worker_environment(base: Mapping[str, str], chief: Address, slot: WorkerSlot) -> dict[str, str]:
    """A local worker's environment: keras-tuner's three variables, its thread count and its own GPU.

    It inherits the chief's, KERAS_BACKEND included, so every worker trains on the chief's backend.
    """
    environ = {**base, TUNER_ID: slot.tuner_id, ORACLE_IP: chief.host, ORACLE_PORT: str(chief.port)}
    # OpenMP-based kernels (PyTorch's among them) read this instead of a framework's thread settings.
    environ["OMP_NUM_THREADS"] = str(slot.threads)
    if slot.gpu is not None:
        environ["CUDA_VISIBLE_DEVICES"] = slot.gpu
    return environ


def free_port(host: str = LOOPBACK) -> int:
    """A port nobody listens on right now, for a chief that serves only this machine."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def usable_cores() -> int:
    """Cores this process may run on (respects CPU affinity, e.g. taskset or a container's cpuset)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


def plan_workers(
    requested: int | None, threads: int, cores: int, gpus: list[str], trials: int | None
) -> list[WorkerSlot]:
    """The local workers to start: ``requested`` of them, or (None, i.e. auto) one per GPU or per ``threads`` cores.

    Auto never starts more workers than there are trials to run; explicit counts are taken as given.
    """
    count = requested
    if count is None:
        count = len(gpus) if gpus else max(1, cores // threads)
        count = min(count, trials) if trials else count
    return [
        WorkerSlot(tuner_id=f"worker-{index}", threads=threads, gpu=gpus[index % len(gpus)] if gpus else None)
        for index in range(count)
    ]
