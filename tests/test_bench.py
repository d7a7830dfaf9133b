"""The parallel benchmark runs end to end (tiny: it checks the comparison, not the speed target)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_bench


@pytest.mark.slow
def test_parallel_benchmark_compares_one_and_two_workers(tmp_path):
    results = tmp_path / "parallel.json"
    result = run_bench(
        "parallel.py", "--trials", "2", "--epochs", "1", "--target", "0", "--results", str(results), timeout=400
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "trials: 2"
    assert lines[1].startswith("one_worker_s: ") and " CPU s" in lines[1]
    assert lines[2].startswith("two_workers_s: ")
    assert lines[3].startswith("speedup_bound: ")
    assert lines[4].startswith("speedup: ") and lines[4].endswith("(target >= 0) ok")
    assert lines[5] == "ranked_losses_identical: yes"
    figures = json.loads(results.read_text(encoding="utf-8"))
    assert figures["ranked_losses_identical"] is True and figures["missed"] == []
