"""Keep library chatter that the user cannot act on off the terminal.

The backend's own import notes are silenced where it is imported (``tuner.backend.selection.import_quietly``).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator


def hide_gaussian_process_notes() -> None:
    """Ignore scikit-learn's length-scale notes from the Gaussian process keras-tuner's Bayesian oracle refits.

    The oracle fits it after every trial; a note that a fitted length scale sits at its bound is
    expected on a few noisy points, and printed mid-search it breaks the progress bar.
    """
    note = "The optimal value found for dimension"
    warnings.filterwarnings("ignore", message=note, module="sklearn.gaussian_process")


def hide_grpc_notes() -> None:
    """Keep gRPC's INFO notes off stderr: a chief that stops while a worker's channel is open ("Got goaway").

    Every process of a ``--workers`` search talks gRPC, worker-0's with the chief in its own process too. gRPC
    reads GRPC_VERBOSITY once, when it is imported, so this runs before any command imports it; a value the
    user set is kept.
    """
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


@contextlib.contextmanager
def optimizer_state_left_behind() -> Iterator[None]:
    """Load checkpointed weights without Keras' note that the checkpoint's optimizer state is skipped.

    keras-tuner's Hyperband continues a trial from an earlier one's weights with a fresh optimizer, and
    the test-set scoring only evaluates: both leave the optimizer state behind on purpose.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        yield
