"""The scale benchmark measures --help, a report and a search's memory at a tiny size."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_bench


@pytest.mark.slow
def test_scale_measures_every_figure(tmp_path):
    results = tmp_path / "scale.json"
    done = run_bench(
        "scale.py",
        "--report-trials",
        "12",
        "--report-repeat",
        "1",
        "--help-repeat",
        "1",
        "--memory-trials",
        "3",
        "--results",
        str(results),
    )
    figures = json.loads(results.read_text())
    assert done.returncode == (1 if figures["missed"] else 0), done.stdout + done.stderr
    assert len(figures["rss_mb"]) == 3 and figures["report_12_s"]["target"] == 2.0
    assert "tuner --help" in done.stdout and "resident set grew" in done.stdout
