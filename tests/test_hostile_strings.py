"""Hostile names and values (markup, quotes, newlines, right-to-left marks) show literally in every report,
and an image folder's symbolic links never lead out of it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from tests.helpers import write_classes, write_image
from tuner.data.folder import list_folder
from tuner.engine.per_class import write_per_class
from tuner.errors import InputError
from tuner.reports.html import environment, render_report
from tuner.reports.per_class import load_per_class
from tuner.reports.ranking import rank
from tuner.reports.records import load_run
from tuner.reports.terminal import as_text, per_class_line, top_table
from tuner.testing.rundirs import FakeTrial, choice, digits_space, random_trials, write_run

HOSTILE = [
    "</script><script>alert(1)</script>",
    "<script>alert(2)</script>",
    '" onmouseover="alert(3)',
    "it's",
    "two\nlines",
    "evil\u202etxt.exe",
    "[bold]loud[/]",
    "[/]",
    "\x1b[31mred",
]
SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _hostile_run(tmp_path: Path, name: str) -> Path:
    space = [*digits_space(), choice("activation", HOSTILE)]
    trials = random_trials(len(HOSTILE), space=space)
    for trial, value in zip(trials, HOSTILE, strict=True):
        trial.values["activation"] = value
    failed = [
        FakeTrial(values=dict(trials[0].values), status="FAILED", message=f"ValueError: {message}")
        for message in HOSTILE
    ]
    run_dir = write_run(tmp_path / "run", [*trials, *failed], name=name, space=space)
    # The class folders are named with them too: every class is found, each mistaken once for the next.
    labels = np.arange(len(HOSTILE))
    write_per_class(run_dir, "0", HOSTILE, {"validation": (labels, np.roll(labels, 1))})
    return run_dir


@pytest.mark.parametrize("hostile", [HOSTILE[0], HOSTILE[2], HOSTILE[5]])
def test_report_html_escapes_a_hostile_run_name_value_and_message(tmp_path, hostile):
    run = load_run(_hostile_run(tmp_path, name=hostile))
    html = render_report(run, rank(run.trials))
    template = environment().loader.get_source(environment(), "report.html.j2")[0]
    # The one script is the template's own, unchanged: nothing from the run is inside or after a </script>.
    assert SCRIPT.findall(html) == SCRIPT.findall(template)
    for text in HOSTILE:
        if any(mark in text for mark in "<>\"'"):
            assert text not in html
    assert "\u202e" not in html and "\x1b" not in html
    assert "evil\\u202etxt.exe" in html and "\\x1b[31mred" in html
    assert "&#34; onmouseover=&#34;alert(3)" in html and "it&#39;s" in html
    assert html.count('<th scope="row">evil\\u202etxt.exe</th>') == 1  # the confusion matrix's row


def test_terminal_table_prints_markup_and_controls_literally_one_row_per_trial(tmp_path):
    run = load_run(_hostile_run(tmp_path, name="[/]"))
    ranked = rank(run.trials)
    console = Console(width=400, record=True, color_system=None)
    console.print(top_table(ranked, len(HOSTILE), title="top trials of [/]"))
    text = console.export_text()
    assert "top trials of [/]" in text
    assert "[bold]loud[/]" in text and "two\\nlines" in text and "evil\\u202etxt.exe" in text
    assert "\u202e" not in text and "\x1b" not in text
    rows = [line for line in text.splitlines() if re.match(r"^│\s+\d+ │", line)]
    assert len(rows) == len(HOSTILE)


def test_per_class_line_under_the_table_stays_one_printable_line(tmp_path):
    line = per_class_line(load_per_class(_hostile_run(tmp_path, name="run")))
    assert line.isprintable() and line.startswith("best trial 0 on validation: accuracy 0.00")


def test_markdown_keeps_one_line_per_trial(tmp_path):
    ranked = rank(load_run(_hostile_run(tmp_path, name="run")).trials)
    lines = as_text(ranked, len(HOSTILE), "md").splitlines()
    assert len(lines) == 2 + len(HOSTILE)
    assert all(line.startswith("| ") and line.endswith(" |") for line in lines[2:])
    assert "two\\nlines" in "\n".join(lines)


def _folder_with_links(tmp_path: Path) -> Path:
    root = write_classes(tmp_path / "images", {"cat": 2, "dog": 2})
    outside = write_classes(tmp_path / "elsewhere", {"fox": 2})
    write_image(tmp_path / "secret.png")
    (root / "dog" / "inside.png").symlink_to(root / "cat" / "000.png")  # a link within the folder: followed
    (root / "dog" / "secret.png").symlink_to(tmp_path / "secret.png")  # a file outside
    (root / "fox").symlink_to(outside / "fox")  # a class outside
    (root / "loop").symlink_to(root)  # back up to the folder itself
    (root / "cat" / "self.png").symlink_to(root / "cat" / "self.png")  # a link to itself
    (root / "cat" / "up.png").symlink_to(root / "cat" / "../../secret.png")  # out through ..
    return root


def test_image_folder_follows_no_link_out_of_itself_or_round_a_loop(tmp_path):
    listing = list_folder(_folder_with_links(tmp_path))
    assert listing.class_names == ("cat", "dog")
    assert sorted(listing.names) == ["cat/000.png", "cat/001.png", "dog/000.png", "dog/001.png", "dog/inside.png"]


def test_named_class_behind_a_link_out_of_the_folder_is_not_read(tmp_path):
    root = _folder_with_links(tmp_path)
    with pytest.raises(InputError, match="holds no images, but class_names lists 'fox'"):
        list_folder(root, class_names=["cat", "fox"])
