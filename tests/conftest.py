"""Fixtures only; the helpers they use live in tests/helpers.py."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import User, tuner_executable, write_space
from tuner.parallel.cluster import ORACLE_IP, ORACLE_PORT, TUNER_ID

# What the console script sets for itself before TensorFlow loads (tuner.backend.selection.import_quietly), set here
# before any test module imports it: TensorFlow imports JAX where JAX is installed, and JAX sets this to 1 when
# unset; every tuner the tests start would inherit that and print TensorFlow's CUDA probing errors.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(autouse=True, scope="session")
def image_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One image cache for the whole session (the console scripts the tests run inherit it): never ~/.cache."""
    folder = tmp_path_factory.mktemp("tuner-cache")
    os.environ["TUNER_CACHE"] = str(folder)
    return folder


@pytest.fixture(autouse=True)
def no_chief_left_in_the_environment() -> Iterator[None]:
    """A test that points this process at a chief (keras-tuner's variables) takes them away again.

    Every tuner command a later test starts would inherit them: a search would become a worker of a chief long gone.
    """
    yield
    left = [name for name in (TUNER_ID, ORACLE_IP, ORACLE_PORT) if name in os.environ]
    for name in left:
        del os.environ[name]
    assert not left, f"the test left {', '.join(left)} set"


@pytest.fixture
def space_file(tmp_path: Path) -> Callable[..., Path]:
    """Write a space into tmp_path: ``space_file(text)``."""
    return lambda text, name="space.yaml": write_space(tmp_path, text, name)


@pytest.fixture
def run_tuner(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the ``tuner`` console script in tmp_path as a user would."""

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        return subprocess.run(
            [tuner_executable(), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout
        )

    return run


def _as_root(reason: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"{reason} needs root (mount, useradd)")


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount a small tmpfs: ``tmpfs("1m")`` returns its folder; every mount is undone afterwards, even on failure."""
    _as_root("a file system of its own")
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        folder = tmp_path / f"tmpfs{len(mounted)}"
        folder.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(folder)
        return folder

    try:
        yield mount
    finally:
        for folder in reversed(mounted):
            subprocess.run(["umount", "--lazy", str(folder)], check=True)


@pytest.fixture
def users() -> Iterator[Callable[..., User]]:
    """Create system users: ``users(group=None)``; with ``group``, they share it (created once). All are removed."""
    _as_root("another user")
    created: list[str] = []
    groups: list[str] = []
    prefix = f"tt{os.getpid() % 100000}"

    def make(group: str | None = None) -> User:
        if group is not None and group not in groups:
            subprocess.run(["groupadd", "--system", group], check=True)
            groups.append(group)
        name = f"{prefix}u{len(created)}"
        extra = ["--groups", group] if group else []
        subprocess.run(["useradd", "--system", "--no-create-home", "--user-group", *extra, name], check=True)
        created.append(name)
        record = pwd.getpwnam(name)
        return User(name, record.pw_uid, record.pw_gid, grp.getgrnam(group).gr_gid if group else None)

    try:
        yield make
    finally:
        for name in created:
            subprocess.run(["userdel", name], check=False)
            subprocess.run(["groupdel", name], check=False, capture_output=True)  # left when userdel kept it
        for group in groups:
            subprocess.run(["groupdel", group], check=False)


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder other users can enter (pytest's tmp_path sits under a folder only its owner can), removed after."""
    folder = Path(tempfile.mkdtemp(prefix="tuner-faults-"))
    folder.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
