"""Write a run's reports, results.csv, report.html and per_class.csv, atomically, so an interrupted run still has
current ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


class ReportPacer:
    """When a running search rewrites its live reports: often, but never for more than about ``share`` of its time.

    A rewrite reads and renders every trial, so it costs more as the run grows; after every trial, a search of
    hundreds of short trials would spend more and more of each trial on its reports. A rewrite is due once the time
    since the last one is ``1 / share - 1`` times what that one took, and at least ``every`` seconds.
    """

    def __init__(self, every: float = 0.0, share: float = 0.1) -> None:
        self.every = every
        self.share = share
        self.due_at = time.monotonic() + every

    def due(self) -> bool:
        """Whether the next rewrite may run now."""
        return time.monotonic() >= self.due_at

    def write(self, action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``action`` (a rewrite) and schedule the next one from how long it took; returns what it returned."""
        started = time.monotonic()
        result = action(*args, **kwargs)
        took = time.monotonic() - started
        self.due_at = started + took + max(self.every, took * (1 / self.share - 1))
        return result
