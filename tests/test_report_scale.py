import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "bench" / "report_scale.py"


@pytest.mark.slow
def test_benchmark_runs_at_tiny_size_and_prints_its_figures():
    # A generous target: this checks that the benchmark works, not the machine's speed.
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--trials", "8", "--restarts", "2", "--repeat", "1", "--target", "120"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tuner report median:" in result.stdout and "results.csv rows: 8" in result.stdout


@pytest.mark.slow
def test_benchmark_fails_when_the_target_is_missed():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--trials", "3", "--repeat", "1", "--target", "0.001"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1 and "FAIL" in result.stdout
