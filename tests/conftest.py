"""Fixtures only; the helpers they use live in tests/helpers.py."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import tuner_executable, write_space


@pytest.fixture(autouse=True, scope="session")
def image_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One image cache for the whole session (the console scripts the tests run inherit it): never ~/.cache."""
    folder = tmp_path_factory.mktemp("tuner-cache")
    os.environ["TUNER_CACHE"] = str(folder)
    return folder


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
