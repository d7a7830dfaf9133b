"""The overhead benchmark runs end to end at a tiny size (it checks the figures and the verdict, not the speed)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_bench


@pytest.mark.slow
def test_overhead_prints_both_ratios_and_judges_the_tools(tmp_path):
    results = tmp_path / "overhead.json"
    done = run_bench("overhead.py", "--trials", "2", "--epochs", "1", "--target", "0.01", "--results", str(results))
    assert done.returncode == 1, done.stdout + done.stderr  # no search costs only 1% of its training
    figures = json.loads(results.read_text())
    assert figures["missed"] == ["tool_overhead"]
    assert figures["tool_overhead"]["value"] == figures["tool_search_s"] / figures["tool_bare_fit_s"] > 1.0
    assert "by_hand_overhead: " in done.stdout and "tool_overhead: " in done.stdout
    assert "for 2 trials" in done.stdout
