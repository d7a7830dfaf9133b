"""The parallel benchmark runs end to end (tiny: it checks the comparison, not the speed target)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "parallel.py"


def test_parallel_benchmark_compares_one_and_two_workers(tmp_path):
    result = subprocess.run(
        [sys.executable, str(BENCH), "--trials", "2", "--epochs", "1", "--target", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "trials: 2"
    assert lines[1].startswith("1 worker: ") and lines[2].startswith("2 workers: ")
    assert lines[3].startswith("speed-up: ") and lines[3].endswith("(target 0.00x)")
    assert lines[4] == "ranked losses identical: yes"
