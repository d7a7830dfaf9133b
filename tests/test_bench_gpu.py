"""The prepared GPU check runs here on the CPU: both searches, the bare fits and every figure, at a tiny size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_datasets import plant_fashion

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_gpu_check_measures_both_searches_against_a_bare_fit(tmp_path):
    fashion = tmp_path / "fashion"
    plant_fashion(tmp_path, train=60, test=20, folder=fashion)
    results = tmp_path / "gpu.json"
    flags = ["--backends", "tensorflow", "--quick", "--fashion", str(fashion), "--results", str(results)]
    done = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu" / "run.sh"), *flags],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": sys.executable},
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(results.read_text(encoding="utf-8"))
    for task in ("default", "fashion"):
        assert figures[f"tensorflow_{task}_wall_s"] > 0
        assert figures[f"tensorflow_{task}_images_per_s"] > 0
        assert 0 < figures[f"tensorflow_{task}_vs_bare_fit"] < 10
        assert figures[f"tensorflow_{task}_gpu_utilisation"] == []  # no nvidia-smi on a CPU machine
    assert "tensorflow_fashion_gpu_utilisation: n/a (no nvidia-smi)" in done.stdout
