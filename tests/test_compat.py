"""Every private library name the project touches is present in the installed versions, and is named when not."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tuner.backend.selection import active
from tuner.compat import keras as keras_compat
from tuner.compat import keras_tuner as kt_compat
from tuner.compat import sklearn as sklearn_compat
from tuner.compat import tensorflow as tf_compat
from tuner.errors import TunerError

PACKAGE = Path(__file__).resolve().parents[1] / "tuner"


def test_installed_keras_tuner_has_every_private_name_tuner_uses():
    assert kt_compat.missing() == []
    kt_compat.check()


def test_installed_keras_has_every_private_name_tuner_uses():
    assert keras_compat.missing() == []


def test_installed_scikit_learn_has_every_private_name_tuner_uses():
    assert sklearn_compat.missing() == []


@pytest.mark.skipif(active() != "tensorflow", reason="TensorFlow's gradient registry is released on its backend only")
def test_installed_tensorflow_has_every_private_name_tuner_uses():
    assert tf_compat.missing() == []


def test_a_missing_name_is_named_and_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(
        kt_compat, "PRIVATE_METHODS", (*kt_compat.PRIVATE_METHODS, (kt_compat.keras_tuner.Tuner, "_gone", "why"))
    )
    assert kt_compat.missing() == ["Tuner._gone"]
    with pytest.raises(TunerError, match=r"^keras-tuner \S+ lacks Tuner\._gone, which tuner needs"):
        kt_compat.check()


def _library_private_methods() -> set[str]:
    """Private method names of the library classes the project subclasses."""
    import keras
    import keras_tuner

    classes = (keras_tuner.Tuner, keras_tuner.Hyperband, keras_tuner.oracles.BayesianOptimizationOracle)
    classes += (keras_tuner.oracles.GridSearchOracle, keras_tuner.HyperModel, keras.callbacks.Callback)
    return {name for cls in classes for name in dir(cls) if name.startswith("_") and not name.startswith("__")}


def _private_uses(path: Path, library: set[str]) -> list[str]:
    """Imports from keras_tuner.src or tensorflow.python, private attributes of other objects, and methods
    overriding a library's private ones, in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        internal = ("keras_tuner.src", "tensorflow.python")
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(internal):
            found.append(node.module)
        is_private = isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
        if is_private and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "os")):
            found.append(node.attr)
        if is_private and node.attr in library:
            found.append(node.attr)
        if isinstance(node, ast.FunctionDef) and node.name in library:
            found.append(node.name)
    return found


def test_no_module_outside_compat_touches_a_library_private_name():
    library = _library_private_methods()
    offenders = {
        str(path.relative_to(PACKAGE)): uses
        for path in PACKAGE.rglob("*.py")
        if "compat" not in path.parts and (uses := _private_uses(path, library))
    }
    assert offenders == {}
