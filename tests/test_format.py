"""Run directories carry their format: written once, kept on resume, older ones upgraded, newer ones refused."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata

import pytest
import yaml

import tuner
from tests.helpers import tiny_space
from tuner.backend.selection import BACKENDS, active
from tuner.engine.resume import check_same_space, prepare_run_dir, resolved_yaml
from tuner.errors import InputError, RunFormatError
from tuner.rundir import format as run_format
from tuner.rundir import layout
from tuner.space.schema import Spec


def _spec(**sections) -> Spec:
    return Spec.model_validate(tiny_space(**sections))


def _record(run_dir) -> dict:
    return json.loads((run_dir / layout.RUN_FILE).read_text())


def _write_record(run_dir, **record) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / layout.RUN_FILE).write_text(json.dumps(record))


def test_a_new_run_records_its_format_and_the_versions_that_made_it(tmp_path):
    run_dir = tmp_path / "runs" / "tiny"
    prepare_run_dir(run_dir, _spec(), overwrite=False)

    record = _record(run_dir)
    assert record["format"] == run_format.FORMAT == 1
    assert record["tuner"] == tuner.__version__
    assert record["keras_tuner"] == metadata.version("keras-tuner")
    assert record["keras"] == metadata.version("keras")
    assert record["tensorflow"] == metadata.version("tensorflow")
    assert record["backend"] == active()
    created = datetime.fromisoformat(record["created"])
    assert created.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60


def test_a_package_that_is_not_installed_is_recorded_as_none():
    assert run_format.installed_version(("no-such-package-for-tuner",)) is None


def test_a_resume_keeps_run_json_and_overwrite_starts_it_again(tmp_path):
    run_dir = tmp_path / "tiny"
    prepare_run_dir(run_dir, _spec(), overwrite=False)
    _write_record(run_dir, **{**_record(run_dir), "created": "2000-01-01T00:00:00+00:00"})

    prepare_run_dir(run_dir, _spec(search={"max_trials": 5}), overwrite=False)
    assert _record(run_dir)["created"] == "2000-01-01T00:00:00+00:00"

    prepare_run_dir(run_dir, _spec(), overwrite=True)
    assert _record(run_dir)["created"] != "2000-01-01T00:00:00+00:00"


@pytest.mark.skipif(
    active() != "tensorflow", reason="a run from before run.json was TensorFlow's: another backend may not resume it"
)
def test_a_run_without_run_json_is_format_0_and_resuming_numbers_it(tmp_path):
    run_dir = tmp_path / "tiny"
    prepare_run_dir(run_dir, _spec(), overwrite=False)
    (run_dir / layout.RUN_FILE).unlink()
    assert run_format.check_readable(run_dir) == 0

    prepare_run_dir(run_dir, _spec(), overwrite=False)

    assert _record(run_dir)["format"] == 1
    assert run_format.check_readable(run_dir) == 1


def test_a_run_recorded_before_backends_were_is_tensorflows(tmp_path):
    run_dir = tmp_path / "tiny"
    prepare_run_dir(run_dir, _spec(), overwrite=False)
    assert run_format.recorded_backend(run_dir) == active()
    record = _record(run_dir)
    del record["backend"]
    _write_record(run_dir, **record)
    assert run_format.recorded_backend(run_dir) == "tensorflow"
    (run_dir / layout.RUN_FILE).unlink()
    assert run_format.recorded_backend(run_dir) == "tensorflow"


def test_a_run_is_refused_on_another_backend_in_one_line_naming_both(tmp_path):
    run_dir = tmp_path / "tiny"
    prepare_run_dir(run_dir, _spec(), overwrite=False)
    other = next(name for name in BACKENDS if name != active())
    _write_record(run_dir, **{**_record(run_dir), "backend": other})
    with pytest.raises(InputError) as raised:
        prepare_run_dir(run_dir, _spec(), overwrite=False)
    assert str(raised.value) == (
        f"{run_dir}: was started on the {other} backend, not {active()}: resume it with --backend {other},"
        " or pass --overwrite to start it again on this one"
    )
    prepare_run_dir(run_dir, _spec(), overwrite=True)
    assert _record(run_dir)["backend"] == active()


def test_every_older_format_has_a_step_to_the_next():
    assert sorted(run_format.MIGRATIONS) == list(range(run_format.FORMAT))


def test_migrate_applies_the_steps_in_order_from_the_runs_format(monkeypatch, tmp_path):
    applied = []
    monkeypatch.setattr(run_format, "FORMAT", 3)
    steps = {number: (lambda run_dir, number=number: applied.append(number)) for number in range(3)}
    monkeypatch.setattr(run_format, "MIGRATIONS", steps)
    _write_record(tmp_path, format=1)

    run_format.migrate(tmp_path)

    assert applied == [1, 2]


def test_a_run_in_a_newer_format_is_refused_with_one_line(tmp_path):
    run_dir = tmp_path / "runs" / "x"
    _write_record(run_dir, format=2, tuner="0.3.0")

    with pytest.raises(RunFormatError) as raised:
        run_format.check_readable(run_dir)

    assert str(raised.value) == (
        f"{run_dir} was written by tuner 0.3.0 in run format 2; this tuner ({tuner.__version__}) reads format 1"
        " and older: upgrade tuner"
    )
    assert raised.value.exit_code == 2


def test_resuming_a_newer_run_is_refused_before_anything_is_written(tmp_path):
    run_dir = tmp_path / "tiny"
    prepare_run_dir(run_dir, _spec(), overwrite=False)
    saved = (run_dir / layout.SPACE_FILE).read_text()
    _write_record(run_dir, format=2, tuner="0.3.0")

    with pytest.raises(RunFormatError, match="upgrade tuner"):
        prepare_run_dir(run_dir, _spec(search={"max_trials": 9}), overwrite=False)

    assert (run_dir / layout.SPACE_FILE).read_text() == saved
    assert _record(run_dir) == {"format": 2, "tuner": "0.3.0"}


def test_a_newer_run_without_a_space_file_is_still_refused(tmp_path):
    _write_record(tmp_path / "tiny", format=7)
    with pytest.raises(RunFormatError, match=r"tuner \(unknown version\) in run format 7"):
        prepare_run_dir(tmp_path / "tiny", _spec(), overwrite=False)


@pytest.mark.parametrize(("text", "problem"), [("{not json", "cannot be read"), ('{"format": "1"}', "no run format")])
def test_an_unreadable_run_json_is_one_input_error_naming_it(tmp_path, text, problem):
    (tmp_path / layout.RUN_FILE).write_text(text)
    with pytest.raises(InputError, match=problem) as raised:
        run_format.check_readable(tmp_path)
    assert raised.value.file == str(tmp_path / layout.RUN_FILE)
    assert "\n" not in str(raised.value)


def test_a_saved_space_missing_a_key_added_with_a_default_is_the_same_space(tmp_path):
    spec = _spec()
    saved = yaml.safe_load(resolved_yaml(spec))
    del saved["search"]["initial_points"]
    del saved["data"]["test_split"]
    (tmp_path / layout.SPACE_FILE).write_text(yaml.safe_dump(saved))

    check_same_space(tmp_path, spec)


def test_a_different_space_is_still_refused(tmp_path):
    (tmp_path / layout.SPACE_FILE).write_text(resolved_yaml(_spec()))
    with pytest.raises(InputError, match="holds a search of a different space"):
        check_same_space(tmp_path, _spec(seed=8))


def _with_a_removed_key() -> str:
    saved = yaml.safe_load(resolved_yaml(_spec()))
    saved["model"]["removed_key"] = 1  # a key this tuner's schema no longer has
    return yaml.safe_dump(saved)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (_with_a_removed_key(), "model.removed_key: Extra inputs are not permitted"),
        ("a: [\n", "while parsing"),
    ],
)
def test_a_saved_space_that_no_longer_validates_is_one_input_error_naming_the_run(tmp_path, text, problem):
    run_dir = tmp_path / "runs" / "tiny"
    run_dir.mkdir(parents=True)
    (run_dir / layout.SPACE_FILE).write_text(text)

    with pytest.raises(InputError) as raised:
        check_same_space(run_dir, _spec())

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{run_dir / layout.SPACE_FILE} no longer validates (")
    assert problem in message
    assert "--overwrite" in message


@pytest.mark.slow
def test_the_format_module_imports_no_framework(tmp_path):
    probe = (
        "import pathlib, sys\nimport tuner.rundir.format as f\n"
        "f.write_run_file(pathlib.Path(sys.argv[1]), 'jax'); f.check_readable(pathlib.Path(sys.argv[1]))\n"
        "print(sorted({'keras', 'tensorflow', 'keras_tuner', 'jax', 'torch'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
