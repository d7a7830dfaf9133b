import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tuner.cli.main import main
from tuner.engine.per_class import write_per_class
from tuner.errors import RunFormatError
from tuner.reports.html import MATRIX_CLASSES, render_report
from tuner.reports.per_class import load_per_class
from tuner.reports.ranking import rank
from tuner.reports.records import load_run
from tuner.reports.terminal import per_class_line
from tuner.reports.writer import write_reports
from tuner.testing.rundirs import random_trials, write_run

CLASSES = ["cat", "dog", "bird", "fish"]
# bird is never predicted (precision 0/0); fish is in neither set (recall 0/0); the test set has no bird either.
VALIDATION = (np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 2]), np.array([0, 0, 1, 1, 1, 0, 1, 1, 1, 0]))
TEST = (np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]))


def _run_with_per_class(tmp_path: Path, class_names: list[str] = CLASSES, sets: dict | None = None) -> Path:
    run_dir = write_run(tmp_path / "run", random_trials(4))
    write_per_class(run_dir, "2", class_names, sets or {"validation": VALIDATION, "test": TEST})
    return run_dir


def test_write_per_class_stores_each_sets_confusion_matrix_true_rows_predicted_columns(tmp_path: Path):
    run_dir = write_run(tmp_path / "run", random_trials(2))
    returned = write_per_class(run_dir, "2", CLASSES, {"validation": VALIDATION, "test": TEST})
    stored = json.loads((run_dir / "per_class.json").read_text())
    assert stored == returned
    assert stored["trial"] == "2" and stored["class_names"] == CLASSES
    assert stored["sets"]["validation"] == {
        "samples": 10,
        "confusion": [[2, 1, 0, 0], [0, 2, 0, 0], [2, 3, 0, 0], [0, 0, 0, 0]],
    }
    assert stored["sets"]["test"] == {"samples": 4, "confusion": [[2, 0, 0, 0], [1, 1, 0, 0], [0] * 4, [0] * 4]}
    assert not list(run_dir.glob(".*.tmp"))


def test_class_indices_past_the_class_names_are_refused_rather_than_dropped(tmp_path: Path):
    with pytest.raises(ValueError, match=r"test: class indices \[4\] are not in 0..3"):
        write_per_class(tmp_path, "0", CLASSES, {"test": (np.array([0, 4]), np.array([0, 1]))})
    assert not (tmp_path / "per_class.json").exists()


def test_the_writer_imports_no_deep_learning_framework():
    code = (
        "import sys\n"
        "import tuner.engine.per_class\n"
        "frameworks = ('tensorflow', 'jax', 'torch', 'keras', 'keras_tuner')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in frameworks)\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_precision_and_recall_are_nan_where_nothing_divides(tmp_path: Path):
    per_class = load_per_class(_run_with_per_class(tmp_path))
    assert [results.name for results in per_class.sets] == ["validation", "test"]
    table = per_class.sets[0].table().set_index("class")
    assert table["support"].tolist() == [3, 2, 5, 0]
    assert table.loc["cat", "precision"] == pytest.approx(0.5) and table.loc["cat", "recall"] == pytest.approx(2 / 3)
    assert table.loc["dog", "precision"] == pytest.approx(2 / 6) and table.loc["dog", "recall"] == 1.0
    assert np.isnan(table.loc["bird", "precision"]) and table.loc["bird", "recall"] == 0.0
    assert np.isnan(table.loc["fish", "precision"]) and np.isnan(table.loc["fish", "recall"])


def test_accuracy_counts_every_sample_and_balanced_accuracy_weighs_each_present_class_alike(tmp_path: Path):
    validation, test = load_per_class(_run_with_per_class(tmp_path)).sets
    assert validation.samples == 10 and validation.accuracy == pytest.approx(0.4)
    assert validation.balanced_accuracy == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert validation.lowest_recall() == ("bird", 0.0)
    assert test.accuracy == pytest.approx(0.75) and test.balanced_accuracy == pytest.approx((1 + 0.5) / 2)
    assert test.lowest_recall() == ("dog", 0.5)


def test_per_class_csv_has_a_row_per_set_and_class_with_blanks_for_undefined_rates(tmp_path: Path):
    run_dir = _run_with_per_class(tmp_path)
    write_reports(run_dir)
    table = pd.read_csv(run_dir / "per_class.csv")
    assert list(table.columns) == ["set", "class", "support", "precision", "recall"]
    assert table["set"].tolist() == ["validation"] * 4 + ["test"] * 4
    assert table["class"].tolist() == CLASSES * 2
    assert table["support"].tolist() == [3, 2, 5, 0, 2, 2, 0, 0]
    assert table.loc[1, "precision"] == pytest.approx(1 / 3) and table.loc[4, "recall"] == 1.0
    assert table["precision"].isna().tolist() == [False, False, True, True, False, False, True, True]
    assert ",bird,5,,0.0" in (run_dir / "per_class.csv").read_text()
    assert not list(run_dir.glob(".*.tmp"))


def test_per_class_csv_goes_next_to_a_chosen_results_csv(tmp_path: Path):
    run_dir = _run_with_per_class(tmp_path)
    write_reports(run_dir, tmp_path / "out" / "r.csv", tmp_path / "out" / "r.html")
    assert (tmp_path / "out" / "per_class.csv").exists()
    assert not (run_dir / "per_class.csv").exists()


def test_report_shows_each_sets_table_and_confusion_matrix(tmp_path: Path):
    run = load_run(_run_with_per_class(tmp_path))
    html = render_report(run, rank(run.trials))
    assert "<h2>Per-class results (best trial 2)</h2>" in html
    assert "<h3>validation: 10 samples, accuracy 0.4, balanced accuracy 0.5556</h3>" in html
    assert "<h3>test: 4 samples, accuracy 0.75, balanced accuracy 0.75</h3>" in html
    assert "<tr><td>bird</td><td>5</td><td></td><td>0</td></tr>" in html
    assert "<tr><td>dog</td><td>2</td><td>0.3333</td><td>1</td></tr>" in html
    assert html.count('<table class="counts confusion">') == 2
    # bird's row of the validation matrix: 2 of 5 predicted cat, 3 of 5 dog, shaded by those shares.
    bird = html.split('<th scope="row">bird</th>')[1].split("</tr>")[0]
    assert bird == (
        '<td style="background: rgba(31, 119, 180, 0.24)">2</td>'
        '<td style="background: rgba(31, 119, 180, 0.36)">3</td><td>0</td><td>0</td>'
    )
    assert html.count("<tr class=") == 4  # the trials table is unchanged


def test_many_classes_keep_the_table_and_leave_the_matrix_to_the_json(tmp_path: Path):
    names = [f"class {number}" for number in range(MATRIX_CLASSES + 1)]
    labels = np.arange(len(names))
    run = load_run(_run_with_per_class(tmp_path, names, {"validation": (labels, labels)}))
    html = render_report(run, rank(run.trials))
    assert html.count("<tr><td>class ") == len(names)
    assert '<table class="counts confusion">' not in html
    assert f"The {len(names)} × {len(names)} confusion matrix is in per_class.json." in html


def test_class_names_are_escaped_in_the_report(tmp_path: Path):
    hostile = "<script>alert(1)</script>"
    run = load_run(_run_with_per_class(tmp_path, ["ok", hostile], {"validation": (np.array([0, 1]), np.array([1, 1]))}))
    html = render_report(run, rank(run.trials))
    assert hostile not in html and html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3


def test_terminal_line_gives_each_sets_accuracy_and_lowest_recall(tmp_path: Path):
    line = per_class_line(load_per_class(_run_with_per_class(tmp_path)))
    assert line == (
        "best trial 2 on validation: accuracy 0.40, balanced accuracy 0.56, lowest recall bird 0.00;"
        " on test: accuracy 0.75, balanced accuracy 0.75, lowest recall dog 0.50"
    )


def test_a_set_without_samples_says_so_instead_of_dividing_by_zero(tmp_path: Path):
    run_dir = write_run(tmp_path / "run", random_trials(2))
    record = {"trial": "0", "class_names": ["a", "b"], "sets": {"test": {"samples": 0, "confusion": [[0, 0], [0, 0]]}}}
    (run_dir / "per_class.json").write_text(json.dumps(record))
    per_class = load_per_class(run_dir)
    assert np.isnan(per_class.sets[0].accuracy) and np.isnan(per_class.sets[0].balanced_accuracy)
    assert per_class_line(per_class) == "best trial 0 on test: no samples"


def test_tuner_report_prints_the_per_class_line_under_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["report", str(_run_with_per_class(tmp_path))]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].startswith("best trial 2 on validation: accuracy 0.40,")
    assert lines[-1].startswith("results: ")


def test_a_run_without_per_class_results_reports_as_before(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    run_dir = write_run(tmp_path / "run", random_trials(4))
    assert load_run(run_dir).per_class is None
    assert main(["report", str(run_dir)]) == 0
    assert "best trial" not in capsys.readouterr().out
    assert "Per-class" not in (run_dir / "report.html").read_text()
    assert sorted(path.name for path in run_dir.glob("*.csv")) == ["results.csv"]


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda record: "{", "Expecting property name"),
        (lambda record: {**record, "sets": None}, "it is not an object with an object of sets"),
        (lambda record: [record], "it is not an object with an object of sets"),
        (lambda record: {key: value for key, value in record.items() if key != "trial"}, "no key 'trial'"),
        (lambda record: {**record, "class_names": "cat"}, "class_names is not a list of class names"),
        (
            lambda record: {**record, "sets": {"test": {"samples": 1, "confusion": [[1, 0], [0, 0]]}}},
            r"sets.test.confusion is not a 4 x 4 table of counts",
        ),
        (
            lambda record: {**record, "sets": {"test": {**record["sets"]["test"], "samples": 5}}},
            "sets.test: 5 samples, but the confusion matrix counts 4",
        ),
    ],
)
def test_a_malformed_per_class_file_is_a_run_format_error_naming_it(tmp_path: Path, damage, reason: str):
    run_dir = _run_with_per_class(tmp_path)
    path = run_dir / "per_class.json"
    damaged = damage(json.loads(path.read_text()))
    path.write_text(damaged if isinstance(damaged, str) else json.dumps(damaged))
    with pytest.raises(RunFormatError, match=reason) as raised:
        write_reports(run_dir)
    assert str(raised.value).startswith(f"{path}: cannot be read as per-class results: ")
    assert not (run_dir / "results.csv").exists()
