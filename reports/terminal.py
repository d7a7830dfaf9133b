"""The ranked trials as a rich table for the terminal."""

from __future__ import annotations

import math

import pandas as pd
from rich.table import Table

from reports.records import HP_PREFIX

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


def top_table(ranked: pd.DataFrame, top: int, title: str = "") -> Table:
    """The best ``top`` trials: rank, trial, objective and every hyperparameter the search varies."""
    objective = ranked.attrs.get("objective", "objective")
    table = Table(title=title or None, header_style="bold")
    tuned = [f"{HP_PREFIX}{name}" for name in ranked.attrs.get("tuned", [])]
    hp_columns = [column for column in tuned if column in ranked.columns]
    for name in ("rank", "trial", objective, *(header(column.removeprefix(HP_PREFIX)) for column in hp_columns)):
        table.add_column(name, justify="right" if name in ("rank", objective) else "left", no_wrap=True)
    for _, row in ranked.head(top).iterrows():
        cells = [_cell(row["rank"]), str(row["trial"]), _cell(row["objective"])]
        cells += [_cell(row[column]) for column in hp_columns]
        table.add_row(*cells)
    return table


def _cell(value: object) -> str:
    """A compact text for one table cell; missing values show as blank."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
