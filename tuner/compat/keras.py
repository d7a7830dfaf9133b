"""Every private name of Keras the project touches, each with why; tested with Keras 3.15.

Keras holds a lazy handle on TensorFlow (``keras.src.utils.module_utils.tensorflow``) and asks it whether
TensorFlow is installed on every backend: ``keras.utils.set_random_seed``, called before every build, then
imports TensorFlow to seed ``tf.data`` as well, and saving a model imports it to look for TensorFlow's types.
On JAX or PyTorch this project feeds no ``tf.data`` pipeline and saves no TensorFlow object, yet each such
process would pay TensorFlow's import (about 3 CPU s here, more than JAX's or PyTorch's own) and print its
native notes mid-search. Marking the handle unavailable keeps TensorFlow out of those processes; a use that
needs it (Keras' TensorBoard callback writes through ``tf.summary``) still imports it.
"""

from __future__ import annotations

from tuner.compat import absent_names

# (module path, attribute path, why)
PRIVATE_NAMES: tuple[tuple[str, str, str], ...] = (
    ("keras.src.utils.module_utils", "tensorflow._available", "whether Keras takes TensorFlow for installed"),
)


def missing() -> list[str]:
    """The internals the installed Keras lacks, as ``module.attribute``."""
    return absent_names(PRIVATE_NAMES, lambda found: found is None or isinstance(found, bool))


def leave_tensorflow_unloaded() -> None:
    """Make Keras treat TensorFlow as absent unless it has loaded it already: for processes on another backend."""
    from keras.src.utils import module_utils

    if module_utils.tensorflow.module is None:
        module_utils.tensorflow._available = False
