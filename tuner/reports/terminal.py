"""The ranked trials as text: a rich table for the terminal, or Markdown, CSV and JSON for pipes; and the best
trial's per-class results as one line under the table."""

from __future__ import annotations

import math

import pandas as pd
from rich.table import Table
from rich.text import Text

from tuner.reports.pareto import smallest_near_best
from tuner.reports.per_class import PerClass
from tuner.reports.records import HP_PREFIX
from tuner.reports.trials import Trials
from tuner.text import visible

SHORT_HEADERS = {
    "conv_blocks": "blocks",
    "learning_rate": "lr",
    "batch_size": "batch",
    "dense_units": "dense",
    "optimizer": "opt",
    "momentum": "mom",
    "dropout": "drop",
    "kernel_size": "kernel",
    "batch_norm": "bn",
}


def header(name: str) -> str:
    """A narrow column header for a hyperparameter, so the table fits a terminal."""
    if name.startswith("filters_"):
        return f"f{name.removeprefix('filters_')}"
    return SHORT_HEADERS.get(name, name)


def summary_columns(ranked: Trials, top: int, leading: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(column, header) pairs a reader scans: rank, trial, objective and its spread, size, tuned hyperparameters."""
    frame = ranked.frame
    shown = frame.head(top)
    columns = [("rank", "rank"), *((column, column) for column in leading), ("trial", "trial")]
    if not shown.empty and (shown["status"] != "completed").any():
        columns += [("status", "status"), ("message", "reason")]
    columns.append(("objective", ranked.objective))
    if "restarts" in frame.columns and (frame["restarts"].fillna(0) > 1).any():
        columns += [("objective_std", "± std"), ("objective_best", "best")]
    if "params" in frame.columns and frame["params"].notna().any():
        columns.append(("params", "params"))
    tuned = [f"{HP_PREFIX}{name}" for name in ranked.tuned]
    columns += [(column, header(column.removeprefix(HP_PREFIX))) for column in tuned if column in frame.columns]
    return columns


def top_table(ranked: Trials, top: int, title: str = "", leading: tuple[str, ...] = ()) -> Table:
    """The best ``top`` trials as a rich table, with any ``leading`` columns after the rank."""
    table = Table(title=Text(visible(title)) if title else None, header_style="bold")
    columns = summary_columns(ranked, top, leading)
    numeric = {"rank", "objective", "objective_std", "objective_best", "params"}
    for column, name in columns:
        table.add_column(
            Text(visible(name)), justify="right" if column in numeric else "left", no_wrap=column != "message"
        )
    for _, row in ranked.frame.head(top).iterrows():
        table.add_row(*(literal(row[column]) for column, _ in columns))
    return table


def literal(value: object) -> Text:
    """A cell as literal text on one line: a run, class or value named ``[bold]`` or ``a\\nb`` prints as written."""
    return Text(visible(cell(value)))


def per_class_line(per_class: PerClass) -> str:
    """One line: each set's accuracy, balanced accuracy and the class found least often, the first thing to fix."""
    parts = []
    for results in per_class.sets:
        lowest = results.lowest_recall()
        if lowest is None:
            parts.append(f"on {results.name}: no samples")
            continue
        name, recall = lowest
        parts.append(
            f"on {results.name}: accuracy {results.accuracy:.2f}, balanced accuracy {results.balanced_accuracy:.2f},"
            f" lowest recall {name} {recall:.2f}"
        )
    return visible(f"best trial {per_class.trial} " + "; ".join(parts))


def markdown(ranked: Trials, top: int) -> str:
    """The same columns as the terminal table, as a Markdown table."""
    columns = summary_columns(ranked, top)
    lines = ["| " + " | ".join(name for _, name in columns) + " |", "|" + "---|" * len(columns)]
    for _, row in ranked.frame.head(top).iterrows():
        lines.append("| " + " | ".join(visible(cell(row[column])).replace("|", "\\|") for column, _ in columns) + " |")
    return "\n".join(lines) + "\n"


def as_text(ranked: Trials, top: int, form: str) -> str:
    """The best ``top`` trials as ``csv`` or ``json`` (every column) or ``md`` (the summary columns)."""
    if form == "md":
        return markdown(ranked, top)
    if form == "json":
        return ranked.frame.head(top).to_json(orient="records", indent=1) + "\n"
    return ranked.frame.head(top).to_csv(index=False)


def cell(value: object) -> str:
    """A compact text for one table cell; missing values show as blank."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


FRONT_COLUMNS = ("rank", "trial", "objective", "params", "macs", "latency_ms", "latency_batch_ms", "model_kb")


def pareto_table(ranked: Trials) -> Table:
    """The trials on the Pareto front of objective, parameters and latency, best objective first."""
    front = ranked.frame[ranked.frame["pareto"].astype(bool)]
    columns = [column for column in FRONT_COLUMNS if column in front.columns]
    table = Table(title=f"Pareto front: {ranked.objective} against parameters and latency", header_style="bold")
    for column in columns:
        table.add_column(ranked.objective if column == "objective" else column, justify="right")
    for _, row in front.iterrows():
        table.add_row(*(literal(row[column]) for column in columns))
    return table


def smallest_line(ranked: Trials) -> str | None:
    """The smallest model within 1% of the best, as a line under the table; None without a completed trial."""
    small = smallest_near_best(ranked)
    if small is None:
        return None
    latency = (
        f", {cell(small['latency_ms'])} ms per image" if "latency_ms" in small and pd.notna(small["latency_ms"]) else ""
    )
    return (
        f"smallest model within 1% of the best: trial {small['trial']}, rank {small['rank']},"
        f" {int(small['params']):,} parameters{latency}, {ranked.objective} {cell(small['objective'])}"
    )
