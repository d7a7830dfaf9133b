"""--tensorboard: keras-tuner's own TensorBoard integration writes each trial's scalars and HParams records."""

from __future__ import annotations

import pytest

from tests.helpers import write_tiny_space


@pytest.mark.slow
def test_tensorboard_logs_every_trial_with_its_hparams(tmp_path, run_tuner):
    space = write_tiny_space(tmp_path, search={"max_trials": 2})
    done = run_tuner("search", str(space), "--tensorboard", "--quiet")
    assert done.returncode == 0, done.stderr
    logs = tmp_path / "runs" / "tiny" / "tensorboard"
    assert sorted(path.name for path in logs.iterdir()) == ["0", "1"]
    for trial in logs.iterdir():
        summary = next((trial / "execution0").glob("events.out.tfevents.*")).read_bytes()
        assert b"hparams" in summary  # the HParams plugin's session records
        assert b"learning_rate" in summary and b"conv_blocks" in summary
        assert list((trial / "execution0" / "validation").glob("events.out.tfevents.*"))
    # The flag may be dropped when the run is resumed: it is not part of the space.
    assert run_tuner("search", str(space), "--quiet").returncode == 0
