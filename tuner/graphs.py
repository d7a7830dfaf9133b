"""Releasing what TensorFlow keeps of a trained model's traced graphs, so a long search does not grow.

Every ``model.fit`` traces a training step, and Keras' optimiser sums the gradients through the default
distribution strategy's ``all_reduce``, a ``tf.custom_gradient``. In graph mode TensorFlow registers each
such gradient in its global gradient registry under a new ``CustomGradient-N`` name and never removes it;
the registered closure holds the whole traced graph. Measured here: about 6 MB kept per trained model,
and the cost of every later ``gc.collect`` grows with it. The entry is needed only while that step is
traced, so once ``fit`` has returned it can go.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

CUSTOM_GRADIENT_PREFIX = "CustomGradient-"


@contextmanager
def custom_gradients_released() -> Iterator[None]:
    """Drop the custom gradients registered inside the block from TensorFlow's global registry on exit."""
    from tensorflow.python.framework import ops

    registry = ops._gradient_registry._registry  # TensorFlow offers no public way to unregister
    before = set(registry)
    try:
        yield
    finally:
        for name in set(registry) - before:
            if name.startswith(CUSTOM_GRADIENT_PREFIX):
                del registry[name]
