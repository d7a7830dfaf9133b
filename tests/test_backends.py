"""Every Keras backend installed here searches through the console script: bit-identical reruns, the same trials
with one worker or two, the backend recorded in the run and a resume on another one refused."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import tuner_executable, write_tiny_space
from tuner.backend.selection import BACKENDS, DEFAULT
from tuner.cli.main import main
from tuner.testing import histories_without_timings

INSTALLED = [
    pytest.param(name, marks=pytest.mark.skipif(importlib.util.find_spec(name) is None, reason=f"{name} not installed"))
    for name in BACKENDS
]
MISSING = [name for name in BACKENDS if importlib.util.find_spec(name) is None]
# Two trials of one epoch on 240 digits: enough to tell the backends' losses apart, small enough for every backend.
SECTIONS = {"search": {"max_trials": 2}, "model": {"conv_blocks": 1, "filters": {"values": [4, 8]}, "dense_units": 0}}


def search(folder: Path, *args: str, backend: str | None = None) -> subprocess.CompletedProcess[str]:
    """``tuner search`` in ``folder`` as a user runs it, with KERAS_BACKEND set to ``backend`` (None: unset)."""
    env = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
    env |= {"PYTHONUNBUFFERED": "1", **({"KERAS_BACKEND": backend} if backend is not None else {})}
    command = [tuner_executable(), "search", str(folder / "space.yaml"), "--quiet", *args]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=600)


def searched(folder: Path, *args: str, backend: str | None = None, **sections: dict) -> Path:
    """The run directory of a tiny search in ``folder`` that must succeed."""
    folder.mkdir()
    write_tiny_space(folder, **{**SECTIONS, **sections})
    result = search(folder, *args, backend=backend)
    assert result.returncode == 0, result.stderr
    return folder / "runs" / "tiny"


def ranked(run_dir: Path) -> pd.DataFrame:
    """What must not depend on reruns or workers: each ranked trial and its objective."""
    return pd.read_csv(run_dir / "results.csv")[["trial", "objective"]]


@pytest.mark.slow
@pytest.mark.parametrize("backend", INSTALLED)
def test_a_rerun_is_bit_identical_recorded_and_not_resumed_on_another_backend(backend, tmp_path):
    # Chosen by KERAS_BACKEND alone, then by --backend over a KERAS_BACKEND that names no backend at all. TensorFlow's
    # reruns are compared by tests/test_reproducible.py: one search of it here, for its record and the refusal.
    first = searched(tmp_path / "first", backend=backend)
    runs = [first]
    if backend != DEFAULT:
        again = searched(tmp_path / "again", "--backend", backend, backend="not-a-backend")
        pd.testing.assert_frame_equal(ranked(again), ranked(first))
        assert histories_without_timings(again) == histories_without_timings(first)
        runs.append(again)
    for run_dir in runs:
        record = json.loads((run_dir / "run.json").read_text())
        assert record["backend"] == backend
        assert record[backend] is not None  # the version of the backend it trained on
    assert {history["backend"] for history in histories_without_timings(first).values()} == {backend}
    if backend != DEFAULT:  # neither --backend nor KERAS_BACKEND: the run is resumed on its own backend
        resumed = search(tmp_path / "first")
        assert resumed.returncode == 0, resumed.stderr

    other = next(name for name in BACKENDS if name != backend)
    record = json.loads((first / "run.json").read_text())
    (first / "run.json").write_text(json.dumps({**record, "backend": other}))  # as if started on the other one
    result = search(tmp_path / "first", "--backend", backend, "--max-trials", "3")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"tuner: {Path('runs') / 'tiny'}: was started on the {other} backend, not {backend}: resume it with"
        f" --backend {other}, or pass --overwrite to start it again on this one"
    ]
    assert len(ranked(first)) == 2  # nothing trained


@pytest.mark.slow
@pytest.mark.parametrize("backend", INSTALLED)
@pytest.mark.parametrize("algorithm", ["random", "grid"])
def test_one_worker_and_two_find_the_same_trials_on_the_backend_asked_for(backend, algorithm, tmp_path):
    if backend == "tensorflow" and algorithm == "random":
        pytest.skip("tests/test_cli_parallel.py compares one and two workers of a random search on TensorFlow")
    search_section = {**SECTIONS["search"], "algorithm": algorithm}
    # KERAS_BACKEND unset: the workers follow the launcher's --backend.
    one = searched(tmp_path / "1", "--workers", "1", "--backend", backend, search=search_section)
    (tmp_path / "2").mkdir()
    write_tiny_space(tmp_path / "2", **{**SECTIONS, "search": search_section})
    result = search(tmp_path / "2", "--workers", "2", "--backend", backend)
    assert result.returncode == 0, result.stderr
    two = tmp_path / "2" / "runs" / "tiny"
    pd.testing.assert_frame_equal(ranked(one), ranked(two))
    trained = [history for run_dir in (one, two) for history in histories_without_timings(run_dir).values()]
    assert {history["backend"] for history in trained} == {backend}
    # worker-1 may join after worker-0 has taken both trials (its start-up is its own framework import), but a
    # worker on another backend is refused by the run and the launcher would say so.
    assert "worker-1 stopped" not in result.stdout + result.stderr


def test_an_unknown_backend_is_one_line_with_exit_code_2(space_file, monkeypatch, capsys):
    space = space_file("data: {source: digits}\n")
    assert main(["validate", str(space), "--backend", "mxnet"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "tuner: --backend: unknown backend 'mxnet'; choose one of tensorflow, jax, torch"
    ]
    monkeypatch.setenv("KERAS_BACKEND", "numpy")
    assert main(["search", str(space)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "tuner: KERAS_BACKEND: unknown backend 'numpy'; choose one of tensorflow, jax, torch"
    ]


def test_a_resumed_run_names_its_own_backend_unless_one_is_asked_for(tmp_path, monkeypatch, capsys):
    space = write_tiny_space(tmp_path, name="tiny.yaml")
    run_dir = tmp_path / "runs" / "tiny"
    run_dir.mkdir(parents=True)
    (run_dir / "space.yaml").write_text(space.read_text())
    (run_dir / "run.json").write_text(json.dumps({"format": 1, "backend": "mxnet"}))  # a backend of the future
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert main(["search", str(space)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"tuner: {Path('runs') / 'tiny'}: unknown backend 'mxnet'; choose one of tensorflow, jax, torch"
    ]
    monkeypatch.setenv("KERAS_BACKEND", "neither")  # asked for: the run's own is not consulted
    assert main(["search", str(space)]) == 2
    assert "KERAS_BACKEND: unknown backend 'neither'" in capsys.readouterr().err


@pytest.mark.skipif(not MISSING, reason="every backend is installed here")
def test_a_backend_that_is_not_installed_is_one_line_naming_its_extra(space_file, capsys):
    space = space_file("data: {source: digits}\n")
    assert main(["validate", str(space), "--backend", MISSING[0]]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"tuner: --backend: the {MISSING[0]} backend is not installed: pip install 'tuner[{MISSING[0]}]'"
    ]
