"""The backend subpackage: choosing a backend, XLA's flags, and each backend's out-of-memory errors."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys

import pytest

from tuner.backend import memory, selection
from tuner.backend.environment import add_xla_flag
from tuner.backend.errors import is_out_of_memory
from tuner.errors import InputError


def test_the_choice_is_written_back_for_keras_and_the_workers(monkeypatch):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    loaded = selection.loaded_backend()
    assert selection.select(loaded) == (loaded or "tensorflow")
    assert selection.active() == (loaded or "tensorflow")
    assert os.environ["KERAS_BACKEND"] == selection.active()


def test_keras_loaded_on_one_backend_refuses_another(monkeypatch):
    import keras

    loaded = keras.config.backend()
    others = [name for name in selection.BACKENDS if name != loaded and importlib.util.find_spec(name) is not None]
    if not others:
        pytest.skip(f"no backend but {loaded} is installed here")
    other = others[0]
    monkeypatch.setenv("KERAS_BACKEND", loaded)
    with pytest.raises(InputError, match=f"asks for the {other} backend, but Keras is already loaded on {loaded}"):
        selection.select(other)


def test_xla_flags_keep_the_users_and_are_added_once(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
    add_xla_flag("--xla_gpu_deterministic_ops=true")
    add_xla_flag("--xla_gpu_deterministic_ops=true")
    assert os.environ["XLA_FLAGS"] == "--xla_dump_to=/tmp/x --xla_gpu_deterministic_ops=true"


def test_only_allocation_failures_are_out_of_memory():
    assert is_out_of_memory(MemoryError())
    assert not is_out_of_memory(ValueError("Negative dimension size"))
    assert not is_out_of_memory(RuntimeError("RESOURCE_EXHAUSTED but not from JAX"))


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_pytorch_out_of_memory_on_a_gpu_and_on_the_cpu():
    import torch

    assert is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    cpu = "[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory: you tried to allocate 4"
    assert is_out_of_memory(RuntimeError(cpu))
    assert not is_out_of_memory(RuntimeError("Expected all tensors to be on the same device"))


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax not installed")
def test_jax_out_of_memory_is_its_runtime_error_with_xlas_status():
    import jax

    # What a CPU allocation over RLIMIT_DATA raised here (jax 0.10.2).
    assert is_out_of_memory(
        jax.errors.JaxRuntimeError("RESOURCE_EXHAUSTED: Out of memory allocating 4294967296 bytes.")
    )
    assert not is_out_of_memory(jax.errors.JaxRuntimeError("INVALID_ARGUMENT: shapes differ"))


def test_only_tensorflow_keeps_something_to_release_after_training():
    kept = selection.active() == "tensorflow"
    assert isinstance(memory.released_after_training(), contextlib.nullcontext) != kept


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_seeding_on_another_backend_leaves_tensorflow_unloaded(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} not installed")
    code = (
        "import sys; from tuner.backend.selection import import_quietly; import_quietly(); import keras;"
        " keras.utils.set_random_seed(1); print('tensorflow' in sys.modules)"
    )
    environ = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_the_backend_is_imported_with_the_collector_paused_then_frozen_out_of_its_sight():
    # Collections during the import walk millions of objects that live as long as the process.
    code = (
        "import gc; from tuner.backend.selection import import_quietly; import_quietly();"
        " print(gc.isenabled(), gc.get_freeze_count() > 100_000)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
