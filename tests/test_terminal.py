import json
from pathlib import Path

from rich.console import Console

from tuner.reports.ranking import rank
from tuner.reports.records import load_trials
from tuner.reports.terminal import as_text, top_table
from tuner.testing.rundirs import random_trials, write_run


def _ranked(tmp_path: Path, restarts: int = 1):
    return rank(load_trials(write_run(tmp_path / "run", random_trials(6, restarts=restarts), restarts=restarts)))


def test_markdown_has_a_header_separator_and_top_rows(tmp_path: Path):
    lines = as_text(_ranked(tmp_path), 3, "md").splitlines()
    assert lines[0].startswith("| rank | trial | val_loss |")
    assert set(lines[1]) <= {"|", "-"}
    assert len(lines) == 2 + 3
    assert lines[2].startswith("| 1 |")


def test_json_and_csv_hold_every_column_of_the_top_rows(tmp_path: Path):
    ranked = _ranked(tmp_path)
    records = json.loads(as_text(ranked, 2, "json"))
    assert [record["rank"] for record in records] == [1, 2]
    assert set(records[0]) == set(ranked.frame.columns)
    assert as_text(ranked, 2, "csv").splitlines()[0].split(",") == list(ranked.frame.columns)


def test_terminal_table_shows_the_spread_when_trials_restarted(tmp_path: Path):
    console = Console(width=250, record=True)
    console.print(top_table(_ranked(tmp_path, restarts=2), 3))
    text = console.export_text()
    assert "± std" in text and "params" in text and "lr" in text
