"""Deterministic kernels on every backend, so a seed fixes every loss to the last bit.

The seeds themselves are set before every build (``keras.utils.set_random_seed`` seeds Python, NumPy and the
backend, PyTorch's generator included); what is left is each backend's choice of kernels.
"""

from __future__ import annotations

import os

from tuner.backend.environment import add_xla_flag
from tuner.backend.selection import active

# XLA on a CPU is deterministic already; on a GPU this flag makes it pick deterministic kernels (scatters, sums).
JAX_DETERMINISTIC = "--xla_gpu_deterministic_ops=true"
# cuBLAS is deterministic only with a fixed workspace; PyTorch refuses its deterministic mode on CUDA without it.
CUBLAS_WORKSPACE = (":4096:8", ":16:8")


def enable_determinism() -> None:
    """Make the active backend pick deterministic kernels; must run before the first op is executed."""
    backend = active()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif backend == "jax":
        add_xla_flag(JAX_DETERMINISTIC)
    elif backend == "torch":
        if os.environ.get("CUBLAS_WORKSPACE_CONFIG") not in CUBLAS_WORKSPACE:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_WORKSPACE[0]
        import torch

        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
