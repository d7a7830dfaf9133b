"""``tuner search --check-reproducible`` trains the best trial again and fails loudly on any difference."""

from __future__ import annotations

import json
import subprocess

import pandas as pd
import pytest

from tests.helpers import tuner_executable, write_tiny_space


@pytest.mark.slow
def test_check_passes_on_a_seeded_search_and_fails_when_a_recorded_loss_differs(tmp_path):
    write_tiny_space(tmp_path)
    command = [
        tuner_executable(),
        "search",
        "space.yaml",
        "--runs-dir",
        "runs",
        "--max-trials",
        "2",
        "--check-reproducible",
    ]
    first = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "reproducible: the best trial trained again gave identical losses" in first.stdout

    run_dir = tmp_path / "runs" / "tiny"
    best = str(pd.read_csv(run_dir / "results.csv").loc[0, "trial"])
    history_file = run_dir / "history" / f"{best}-0.json"
    history = json.loads(history_file.read_text())
    trained = history["epochs"][0]["loss"]
    history["epochs"][0]["loss"] = trained + 1e-6
    history_file.write_text(json.dumps(history))

    second = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert second.returncode == 4  # NotReproducibleError
    assert second.stderr.splitlines()[-1] == (
        f"tuner: not reproducible: trial {best} trained again gave loss {trained!r} in epoch 1;"
        f" the search recorded {trained + 1e-6!r}"
    )
    assert "Traceback" not in second.stderr
