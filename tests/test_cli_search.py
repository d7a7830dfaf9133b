"""End to end through the installed ``tuner`` console script, as a user runs it (the one-line checks through
the CLI's entry point in-process)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from tests.helpers import TINY_MODEL, assert_ranked_run
from tuner.cli.main import main


@pytest.mark.slow
def test_search_on_digits_writes_a_ranked_run(run_tuner, space_file, tmp_path):
    space = space_file(
        "name: tiny-digits\nseed: 7\ndata: {source: digits}\n" + TINY_MODEL + "search: {max_trials: 3}\n"
    )
    result = run_tuner("search", str(space), "--runs-dir", "out")
    assert result.returncode == 0, result.stderr
    results = assert_ranked_run(tmp_path / "out" / "tiny-digits", trials=3)
    assert {"hp_conv_blocks", "hp_filters_0", "hp_learning_rate"} <= set(results.columns)
    assert "top trials of tiny-digits" in result.stdout
    assert "Traceback" not in result.stderr
    resolved = run_tuner("validate", str(tmp_path / "out" / "tiny-digits" / "space.yaml"))
    assert resolved.returncode == 0, resolved.stderr


@pytest.mark.slow
def test_search_resumes_and_extends_an_existing_run(run_tuner, space_file, tmp_path):
    space = space_file("name: grow\ndata: {source: digits}\n" + TINY_MODEL + "search: {max_trials: 2}\n")
    assert run_tuner("search", str(space), "--quiet").returncode == 0
    first = pd.read_csv(tmp_path / "runs" / "grow" / "results.csv")
    extended = run_tuner("search", str(space), "--max-trials", "3", "--quiet")
    assert extended.returncode == 0, extended.stderr
    after = assert_ranked_run(tmp_path / "runs" / "grow", trials=3)
    kept = after.set_index("trial").loc[first["trial"], "objective"]
    assert list(kept) == list(first["objective"])


@pytest.mark.slow
def test_search_refuses_to_resume_a_different_space(run_tuner, space_file, tmp_path):
    space = space_file("name: same\ndata: {source: digits}\n" + TINY_MODEL + "search: {max_trials: 1}\n")
    assert run_tuner("search", str(space), "--quiet").returncode == 0
    changed = space_file(space.read_text().replace("batch_size: 64", "batch_size: 32"), name="changed.yaml")
    result = run_tuner("search", str(changed))
    assert result.returncode == 2
    assert "holds a search of a different space; pass --overwrite" in result.stderr
    assert "Traceback" not in result.stderr
    assert run_tuner("search", str(changed), "--overwrite", "--quiet").returncode == 0


@pytest.mark.slow
def test_search_without_a_file_runs_the_bundled_digits_space(run_tuner, tmp_path):
    result = run_tuner("search", "--max-trials", "1", "--epochs", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    assert_ranked_run(tmp_path / "runs" / "digits-cnn", trials=1)


def test_bad_input_is_one_line_with_exit_code_2(space_file, tmp_path, monkeypatch, capsys):
    space = space_file("data: {source: npz, path: missing.npz}\n")
    monkeypatch.chdir(tmp_path)
    for command in ("validate", "search"):
        assert main([command, str(space)]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert lines == [f"tuner: {space}:1: data.path: {tmp_path / 'missing.npz'} does not exist"]
    assert not (tmp_path / "runs").exists()


def test_validate_prints_the_space_and_exits_0(space_file, capsys):
    space = space_file(
        "data: {source: digits}\nsearch: {algorithm: grid}\nmodel: {dropout: 0.0}\n"
        "optimizer: {name: adam, learning_rate: 0.01}\n"
    )
    assert main(["validate", str(space)]) == 0
    result = capsys.readouterr()
    assert "grid: 336 combinations" in result.out
    assert "is a valid space" in result.out


@pytest.mark.slow
def test_help_does_not_import_tensorflow():
    probe = (
        "import sys; from tuner.cli.main import main\n"
        "try:\n main(['--help'])\nexcept SystemExit: pass\n"
        "print(any(name in sys.modules for name in ('tensorflow', 'jax', 'torch', 'keras')))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip().endswith("False")


@pytest.mark.slow
def test_python_dash_m_runs_the_same_command():
    result = subprocess.run([sys.executable, "-m", "tuner", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("tuner ")
