"""The run's report as one self-contained HTML file: summary, sortable ranked table, per-class results of the best
trial, plots and importance.

Rendered with Jinja2 with autoescaping on, so every string from the YAML or the data is escaped; the plots
are inline SVG built by ``reports.plots``, which escapes its own texts. Nothing is fetched when it is viewed.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jinja2
import pandas as pd
import yaml
from markupsafe import Markup

from tuner.reports import plots
from tuner.reports.importance import importance
from tuner.reports.pareto import smallest_near_best
from tuner.reports.per_class import PerClass, SetResults
from tuner.reports.records import HP_PREFIX, LEADING, TRAILING, Run
from tuner.reports.terminal import cell, header
from tuner.reports.trials import Trials
from tuner.text import visible

CURVE_TRIALS = 5
SPREAD_TRIALS = 12
# Past this many classes a confusion matrix is a wall of numbers; the per-class table stays, the matrix is left out.
MATRIX_CLASSES = 20
CSV_ONLY = ("macs", "latency_batch_ms", "model_kb")
REFRESH_SECONDS = 5  # a live report's reload period: new trials end seconds apart at the fastest
LIVE_MARK = 'http-equiv="refresh"'


@functools.cache
def environment() -> jinja2.Environment:
    """The template environment: package templates, autoescape on, undefined names are errors."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("tuner.reports", "templates"),
        autoescape=True,
        finalize=_shown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _shown(value: Any) -> Any:
    """Every text the template prints with controls and bidirectional marks (U+202E) as visible escapes, so a
    name cannot reorder or hide what follows it; newlines stay for the resolved space's <pre>."""
    return visible(value, keep="\n") if isinstance(value, str) and not isinstance(value, Markup) else value


def render_report(run: Run, ranked: Trials, live: bool = False) -> str:
    """The whole report of ``run`` as an HTML string; ``live``: it reloads itself every few seconds."""
    weights = importance(ranked)
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            title=str(run.space.get("name", run.run_dir.name)),
            refresh_seconds=REFRESH_SECONDS if live else None,
            live_mark=LIVE_MARK,
            summary=summary(run, ranked),
            space_yaml=yaml.safe_dump(run.space, sort_keys=False),
            columns=table_columns(ranked),
            rows=table_rows(ranked),
            plots=figures(run, ranked, weights),
            per_hyperparameter=[
                Markup(plots.objective_vs_hyperparameter(ranked.frame, item, run.objective))
                for item in run.hyperparameters
                if item["class_name"] != "Fixed"
            ],
            has_importance=not weights.empty,
            per_class=per_class_view(run.per_class),
        )
    )


def summary(run: Run, ranked: Trials) -> list[tuple[str, str]]:
    """(label, value) pairs describing the run at a glance."""
    space, frame = run.space, ranked.frame
    search, training, data = space.get("search", {}), space.get("training", {}), space.get("data", {})
    counts = frame["status"].value_counts() if not frame.empty else pd.Series(dtype=int)
    best = frame[frame["rank"] == 1]
    budget = f"{search.get('max_trials')} trials, {training.get('epochs')} epochs"
    budget += f", {training.get('restarts', 1)} restart(s) each"
    if search.get("max_time"):
        budget += f", at most {duration(search['max_time'])}"
    small = smallest_near_best(ranked)
    extra: list[tuple[str, str]] = []
    if small is not None:
        smallest = (
            f"trial {small['trial']}: {int(small['params']):,} parameters, {run.objective} {cell(small['objective'])}"
        )
        extra.append(("smallest model within 1% of the best", smallest))
    if run.budget.get("stopped_on_time"):
        extra.append(("stopped", f"on time: {duration(run.budget.get('spent'))} spent; raise search.max_time to go on"))
    fixed = [
        f"{item['config']['name']}={item['config']['value']}"
        for item in run.hyperparameters
        if "value" in item["config"]
    ]
    return [
        ("run", str(space.get("name", run.run_dir.name))),
        ("data", " ".join(str(part) for part in (data.get("source"), data.get("path")) if part)),
        ("algorithm", str(search.get("algorithm", ""))),
        ("objective", f"{run.objective} ({run.direction}imised)"),
        ("budget", budget),
        ("seed", str(space.get("seed", ""))),
        ("wall time", duration(run.wall_seconds)),
        ("trials", ", ".join(f"{count} {status}" for status, count in counts.items()) or "none yet"),
        (
            "best trial",
            f"{best['trial'].iloc[0]}: {run.objective} {cell(best['objective'].iloc[0])}" if len(best) else "none yet",
        ),
        ("fixed", ", ".join(fixed)),
        *extra,
    ]


def duration(seconds: float | None) -> str:
    """Seconds as ``1h 02m 03s``, or blank when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def table_columns(ranked: Trials) -> list[tuple[str, str]]:
    """(column, header) pairs of the HTML table: everything but fixed hyperparameters and the failure text."""
    frame = ranked.frame
    tuned = [f"{HP_PREFIX}{name}" for name in ranked.tuned]
    several = "restarts" in frame.columns and (frame["restarts"].fillna(0) > 1).any()
    # The costs a reader weighs against the objective stay; the rest of them are in results.csv.
    skipped = {"message", *CSV_ONLY, *(() if several else ("objective_std", "objective_best", "restarts"))}
    derived = (*LEADING, *TRAILING, "rank", "pareto")
    metrics = [c for c in frame.columns if c not in derived and not c.startswith(HP_PREFIX)]
    names = ["rank", *LEADING, *metrics, *TRAILING, *(["pareto"] if "pareto" in frame.columns else [])]
    columns = [(c, ranked.objective if c == "objective" else c) for c in names if c not in skipped]
    return columns + [(c, header(c.removeprefix(HP_PREFIX))) for c in tuned if c in frame.columns]


def table_rows(ranked: Trials) -> list[dict[str, Any]]:
    """Each trial's cells as (text, sort key), with the failure reason for the status tooltip."""
    columns = [column for column, _ in table_columns(ranked)]
    rows = []
    for record in ranked.frame.to_dict("records"):
        cells = [(cell(record[column]), _sort_key(record[column])) for column in columns]
        rows.append({"status": record["status"], "reason": record["message"] or "", "cells": cells})
    return rows


def _sort_key(value: Any) -> str:
    text = cell(value)
    return repr(float(value)) if text and isinstance(value, (int, float)) and not isinstance(value, bool) else text


def per_class_view(per_class: PerClass | None) -> dict[str, Any] | None:
    """What the per-class section shows: each set's rates and table, and its matrix where it stays readable."""
    if per_class is None:
        return None
    shown = len(per_class.class_names) <= MATRIX_CLASSES
    return {
        "trial": per_class.trial,
        "class_names": per_class.class_names,
        "sets": [
            {
                "name": results.name,
                "samples": results.samples,
                "accuracy": cell(results.accuracy),
                "balanced_accuracy": cell(results.balanced_accuracy),
                "rows": [[cell(value) for value in row] for row in results.table().itertuples(index=False)],
                "matrix": confusion_cells(results) if shown else None,
            }
            for results in per_class.sets
        ],
    }


def confusion_cells(results: SetResults) -> list[tuple[str, list[tuple[int, float]]]]:
    """Each true class with its row of (count, share of the row), the share shading the cell."""
    rows = []
    for name, counts in zip(results.class_names, results.confusion.tolist(), strict=True):
        total = sum(counts)
        rows.append((name, [(count, round(count / total, 2) if total else 0.0) for count in counts]))
    return rows


def figures(run: Run, ranked: Trials, weights: pd.DataFrame) -> list[tuple[str, Markup]]:
    """The report's plots with their headings, leaving out those the run has no data for."""
    frame = ranked.frame
    drawn = [
        ("Objective per trial", plots.objective_per_trial(frame, run.objective, run.direction)),
        ("Parallel coordinates", plots.parallel_coordinates(frame, run.hyperparameters, run.objective)),
        (
            f"Learning curves of the top {CURVE_TRIALS} trials",
            plots.learning_curves(frame, run.histories, "val_loss", CURVE_TRIALS),
        ),
        ("Spread over restarts", plots.restart_spread(frame, run.restart_objectives, run.objective, SPREAD_TRIALS)),
        ("Hyperparameter importance", plots.importance_bars(weights)),
        ("Timeline: which worker trained which trial when", plots.timeline(run.timeline)),
        (
            "Objective against model cost (Pareto front in red)",
            plots.objective_vs_cost(frame, "latency_ms", "latency (ms per image)", run.objective)
            + plots.objective_vs_cost(frame, "params", "parameters", run.objective),
        ),
    ]
    return [(heading, Markup(picture)) for heading, picture in drawn if picture]
