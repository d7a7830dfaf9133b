"""Which Keras backend a process trains on: chosen once, before Keras is first imported, and imported quietly.

Keras reads ``KERAS_BACKEND`` when it is first imported and cannot switch afterwards, so the command line
chooses here first (``--backend``, else ``KERAS_BACKEND``, else TensorFlow) and writes the choice back to
``KERAS_BACKEND``: local workers inherit it, and so does every later ``import keras`` in this process.
Nothing here imports a framework at module level, so ``tuner --help`` and ``tuner report`` stay light.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.util
import os
import sys
from collections.abc import Iterator

from tuner.errors import InputError

BACKENDS = ("tensorflow", "jax", "torch")
# TensorFlow stays the default: it is the reference the figures and the tests' baselines were measured on.
DEFAULT = "tensorflow"
ENVIRONMENT = "KERAS_BACKEND"
# The pip extra that installs each backend (TensorFlow is a dependency of tuner itself).
EXTRAS = {"tensorflow": "tuner", "jax": "tuner[jax]", "torch": "tuner[torch]"}


def requested(name: str | None = None) -> str:
    """The backend asked for, unchecked: ``name`` (``--backend``), else KERAS_BACKEND, else loaded Keras', else TF."""
    return name or os.environ.get(ENVIRONMENT) or loaded_backend() or DEFAULT


def select(name: str | None = None, source: str = "--backend") -> str:
    """Choose this process's backend before Keras is imported; an unknown or missing one is an InputError.

    ``source`` says where ``name`` came from, for the error. Where Keras is already loaded (a library caller
    imported it), only its own backend can be chosen.
    """
    chosen = requested(name)
    if not name:
        source = ENVIRONMENT if os.environ.get(ENVIRONMENT) else "the default backend"
    if chosen not in BACKENDS:
        raise InputError(f"unknown backend {chosen!r}; choose one of {', '.join(BACKENDS)}", file=source)
    if importlib.util.find_spec(chosen) is None:
        raise InputError(f"the {chosen} backend is not installed: pip install '{EXTRAS[chosen]}'", file=source)
    loaded = loaded_backend()
    if loaded is not None and loaded != chosen:
        raise InputError(f"asks for the {chosen} backend, but Keras is already loaded on {loaded}", file=source)
    os.environ[ENVIRONMENT] = chosen
    return chosen


def explicit(name: str | None) -> bool:
    """Whether the user named a backend (``--backend`` or KERAS_BACKEND), rather than leaving the default."""
    return bool(name or os.environ.get(ENVIRONMENT))


def loaded_backend() -> str | None:
    """The backend of the Keras already imported in this process, or None while Keras is not imported."""
    keras = sys.modules.get("keras")
    return None if keras is None else str(keras.config.backend())


def active() -> str:
    """The backend this process trains (or will train) on: loaded Keras', else the one requested."""
    return loaded_backend() or requested()


def framework_loaded() -> bool:
    """Whether Keras and so its backend's native libraries are loaded (they are slow to tear down at exit)."""
    return "keras" in sys.modules


def import_quietly() -> None:
    """Import the backend and Keras once, with native stderr silenced; Python errors still surface normally.

    TensorFlow's native code logs CUDA probing and CPU-feature notes through absl before any log level applies
    (``TF_CPP_MIN_LOG_LEVEL`` does not reach them), straight to file descriptor 2: noise to someone running a
    search. The garbage collector is off meanwhile: the import creates millions of objects that live as long as
    the process and almost no garbage (1,882 objects with TensorFlow), yet each collection it triggers walks them
    all; ``import keras_tuner`` took 3.83 s with it on and 3.03-3.14 s with it off (2026-12-06). The imported
    objects are then moved out of its sight (``gc.freeze``), or the first full collection after would walk them
    (0.2 s with TensorFlow, measured on listing a 4,000-image folder: 0.21 s the first time, 0.005 s after). On JAX
    and PyTorch, Keras is told to leave TensorFlow unloaded (``tuner.compat.keras``): it would import it to seed
    ``tf.data``, which those backends do not use here.
    """
    if framework_loaded():
        return
    backend = select()
    collecting = gc.isenabled()
    gc.disable()
    try:
        with native_stderr_silenced():
            importlib.import_module(backend)
            importlib.import_module("keras")
        if backend != "tensorflow":
            from tuner.compat.keras import leave_tensorflow_unloaded

            leave_tensorflow_unloaded()
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """File descriptor 2 pointed at /dev/null for the block, where native code logs that Python cannot quiet.

    Keras also imports TensorFlow on the other backends where it is installed (saving a model checks for its
    types), and TensorFlow's import notes would land on the terminal then.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
