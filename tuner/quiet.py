"""Import TensorFlow without its C++ start-up chatter on the terminal.

TensorFlow's native code logs CUDA probing and CPU-feature notes through absl before any log level
applies (``TF_CPP_MIN_LOG_LEVEL`` does not reach them), straight to file descriptor 2. They are noise
to someone running a search, so the import runs with that descriptor pointed at /dev/null.
"""

from __future__ import annotations

import os
import sys


def import_tensorflow_quietly() -> None:
    """Import TensorFlow once with native stderr silenced; Python errors still surface normally."""
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
