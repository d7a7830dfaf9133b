"""The fuzz benchmark runs end to end at a tiny size and counts every outcome."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_bench


@pytest.mark.slow
def test_fuzz_benchmark_counts_every_outcome_and_judges_them(tmp_path):
    results = tmp_path / "fuzz_spaces.json"
    done = run_bench("fuzz_spaces.py", "--cases", "200", "--workers", "1", "--results", str(results))
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(results.read_text(encoding="utf-8"))
    assert sum(figures["outcomes"].values()) == 200 and figures["missed"] == []
    assert figures["other_exceptions"]["value"] == 0 and 0 < figures["peak_rss_mb"]["value"] < 300
    assert "200 space files, seeds 0-199" in done.stdout
