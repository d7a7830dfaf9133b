"""Durable writes: the umask's modes, whole files after a failure, and flushes in the order a power cut needs."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from tests.helpers import write_tiny_space
from tuner.rundir import files
from tuner.testing import run_tiny_search


@pytest.fixture
def umask():
    """Set the process umask for one test: ``umask(0o022)``; the previous one comes back afterwards."""
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _leftovers(folder: Path) -> list[Path]:
    return [path for path in folder.rglob(".*") if ".tmp" in path.name]


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_write_atomic_gives_the_mode_open_would(umask, tmp_path, mask, expected):
    umask(mask)
    target = tmp_path / "plain.txt"
    with open(tmp_path / "by_open.txt", "w") as stream:
        stream.write("x")

    files.write_atomic(target, "text")

    assert _mode(target) == expected == _mode(tmp_path / "by_open.txt")
    assert target.read_text() == "text"


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o002, 0o664)])
def test_write_json_gives_the_umask_mode(umask, tmp_path, mask, expected):
    umask(mask)
    files.write_json(tmp_path / "state.json", {"a": 1})
    assert _mode(tmp_path / "state.json") == expected


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o002, 0o664)])
def test_save_atomic_gives_the_umask_mode_whatever_mode_the_library_chose(umask, tmp_path, mask, expected):
    umask(mask)

    def save(path: Path) -> None:  # like a library writing through mkstemp
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(handle, b"model")
        os.close(handle)

    files.save_atomic(tmp_path / "model.keras", save)

    assert _mode(tmp_path / "model.keras") == expected
    assert (tmp_path / "model.keras").read_bytes() == b"model"


def test_save_atomic_hands_the_library_a_name_with_the_target_suffix(tmp_path):
    names = []
    files.save_atomic(tmp_path / "model.keras", lambda path: (names.append(path.name), path.write_text("m")))
    assert names[0].endswith(".keras") and names[0].startswith(".model.")


def test_missing_folders_are_created_with_the_umask_mode(umask, tmp_path):
    umask(0o022)
    files.write_atomic(tmp_path / "a" / "b" / "file.txt", "text")
    assert _mode(tmp_path / "a") == _mode(tmp_path / "a" / "b") == 0o755


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "results.csv"
    files.write_atomic(target, "old")

    with pytest.raises(UnicodeEncodeError):
        files.write_atomic(target, "new \ud800")  # a lone surrogate fails only once writing has begun

    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.keras"
    target.write_text("old")

    def save(path: Path) -> None:
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        files.save_atomic(target, save)

    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_the_file_is_flushed_before_the_rename_and_the_folder_after(monkeypatch, tmp_path):
    (tmp_path / "run").mkdir()
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(handle: int) -> None:
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(handle).st_mode) else "fsync file")
        real_fsync(handle)

    def replace(source: str | Path, target: str | Path) -> None:
        events.append("rename")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)

    files.write_atomic(tmp_path / "run" / "space.yaml", "a: 1\n")
    assert events == ["fsync file", "rename", "fsync folder"]

    events.clear()
    files.save_atomic(tmp_path / "run" / "model.keras", lambda path: path.write_text("m"))
    assert events == ["fsync file", "rename", "fsync folder"]


def test_threads_writing_one_file_never_share_a_temporary(tmp_path):
    target = tmp_path / "oracle.json"
    texts = [f"writer {number}\n" * 2000 for number in range(8)]
    errors = []

    def write(text: str) -> None:
        try:
            for _ in range(20):
                files.write_atomic(target, text)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert target.read_text() in texts
    assert _leftovers(tmp_path) == []


def test_the_umask_is_read_without_changing_it(umask):
    umask(0o027)
    assert files.current_umask() == 0o027
    assert os.umask(0o027) == 0o027  # still what the test set


def test_without_proc_the_umask_is_read_once_and_restored(umask):
    umask(0o007)
    files._umask_at_first_use.cache_clear()
    try:
        assert files._umask_at_first_use() == 0o007
        assert os.umask(0o007) == 0o007
    finally:
        files._umask_at_first_use.cache_clear()


@pytest.mark.slow
@pytest.mark.parametrize(("mask", "file_mode", "folder_mode"), [(0o022, 0o644, 0o755), (0o002, 0o664, 0o775)])
def test_a_search_leaves_every_file_and_folder_with_the_umasks_mode(umask, tmp_path, mask, file_mode, folder_mode):
    umask(mask)  # in this process: what a search started from a shell inherits
    space = write_tiny_space(tmp_path)

    run_tiny_search(space, tmp_path / "runs", max_trials=2)

    run_dir = tmp_path / "runs" / "tiny"
    named = ["space.yaml", "run.json", "results.csv", "report.html", "keras_tuner/oracle.json"]
    for name in named:
        assert _mode(run_dir / name) == file_mode, name
    trial_files = list(run_dir.glob("keras_tuner/trial_*/trial.json"))
    assert len(trial_files) == 2
    wrong = {
        str(path.relative_to(run_dir)): oct(_mode(path))
        for path in [run_dir, *run_dir.rglob("*")]
        if _mode(path) != (folder_mode if path.is_dir() else file_mode)
    }
    assert wrong == {}
