"""Each backend's way of saying that training ran out of memory: worth one more try at a smaller batch.

Only the frameworks already imported are asked: an error cannot come from one that is not loaded.
"""

from __future__ import annotations

import sys

# What JAX's runtime error starts with when an allocation fails (XLA's status code).
JAX_OUT_OF_MEMORY = "RESOURCE_EXHAUSTED"
# PyTorch raises OutOfMemoryError for a GPU only; its CPU allocator fails with a plain RuntimeError saying this.
TORCH_CPU_OUT_OF_MEMORY = "DefaultCPUAllocator: can't allocate memory"


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is an allocation failure of Python, TensorFlow, PyTorch or JAX."""
    if isinstance(error, MemoryError):
        return True
    tensorflow = sys.modules.get("tensorflow")
    if tensorflow is not None and isinstance(error, tensorflow.errors.ResourceExhaustedError):
        return True
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(error, torch.OutOfMemoryError):
        return True
    if torch is not None and isinstance(error, RuntimeError) and TORCH_CPU_OUT_OF_MEMORY in str(error):
        return True
    jax = sys.modules.get("jax")
    failed_in_jax = jax is not None and isinstance(error, jax.errors.JaxRuntimeError)
    return failed_in_jax and str(error).startswith(JAX_OUT_OF_MEMORY)
