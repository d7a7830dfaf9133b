"""The backend comparison runs one tiny search on every installed backend and reports each side by side."""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests.helpers import run_bench, write_tiny_space


@pytest.mark.slow
def test_backends_benchmark_reports_each_installed_backend(tmp_path):
    space = write_tiny_space(tmp_path, search={"max_trials": 1})
    results = tmp_path / "backends.json"
    args = ("--skip-fashion", "--default-space", str(space), "--results", str(results))
    done = run_bench("backends.py", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(results.read_text(encoding="utf-8"))
    installed = [name for name in ("tensorflow", "jax", "torch") if importlib.util.find_spec(name) is not None]
    assert figures["backends"] == installed
    for backend in installed:
        assert figures[f"default_{backend}"]["wall_s"] > 0 and figures[f"default_{backend}"]["trial"] == 0
