"""Every Keras backend installed here searches through the console script: bit-identical reruns, the same trials
with one worker or two, the backend recorded in the run and a resume on another one refused."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import tuner_executable, write_tiny_space
from tuner.backend.selection import BACKENDS
from tuner.cli.main import main

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


def ranked(run_dir: Path) -> pd.DataFrame:
    """What must not depend on reruns or workers: each ranked trial and its objective."""
    return pd.read_csv(run_dir / "results.csv")[["trial", "objective"]]


def epochs(run_dir: Path) -> dict[str, list[dict[str, float]]]:
    """Every restart's epochs without their timings, by history file."""
    return {
        path.name: [
            {name: value for name, value in epoch.items() if name != "seconds"}
            for epoch in json.loads(path.read_text())["epochs"]
        ]
        for path in sorted((run_dir / "history").glob("*.json"))
    }


@pytest.fixture(scope="module", params=INSTALLED)
def first_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A search on each installed backend, chosen through KERAS_BACKEND alone: (backend, its run directory)."""
    backend = request.param
    folder = tmp_path_factory.mktemp(f"first-{backend}")
    write_tiny_space(folder, **SECTIONS)
    result = search(folder, backend=backend)
    assert result.returncode == 0, result.stderr
    return backend, folder / "runs" / "tiny"


@pytest.mark.slow
def test_keras_backend_is_honoured_and_recorded_with_its_version(first_run):
    backend, run_dir = first_run
    record = json.loads((run_dir / "run.json").read_text())
    assert record["backend"] == backend
    assert record[backend] is not None  # the version of the backend it trained on
    assert len(ranked(run_dir)) == 2


@pytest.mark.slow
def test_a_rerun_is_bit_identical_and_backend_overrides_keras_backend(first_run, tmp_path):
    backend, run_dir = first_run
    write_tiny_space(tmp_path, **SECTIONS)
    # A KERAS_BACKEND that names no backend at all: --backend alone decides.
    result = search(tmp_path, "--backend", backend, backend="not-a-backend")
    assert result.returncode == 0, result.stderr
    again = tmp_path / "runs" / "tiny"
    assert json.loads((again / "run.json").read_text())["backend"] == backend
    pd.testing.assert_frame_equal(ranked(again), ranked(run_dir))
    assert epochs(again) == epochs(run_dir)


@pytest.mark.slow
def test_a_run_is_not_resumed_on_another_backend(first_run, tmp_path):
    backend, run_dir = first_run
    other = next(name for name in BACKENDS if name != backend)
    write_tiny_space(tmp_path, **SECTIONS)
    moved = tmp_path / "runs" / "tiny"
    shutil.copytree(run_dir, moved)
    record = json.loads((moved / "run.json").read_text())
    (moved / "run.json").write_text(json.dumps({**record, "backend": other}))  # as if started on the other one

    result = search(tmp_path, "--backend", backend, "--max-trials", "3")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"tuner: {Path('runs') / 'tiny'}: was started on the {other} backend, not {backend}: resume it with"
        f" --backend {other}, or pass --overwrite to start it again on this one"
    ]
    assert len(ranked(moved)) == 2  # nothing trained


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["random", "grid"])
def test_one_worker_and_two_find_the_same_trials_on_the_backend_asked_for(first_run, algorithm, tmp_path):
    backend, run_dir = first_run
    if backend == "tensorflow" and algorithm == "random":
        pytest.skip("tests/test_cli_parallel.py compares one and two workers of a random search on TensorFlow")
    results = []
    for workers in ("1", "2"):
        folder = tmp_path / workers
        folder.mkdir()
        write_tiny_space(folder, **{**SECTIONS, "search": {**SECTIONS["search"], "algorithm": algorithm}})
        # Unset KERAS_BACKEND: the workers follow --backend.
        result = search(folder, "--workers", workers, "--backend", backend)
        assert result.returncode == 0, result.stderr
        results.append(ranked(folder / "runs" / "tiny"))
    pd.testing.assert_frame_equal(results[0], results[1])
    if algorithm == "random":  # the same trials as the search in one process: the workers trained on that backend
        pd.testing.assert_frame_equal(results[0], ranked(run_dir))


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


@pytest.mark.skipif(not MISSING, reason="every backend is installed here")
def test_a_backend_that_is_not_installed_is_one_line_naming_its_extra(space_file, capsys):
    space = space_file("data: {source: digits}\n")
    assert main(["validate", str(space), "--backend", MISSING[0]]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"tuner: --backend: the {MISSING[0]} backend is not installed: pip install 'tuner[{MISSING[0]}]'"
    ]
