"""The soak benchmark samples memory, descriptors and the report rewrite after every trial, at a tiny size."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_bench


@pytest.mark.slow
def test_soak_samples_every_trial_and_judges_its_figures(tmp_path):
    results = tmp_path / "soak.json"
    done = run_bench("soak.py", "--trials", "5", "--warmup", "2", "--results", str(results))
    figures = json.loads(results.read_text())
    assert done.returncode == (1 if figures["missed"] else 0), done.stdout + done.stderr
    samples = figures["samples"]
    assert len(samples) == 5 and figures["trials"] == 5
    assert all(s["rss_mb"] >= s["pss_mb"] > 0 and s["fds"] >= 3 and s["report_s"] >= 0 for s in samples)
    assert samples[0]["report_s"] > 0  # the first trial's rewrite is always due
    assert {"rss_growth_mb", "fd_growth", "report_ratio"} <= set(figures)
    assert figures["rss_growth_mb"]["target"] == 50.0
    assert "resident set" in done.stdout and "report rewrite" in done.stdout
