"""What training leaves behind in a long-lived process, released per backend once ``fit`` has returned.

Only TensorFlow keeps something: every traced training step registers a custom gradient that is never
removed (tuner/compat/tensorflow.py says why and how much). JAX's and PyTorch's compiled steps go with the model.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager

from tuner.backend.selection import active


def released_after_training() -> AbstractContextManager[None]:
    """A block around ``fit`` that drops what the active backend would otherwise keep of it."""
    if active() == "tensorflow":
        from tuner.compat.tensorflow import custom_gradients_released

        return custom_gradients_released()
    return contextlib.nullcontext()
