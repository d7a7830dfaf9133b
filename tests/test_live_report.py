"""The report while a search runs: it reloads itself until the search's last write, can be served on 127.0.0.1,
and shows which worker trained which trial when."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request

import pytest

from tests.helpers import default_signals, tuner_executable, write_tiny_space
from tuner.reports.writer import is_live, write_reports
from tuner.rundir import layout
from tuner.testing.rundirs import random_trials, write_run

REFRESH = '<meta http-equiv="refresh" content="5">'


def test_a_live_report_reloads_itself_and_a_final_one_does_not(tmp_path):
    run = write_run(tmp_path / "run", random_trials(4))
    write_reports(run, live=True)
    assert REFRESH in (run / "report.html").read_text(encoding="utf-8")
    assert is_live(run / "report.html")
    write_reports(run)
    assert "refresh" not in (run / "report.html").read_text(encoding="utf-8")
    assert not is_live(run / "report.html")
    assert not is_live(tmp_path / "missing.html")


def test_tuner_report_keeps_a_running_searchs_report_live(tmp_path, run_tuner):
    run = write_run(tmp_path / "run", random_trials(4))
    write_reports(run, live=True)
    assert run_tuner("report", str(run)).returncode == 0
    assert REFRESH in (run / "report.html").read_text(encoding="utf-8")


def test_the_timeline_has_a_lane_per_worker_and_a_bar_per_training_run(tmp_path):
    run = write_run(tmp_path / "run", random_trials(4))
    for index, path in enumerate(sorted((run / layout.HISTORY_DIR).glob("*.json"))):
        record = json.loads(path.read_text())
        path.write_text(json.dumps({**record, "worker": f"worker-{index % 2}"}))
    write_reports(run)
    html = (run / "report.html").read_text(encoding="utf-8")
    assert "Timeline: which worker trained which trial when" in html
    assert html.count("on worker-0: ") == 2 and html.count("on worker-1: ") == 2
    assert ">worker-0</text>" in html and ">worker-1</text>" in html


def test_serve_answers_on_loopback_with_the_report_and_stops_on_ctrl_c(tmp_path):
    run = write_run(tmp_path / "run", random_trials(3))
    server = subprocess.Popen(
        [tuner_executable(), "report", str(run), "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        line = next(line for line in server.stdout if line.startswith("serving "))
        address = line.split()[1]
        assert address.startswith("http://127.0.0.1:") and address.endswith("/report.html")
        with urllib.request.urlopen(address, timeout=10) as answer:
            assert answer.read().decode("utf-8") == (run / "report.html").read_text(encoding="utf-8")
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)
    assert server.returncode == 0


@pytest.mark.slow
def test_a_searchs_report_is_live_while_it_runs_and_still_after(tmp_path):
    space = write_tiny_space(tmp_path, search={"max_trials": 6}, training={"epochs": 3})
    report = tmp_path / "runs" / "tiny" / "report.html"
    search = subprocess.Popen(
        [tuner_executable(), "search", str(space), "--quiet"], cwd=tmp_path, stdout=subprocess.DEVNULL, text=True
    )
    seen_live = False
    while search.poll() is None and not seen_live:
        seen_live = report.exists() and is_live(report)
        time.sleep(0.05)
    search.wait(timeout=300)
    assert seen_live, "the report was never live while the search ran"
    assert search.returncode == 0
    assert not is_live(report)
