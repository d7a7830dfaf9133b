import time
from pathlib import Path

import pandas as pd

from tuner.reports.writer import ReportPacer, write_reports
from tuner.testing.rundirs import FakeTrial, random_trials, write_run


def test_both_reports_are_written_atomically_in_the_run(tmp_path: Path):
    trials = random_trials(4)
    trials.append(FakeTrial(values=dict(trials[0].values), status="FAILED", message="ValueError: boom"))
    run_dir = write_run(tmp_path / "run", trials)
    ranked = write_reports(run_dir)
    assert (run_dir / "report.html").read_text().startswith("<!DOCTYPE html>")
    csv = pd.read_csv(run_dir / "results.csv", dtype={"trial": str})
    assert list(csv.columns) == list(ranked.frame.columns)
    assert list(csv.columns[:9]) == [
        "rank",
        "trial",
        "status",
        "message",
        "objective",
        "objective_std",
        "objective_best",
        "restarts",
        "accuracy",
    ]
    assert csv["status"].tolist()[-1] == "failed" and csv["message"].tolist()[-1] == "ValueError: boom"
    assert not list(run_dir.glob(".*.tmp"))


def test_report_paths_can_be_chosen(tmp_path: Path):
    run_dir = write_run(tmp_path / "run", random_trials(2))
    write_reports(run_dir, tmp_path / "out" / "r.csv", tmp_path / "out" / "r.html")
    assert (tmp_path / "out" / "r.csv").exists() and (tmp_path / "out" / "r.html").exists()
    assert not (run_dir / "results.csv").exists()


def test_results_csv_shows_stepped_floats_as_their_steps_and_stepless_ones_exactly(tmp_path: Path):
    trials = random_trials(2)
    trials[0].values.update(dropout=0.30000000000000004, learning_rate=0.0031622776601683794)
    trials[1].values.update(dropout=0.1 + 0.2)
    run_dir = write_run(tmp_path / "run", trials)
    write_reports(run_dir)
    text = (run_dir / "results.csv").read_text()
    assert ",0.3," in text and "0.30000000000000004" not in text
    assert "0.0031622776601683794" in text


def test_a_paced_rewrite_waits_nine_times_as_long_as_the_last_one_took():
    pacer = ReportPacer()
    assert pacer.due()
    started = time.monotonic()
    assert pacer.write(lambda: time.sleep(0.05) or "ranked") == "ranked"
    assert pacer.due_at - started >= 0.5 and not pacer.due()
    # The chief's: never more often than every 5 s, and not before 5 s have passed.
    chief = ReportPacer(every=5.0)
    assert not chief.due()
    chief.write(lambda: None)
    assert chief.due_at - time.monotonic() > 4.5
