"""The data-at-scale benchmark measures every figure on a tiny folder."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_bench

FIGURES = ("decode_200", "warm_200", "memory_200", "throughput_digits", "throughput_200")


@pytest.mark.slow
def test_data_scale_measures_every_figure(tmp_path):
    results = tmp_path / "data_scale.json"
    done = run_bench("data_scale.py", "--quick", "--images", str(tmp_path / "images"), "--results", str(results))
    figures = json.loads(results.read_text())
    assert done.returncode == (1 if figures["missed"] else 0), done.stdout + done.stderr
    for name in FIGURES:
        assert {"value", "target", "held"} <= set(figures[name]), name
    detail = figures["memory_200_detail"]
    # The peak may fall while a worker is starting or gone: both processes must each have been sampled.
    assert {"launcher+chief+worker-0", "worker-1"} <= set(detail["per_process"]), detail
    assert 1 <= detail["processes"] <= len(detail["per_process"]), detail
    assert len(figures["decode_200_s"]["tuner_warm"]) == 1 and figures["memory_spread"] is None
