"""A trial that runs out of memory is trained again at half its batch size; running out again fails it.

The memory runs out for real: the search runs under an address-space limit (``RLIMIT_DATA``) that a batch of
2,048 images 32x32 through 128 filters does not fit in and a batch of 1,024 does, while 288 filters fit at
neither. oneDNN is switched off in the child because it keeps the failed batch's scratch buffers, which
narrows the gap between the two limits to a few tens of MiB; TensorFlow's own kernels free theirs.
Measured on this VM: 1,700-2,500 MiB gives exactly this outcome, so 2,100 MiB sits in the middle.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess

import pandas as pd
import pytest
import tensorflow as tf
import yaml

from tests.helpers import make_npz, tiny_space, tuner_executable
from tuner.backend.errors import is_out_of_memory
from tuner.engine.failures import failure_reason
from tuner.reports.records import load_trials
from tuner.rundir import layout
from tuner.testing.rundirs import random_trials, write_run

LIMIT_MIB = 2100


def _limit_memory() -> None:
    limit = LIMIT_MIB << 20
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def test_only_running_out_of_memory_earns_a_retry():
    assert is_out_of_memory(tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor"))
    assert is_out_of_memory(MemoryError())
    assert not is_out_of_memory(ValueError("Negative dimension size"))


def test_the_reason_names_the_tensor_that_did_not_fit():
    message = (
        "Graph execution error:\n\nDetected at node gradient_tape/MatMul defined at ...\n"
        "OOM when allocating tensor with shape[2048,65536] and type float on /job:localhost/replica:0/task:0"
        "/device:CPU:0 by allocator cpu\n\t [[{{node gradient_tape/MatMul}}]]"
    )
    assert failure_reason(tf.errors.ResourceExhaustedError(None, None, message)) == (
        "out of memory: OOM when allocating tensor with shape[2048,65536] and type float"
    )


@pytest.mark.slow
def test_a_trial_out_of_memory_is_retried_at_half_its_batch_and_fails_only_the_second_time(tmp_path):
    make_npz(tmp_path / "big.npz", samples=2600, size=32)
    space = tiny_space(
        data={"source": "npz", "path": "big.npz"},
        model={"conv_blocks": 1, "filters": {"values": [128, 288]}, "pooling": "none", "dense_units": 0},
        optimizer={"name": "sgd", "learning_rate": 0.01, "momentum": 0.0},
        training={"epochs": 1, "batch_size": 2048, "early_stopping": 0},
        search={"algorithm": "grid", "max_trials": 2},
    )
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(space), encoding="utf-8")
    done = subprocess.run(
        [tuner_executable(), "search", "space.yaml", "--runs", "runs"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_memory,
        env={**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = tmp_path / "runs" / "tiny"
    results = pd.read_csv(run_dir / "results.csv").set_index("hp_filters_0")
    fitted, too_big = results.loc[128], results.loc[288]
    assert fitted["status"] == "completed"
    assert fitted["message"] == "trained at batch size 1024: out of memory at 2048"
    assert fitted["hp_batch_size"] == 2048  # the point of the space is kept; the history says what trained
    history = json.loads(layout.history_file(run_dir, str(fitted["trial"]), 0).read_text(encoding="utf-8"))
    assert (history["batch_size"], history["out_of_memory_at"], len(history["epochs"])) == (1024, [2048], 1)
    assert too_big["status"] == "failed"
    assert too_big["message"].startswith("out of memory: OOM when allocating tensor with shape[1024,")
    assert too_big["message"].endswith("(at batch size 2048, then 1024)")


def test_the_report_says_which_batch_size_a_retried_trial_trained_at(tmp_path):
    run_dir = write_run(tmp_path / "run", random_trials(2, restarts=2), restarts=2)
    for restart in (0, 1):
        path = layout.history_file(run_dir, "0", restart)
        history = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps({**history, "batch_size": 32, "out_of_memory_at": [64]}), encoding="utf-8")
    messages = load_trials(run_dir).frame.set_index("trial")["message"]
    assert messages["0"] == "trained at batch size 32: out of memory at 64"
    assert not messages["1"]
