import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tuner.testing.rundirs import random_trials, write_run, write_tiny_space

TUNER = str(Path(sys.executable).with_name("tuner"))


def tuner(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([TUNER, *arguments], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def searched(tmp_path_factory) -> Path:
    """A real search: 2 trials, each trained twice (restarts: 2) for one epoch."""
    base = tmp_path_factory.mktemp("search")
    result = tuner("search", str(write_tiny_space(base)), "--runs-dir", "runs", "--quiet", cwd=base)
    assert result.returncode == 0, result.stderr
    return base / "runs" / "tiny"


@pytest.mark.slow
def test_search_writes_both_reports_with_every_restart(searched: Path):
    assert (searched / "report.html").read_text().count("<tr class=") == 2
    assert sorted(path.name for path in (searched / "history").iterdir()) == [
        "0-0.json",
        "0-1.json",
        "1-0.json",
        "1-1.json",
    ]
    table = pd.read_csv(searched / "results.csv", dtype={"trial": str}).set_index("trial")
    assert table["restarts"].tolist() == [2, 2]
    assert table["objective_std"].notna().all() and (table["params"] > 0).all()
    for trial_id, row in table.iterrows():
        # keras-tuner averages the restarts' best epochs the same way; our mean must agree with its score.
        score = json.loads((searched / "keras_tuner" / f"trial_{trial_id}" / "trial.json").read_text())["score"]
        assert row["objective"] == pytest.approx(score)


@pytest.mark.slow
def test_report_prints_each_format_and_writes_chosen_paths(tmp_path: Path):
    run_dir = write_run(tmp_path / "run", random_trials(6))
    md = tuner(
        "report", str(run_dir), "--top", "2", "--format", "md", "--csv", "out.csv", "--html", "out.html", cwd=tmp_path
    )
    assert md.returncode == 0, md.stderr
    assert md.stdout.splitlines()[0].startswith("| rank | trial |") and len(md.stdout.splitlines()) == 4
    assert (tmp_path / "out.csv").exists() and (tmp_path / "out.html").exists()
    records = json.loads(tuner("report", str(run_dir), "--top", "3", "--format", "json", cwd=tmp_path).stdout)
    assert [record["rank"] for record in records] == [1, 2, 3]
    html = tuner("report", str(run_dir), "--format", "html", cwd=tmp_path).stdout
    assert html.startswith("<!DOCTYPE html>")
    table = tuner("report", str(run_dir), "--top", "4", cwd=tmp_path).stdout
    assert "top trials of" in table and (run_dir / "report.html").exists()


@pytest.mark.slow
def test_report_never_imports_tensorflow(tmp_path: Path):
    run_dir = write_run(tmp_path / "run", random_trials(5, restarts=2), restarts=2)
    code = (
        "import sys\n"
        "from tuner.cli.main import main\n"
        f"assert main(['report', {str(run_dir)!r}, '--format', 'csv']) == 0\n"
        "frameworks = ('tensorflow', 'jax', 'torch', 'keras', 'keras_tuner')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in frameworks)\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (run_dir / "report.html").exists()


@pytest.mark.slow
def test_report_of_a_directory_that_is_not_a_run_is_one_line(tmp_path: Path):
    result = tuner("report", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"tuner: {tmp_path}: not a run directory (it has no space.yaml)"


@pytest.mark.slow
def test_compare_shows_the_best_trial_of_each_run(tmp_path: Path):
    first = write_run(tmp_path / "first", random_trials(4, seed=1), name="first")
    second = write_run(tmp_path / "second", random_trials(4, seed=2), name="second")
    result = tuner("compare", str(first), str(second), "--format", "csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout))
    assert sorted(table["run"]) == ["first", "second"] and table["rank"].tolist() == [1, 2]
    printed = tuner("compare", str(first), str(second), cwd=tmp_path).stdout
    assert "best trial of each run" in printed and "first" in printed and "second" in printed


@pytest.mark.slow
def test_compare_refuses_runs_with_different_objectives(tmp_path: Path):
    loss = write_run(tmp_path / "loss", random_trials(2))
    accuracy = write_run(tmp_path / "acc", random_trials(2), objective="val_accuracy", direction="max")
    result = tuner("compare", str(loss), str(accuracy), cwd=tmp_path)
    assert result.returncode == 2
    assert "compare runs with the same objective" in result.stderr and "Traceback" not in result.stderr
