"""The bad-input catalogue: every file in tests/bad_inputs/ fails with its exact one-line message and exit 2."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import tuner_executable
from tuner.cli.main import main

CASES_DIR = Path(__file__).parent / "bad_inputs"


def _expected() -> dict[str, str]:
    rows = CASES_DIR.joinpath("expected.tsv").read_text(encoding="utf-8").splitlines()
    return dict(row.split("\t", 1) for row in rows if not row.startswith("#"))


EXPECTED = _expected()


def _png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((8, 8), dtype="uint8")).save(path)


def _corrupt_image(folder: Path) -> None:
    """The first image is broken: the one ``tuner validate`` reads (it lists the rest without decoding them)."""
    _png(folder / "images" / "dog" / "b.png")
    (folder / "images" / "cat").mkdir()
    (folder / "images" / "cat" / "a.png").write_bytes(b"not a png")


# Data files some cases need, made next to the case's YAML.
SETUPS: dict[str, Callable[[Path], object]] = {
    "npz_is_a_folder": lambda folder: (folder / "images").mkdir(),
    "empty_directory": lambda folder: (folder / "images").mkdir(),
    "one_class_directory": lambda folder: _png(folder / "images" / "cat" / "a.png"),
    "corrupt_image": _corrupt_image,
    "npz_missing_labels": lambda folder: np.savez(folder / "data.npz", x=np.zeros((4, 8, 8))),
    "npz_mismatched_lengths": lambda folder: np.savez(folder / "data.npz", x=np.zeros((4, 8, 8)), y=np.arange(3)),
    "npz_one_label": lambda folder: np.savez(folder / "data.npz", x=np.zeros((4, 8, 8)), y=np.full(4, 3)),
    "npz_not_an_archive": lambda folder: (folder / "data.npz").write_text("x,y\n1,2\n"),
    "directory_is_a_file": lambda folder: (folder / "data.npz").write_text("x,y\n1,2\n"),
}


def _prepare(case: str, folder: Path) -> str:
    """Copy the case and its data into ``folder``; returns the message expected there."""
    shutil.copy(CASES_DIR / f"{case}.yaml", folder / f"{case}.yaml")
    SETUPS.get(case, lambda _: None)(folder)
    return EXPECTED[case].replace("{dir}", str(folder.resolve()))


def test_catalogue_has_a_message_for_every_case_and_thirty_cases_or_more():
    files = {path.stem for path in CASES_DIR.glob("*.yaml")}
    assert files == set(EXPECTED)
    assert set(SETUPS) <= files
    assert len(files) >= 30


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_bad_input_gives_its_exact_message_and_exit_2(case, tmp_path, monkeypatch, capsys):
    message = _prepare(case, tmp_path)
    monkeypatch.chdir(tmp_path)
    code = main(["validate", f"{case}.yaml"])
    out, err = capsys.readouterr()
    assert (code, err) == (2, f"tuner: {message}\n")
    assert "Traceback" not in out + err


@pytest.mark.slow
@pytest.mark.parametrize("case", ["malformed_yaml", "python_object_tag", "too_deep_for_input", "corrupt_image"])
def test_console_script_prints_one_line_and_exits_2(case, tmp_path):
    message = _prepare(case, tmp_path)
    done = subprocess.run(
        [tuner_executable(), "validate", f"{case}.yaml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert (done.returncode, done.stderr) == (2, f"tuner: {message}\n")


def test_missing_space_file_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "nowhere.yaml"]) == 2
    assert capsys.readouterr().err == "tuner: nowhere.yaml: no such file\n"


def test_python_tag_is_never_executed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.yaml").write_text("name: !!python/object/apply:os.mkdir [owned]\ndata: {source: digits}\n")
    assert main(["validate", "evil.yaml"]) == 2
    assert not (tmp_path / "owned").exists()


@pytest.mark.slow
def test_failed_search_with_overwrite_keeps_the_previous_run(tmp_path, run_tuner):
    _prepare("missing_data_path", tmp_path)
    previous = tmp_path / "runs" / "missing_data_path"
    previous.mkdir(parents=True)
    (previous / "results.csv").write_text("rank,trial\n1,0\n")
    done = run_tuner("search", "missing_data_path.yaml", "--runs-dir", "runs", "--overwrite")
    assert done.returncode == 2
    assert "does not exist" in done.stderr
    assert (previous / "results.csv").read_text() == "rank,trial\n1,0\n"
