"""The prepared GPU check runs here on the CPU: the Fashion-MNIST-sized search, its bare fit and every figure, at a
tiny size (the default search goes through the same code)."""

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
def test_the_gpu_check_measures_a_search_against_a_bare_fit(tmp_path):
    fashion = tmp_path / "fashion"
    plant_fashion(tmp_path, train=60, test=20, folder=fashion)
    results = tmp_path / "gpu.json"
    flags = ["--backends", "tensorflow", "--quick", "--tasks", "fashion", "--fashion", str(fashion)]
    done = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu" / "run.sh"), *flags, "--results", str(results)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": sys.executable},
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(results.read_text(encoding="utf-8"))
    assert figures["tensorflow_fashion_wall_s"] > 0 and figures["tensorflow_fashion_images_per_s"] > 0
    assert 0 < figures["tensorflow_fashion_vs_bare_fit"] < 10
    assert figures["tensorflow_fashion_gpu_utilisation"] == []  # no nvidia-smi on a CPU machine
    assert "tensorflow_default_wall_s" not in figures
    assert "tensorflow_fashion_gpu_utilisation: n/a (no nvidia-smi)" in done.stdout
