"""A distributed search over a real network: the chief and two workers each in their own network namespace.

The namespaces are joined by a bridge in the chief's namespace, on 10.200.17.0/24, addresses that exist only
inside the namespaces the test makes; they share the run directory as machines share NFS. Needs root (``ip
netns``); skipped where namespaces cannot be made.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.helpers import TINY_MODEL, tuner_executable, write_space
from tuner.errors import ChiefUnreachableError

SUBNET = "10.200.17"
CHIEF = f"{SUBNET}.1"
PORT = 8000  # every namespace is new, so the default port is free in each
TRIALS = 4
# Batches of 8: a trial trains for about a second, so a fault aimed at a running trial lands inside it.
SPACE = (
    "name: net\nseed: 7\ndata: {source: digits}\n"
    + TINY_MODEL.replace("batch_size: 64", "batch_size: 8")
    + f"search: {{max_trials: {TRIALS}}}\n"
)
LOST_AFTER = 3  # the cut worker's --chief-lost-after: it gives up this long after finding its link dead


class Network:
    """Three network namespaces on one bridge, and the ``tuner`` processes started in them."""

    def __init__(self, tag: str, folder: Path) -> None:
        self.chief = f"{tag}-c"
        self.workers = [f"{tag}-w1", f"{tag}-w2"]
        self.folder = folder
        self.made: list[str] = []
        self.processes: list[subprocess.Popen[bytes]] = []

    def build(self) -> None:
        """The namespaces, the bridge with the chief's address, and a veth pair to each worker's ``eth0``."""
        for name in (self.chief, *self.workers):
            ip("netns", "add", name)
            self.made.append(name)
            ip("-n", name, "link", "set", "lo", "up")
        ip("-n", self.chief, "link", "add", "br0", "type", "bridge")
        ip("-n", self.chief, "addr", "add", f"{CHIEF}/24", "dev", "br0")
        ip("-n", self.chief, "link", "set", "br0", "up")
        for number, worker in enumerate(self.workers, start=2):
            ip(
                "-n",
                self.chief,
                "link",
                "add",
                f"port{number}",
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                worker,
            )
            ip("-n", self.chief, "link", "set", f"port{number}", "master", "br0", "up")
            ip("-n", worker, "addr", "add", f"{SUBNET}.{number}/24", "dev", "eth0")
            ip("-n", worker, "link", "set", "eth0", "up")

    def remove(self) -> None:
        """Stop every process the test started, then delete the namespaces (and with them the links)."""
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()
        for name in self.made:
            subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)

    def start(self, namespace: str, log: str, *args: str) -> subprocess.Popen[bytes]:
        """``tuner ARGS`` inside ``namespace``, its output in ``log`` (``ip netns exec`` execs it: same pid)."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with (self.folder / log).open("wb") as output:
            command = ["ip", "netns", "exec", namespace, tuner_executable(), *args]
            process = subprocess.Popen(command, cwd=self.folder, env=env, stdout=output, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def link(self, worker: str, state: str) -> None:
        """Bring a worker's only link ``up`` or ``down``, as a pulled cable or a dead switch port would."""
        ip("-n", worker, "link", "set", "eth0", state)

    def listen(self, namespace: str, port: int) -> None:
        """A plain TCP listener on every address of ``namespace``."""
        serve = f"import socket, time; server = socket.create_server(('0.0.0.0', {port})); time.sleep(300)"
        self.processes.append(subprocess.Popen(["ip", "netns", "exec", namespace, sys.executable, "-c", serve]))

    def connects(self, namespace: str, host: str, port: int) -> bool:
        """Whether a TCP connection from ``namespace`` to ``host:port`` is accepted."""
        probe = f"import socket; socket.create_connection(({host!r}, {port}), timeout=3).close()"
        done = subprocess.run(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", probe], capture_output=True, check=False
        )
        return done.returncode == 0


def ip(*args: str) -> None:
    """One ``ip`` command, which must succeed."""
    subprocess.run(["ip", *args], capture_output=True, text=True, check=True)


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    """Three fresh namespaces with unique names, always removed, even when the test fails."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to make network namespaces (ip netns add)")
    net = Network(f"t17-{os.getpid() % 100000}-{secrets.token_hex(2)}", tmp_path)
    try:
        try:
            net.build()
        except subprocess.CalledProcessError as error:
            pytest.skip(f"network namespaces are not permitted here: {error.stderr.strip()}")
        yield net
    finally:
        net.remove()


def wait_until(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    """Poll ``condition`` until it returns something true; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    pytest.fail(f"waited {seconds:.0f} s for {what}")


def oracle_state(run_dir: Path) -> dict[str, Any]:
    """The oracle's saved state (empty while it is first written)."""
    try:
        return json.loads((run_dir / "keras_tuner" / "oracle.json").read_text())
    except (OSError, ValueError):
        return {}


def history(run_dir: Path, trial_id: str) -> dict[str, Any]:
    """A trial's first restart, as the worker that trained it recorded it."""
    return json.loads((run_dir / "history" / f"{trial_id}-0.json").read_text())


def exited(process: subprocess.Popen[bytes], seconds: float) -> int:
    """The exit code of a process that must end within ``seconds``."""
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{process.args[3:5]} still running after {seconds:.0f} s")


def output(network: Network, log: str) -> str:
    """What a process wrote, stdout and stderr together."""
    return (network.folder / log).read_text(errors="replace")


@pytest.mark.slow
def test_a_search_survives_a_cut_link_and_a_killed_chief(network, tmp_path):
    space = str(write_space(tmp_path, SPACE))
    run_dir = tmp_path / "runs" / "net"
    worker_1, worker_2 = network.workers
    chief_args = ("chief", space, "--host", CHIEF, "--port", str(PORT), "--quiet")
    chief = network.start(network.chief, "chief-1.log", *chief_args)

    def worker_args(tuner_id: str, lost_after: int) -> tuple[str, ...]:
        return ("worker", space, "--chief", f"{CHIEF}:{PORT}", "--id", tuner_id, "--chief-lost-after", str(lost_after))

    first = network.start(worker_1, "worker-1.log", *worker_args("worker-1", LOST_AFTER))
    second = network.start(worker_2, "worker-2.log", *worker_args("worker-2", 120))

    # The cut lands inside a trial: worker-1 holds it and has not yet finished training it (no history yet).
    def training_on_worker_1() -> str | None:
        trial_id = oracle_state(run_dir).get("ongoing_trials", {}).get("worker-1")
        return trial_id if trial_id and not (run_dir / "history" / f"{trial_id}-0.json").exists() else None

    cut_trial = wait_until(training_on_worker_1, 300, "worker-1 to train a trial")
    network.link(worker_1, "down")
    cut_at = time.time()
    # worker-1 finishes training the trial (its history is written), then asks the chief over the dead link.
    wait_until(lambda: (run_dir / "history" / f"{cut_trial}-0.json").exists(), 120, "the cut trial's end")
    asked = history(run_dir, cut_trial)["finished"]
    assert asked > cut_at

    # The chief is killed outright while that trial is unfinished, and started again on the same address.
    assert chief.poll() is None and cut_trial not in oracle_state(run_dir).get("end_order", [])
    chief.send_signal(signal.SIGKILL)
    chief.wait()
    chief = network.start(network.chief, "chief-2.log", *chief_args)

    # keras-tuner's client would wait an hour on the dead connection; the worker gives up in one line, soon after
    # its first request over the dead link.
    assert exited(first, 120) == ChiefUnreachableError.exit_code
    gave_up = time.time()
    log = output(network, "worker-1.log")
    assert f"stopped answering and none listened there within {LOST_AFTER} s" in log
    assert "Traceback" not in log
    assert gave_up - asked < LOST_AFTER + 15  # 2 s to the first ping, 5 s for its answer, then the wait

    # worker-1 comes back under its id; the restarted chief queued the cut trial again for the first worker to ask.
    network.link(worker_1, "up")
    returned = network.start(worker_1, "worker-1b.log", *worker_args("worker-1", 120))
    assert exited(chief, 240) == 0, output(network, "chief-2.log")
    assert exited(second, 30) == 0, output(network, "worker-2.log")
    try:
        assert returned.wait(timeout=30) == 0, output(network, "worker-1b.log")
    except subprocess.TimeoutExpired:
        # On a busy machine worker-2 can finish the search before worker-1 is back: worker-1 then waits for a
        # chief, as a worker started before its chief does, and is stopped like any idle worker.
        returned.terminate()
        returned.wait(timeout=30)
    assert "Traceback" not in output(network, "worker-1b.log")

    results = pd.read_csv(run_dir / "results.csv", dtype={"trial": str})
    assert len(results) == TRIALS and set(results["status"]) == {"completed"}
    assert results.filter(like="hp_").astype(str).apply(tuple, axis=1).is_unique
    for trial in results.itertuples():
        record = history(run_dir, trial.trial)
        assert record["trial_id"] == trial.trial and len(record["epochs"]) == 1
        assert trial.objective == pytest.approx(min(epoch["val_loss"] for epoch in record["epochs"]))
    rerun = history(run_dir, cut_trial)
    assert rerun["started"] > asked  # trained again, from the start, after the cut
    print(f"worker-1 gave up {gave_up - asked:.1f} s after its request over the cut link; {rerun['worker']} re-ran it")


@pytest.mark.slow
def test_a_chief_on_its_default_address_cannot_be_reached_from_another_namespace(network, tmp_path):
    space = str(write_space(tmp_path, SPACE))
    network.start(network.chief, "chief.log", "chief", space, "--quiet")
    wait_until(lambda: network.connects(network.chief, "127.0.0.1", PORT), 120, "the chief to listen")
    # The bridge carries a connection to a port that listens on every address of the chief's namespace...
    network.listen(network.chief, PORT + 1)
    wait_until(lambda: network.connects(network.workers[0], CHIEF, PORT + 1), 30, "the bridge to carry a connection")
    # ...but not to the chief, which listens on loopback only.
    assert not network.connects(network.workers[0], CHIEF, PORT)
