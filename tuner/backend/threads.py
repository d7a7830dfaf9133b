"""How many threads a worker's backend computes with: the same count gives the same sums, so the same losses.

oneDNN and XLA split a sum by thread, so results match across worker counts only at equal threads per worker.
"""

from __future__ import annotations

from tuner.backend.environment import add_xla_flag
from tuner.backend.selection import active

# XLA has no flag for N threads on a CPU: only Eigen's pool can be turned off, which leaves one thread.
JAX_ONE_THREAD = ("--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1")


def pin_threads(threads: int) -> None:
    """Limit the active backend to ``threads`` threads per pool; must run before it executes any op.

    JAX can only be held to one thread; with more it uses every core (the worker's OMP_NUM_THREADS still applies).
    """
    backend = active()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    elif backend == "torch":
        import torch

        torch.set_num_threads(threads)
        # PyTorch takes the inter-op count once per process, before any parallel work.
        if torch.get_num_interop_threads() != threads:
            torch.set_num_interop_threads(threads)
    elif backend == "jax" and threads == 1:
        for flag in JAX_ONE_THREAD:
            add_xla_flag(flag)
