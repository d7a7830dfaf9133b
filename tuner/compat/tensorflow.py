"""Every TensorFlow internal the project touches, each with why; tested with TensorFlow 2.16 to 2.21.

Every ``model.fit`` traces a training step, and Keras' optimiser sums the gradients through the default
distribution strategy's ``all_reduce``, a ``tf.custom_gradient``. In graph mode TensorFlow registers each
such gradient in its global gradient registry under a new ``CustomGradient-N`` name and never removes it;
the registered closure holds the whole traced graph. Measured here: about 6 MB kept per trained model,
and the cost of every later ``gc.collect`` grows with it. The entry is needed only while that step is
traced, so once ``fit`` has returned it can go. TensorFlow offers no public way to unregister one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tuner.compat import absent_names

CUSTOM_GRADIENT_PREFIX = "CustomGradient-"
# (module path, attribute path, why)
PRIVATE_NAMES: tuple[tuple[str, str, str], ...] = (
    ("tensorflow.python.framework.ops", "_gradient_registry._registry", "the registry custom gradients stay in"),
)


def _gradient_registry() -> dict[str, Any]:
    from tensorflow.python.framework import ops

    return ops._gradient_registry._registry


def missing() -> list[str]:
    """The internals the installed TensorFlow lacks, as ``module.attribute``."""
    return absent_names(PRIVATE_NAMES, lambda found: isinstance(found, dict))


@contextmanager
def custom_gradients_released() -> Iterator[None]:
    """Drop the custom gradients registered inside the block from TensorFlow's global registry on exit."""
    registry = _gradient_registry()
    before = set(registry)
    try:
        yield
    finally:
        for name in set(registry) - before:
            if name.startswith(CUSTOM_GRADIENT_PREFIX):
                del registry[name]
