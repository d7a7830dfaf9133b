"""Write a run's reports, results.csv, report.html and per_class.csv, atomically, so an interrupted run still has
current ones."""

from __future__ import annotations

from pathlib import Path

from tuner.reports.html import LIVE_MARK, render_report
from tuner.reports.ranking import rank
from tuner.reports.records import load_run
from tuner.reports.trials import Trials
from tuner.rundir import files, layout


def write_reports(
    run_dir: Path, csv_path: Path | None = None, html_path: Path | None = None, live: bool = False
) -> Trials:
    """Rank the run's trials, write the CSV and the HTML report (by default inside the run) and return the ranking.

    Where the run has per-class results, ``per_class.csv`` is written next to the CSV. A ``live`` report, written
    while the search runs, reloads itself in the browser; the search's last write makes it still.
    """
    run = load_run(run_dir)
    ranked = rank(run.trials)
    csv_path = csv_path or run_dir / layout.RESULTS_FILE
    files.write_atomic(csv_path, ranked.frame.to_csv(index=False))
    if run.per_class is not None:
        files.write_atomic(csv_path.with_name(layout.PER_CLASS_CSV), run.per_class.frame().to_csv(index=False))
    files.write_atomic(html_path or run_dir / layout.REPORT_FILE, render_report(run, ranked, live))
    return ranked


def is_live(html_path: Path) -> bool:
    """Whether a report on disk is one a running search wrote (it reloads itself): ``tuner report`` keeps it so."""
    try:
        with html_path.open(encoding="utf-8") as stream:
            return LIVE_MARK in stream.read(4096)
    except FileNotFoundError:
        return False
