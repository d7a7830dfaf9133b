"""Which GPUs the active backend can use, and keeping a process (the chief) off them.

Both answer without starting the GPU where they can: JAX takes most of a GPU's memory the moment it first
touches it, so its GPUs are counted from the driver's files instead of from JAX.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from pathlib import Path

from tuner.backend.selection import active

# A GPU a backend can use shows up as one of these (NVIDIA's driver, AMD's ROCm driver).
GPU_DEVICE_FILES = ("/proc/driver/nvidia/gpus", "/dev/nvidia0", "/dev/nvidiactl", "/dev/kfd")
NVIDIA_GPUS = Path("/proc/driver/nvidia/gpus")
# The CPU device scope a PyTorch chief keeps open for the rest of its life (see hide_gpus).
_ON_CPU = contextlib.ExitStack()


def visible_gpus() -> list[str]:
    """Indices of the GPUs the active backend sees (empty on a CPU-only machine), as CUDA_VISIBLE_DEVICES values."""
    if not any(Path(device).exists() for device in GPU_DEVICE_FILES):
        return []  # no GPU driver: answered without importing a framework, so local workers start sooner
    count = _gpu_count(active())
    # Where CUDA_VISIBLE_DEVICES already narrows the devices, a worker's value must name one of those.
    listed = [part.strip() for part in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if part.strip()]
    return (listed or [str(index) for index in range(count)])[:count]


def _gpu_count(backend: str) -> int:
    if backend == "torch":
        import torch

        return int(torch.cuda.device_count())
    if backend == "jax":
        # JAX's GPU support is a plugin (jax[cuda12] installs it under jax_plugins); without one it runs on the CPU.
        has_plugin = importlib.util.find_spec("jax_plugins") is not None
        return len(list(NVIDIA_GPUS.iterdir())) if has_plugin and NVIDIA_GPUS.is_dir() else 0
    import tensorflow as tf

    return len(tf.config.list_physical_devices("GPU"))


def hide_gpus() -> None:
    """Keep this process on the CPU: the chief only builds models to learn the space; GPUs are the workers'.

    Keras on PyTorch picks its device when it is imported, so there a CPU device scope stays open from here on.
    """
    backend = active()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.set_visible_devices([], "GPU")
    elif backend == "jax":
        import jax

        jax.config.update("jax_platforms", "cpu")  # before JAX's first op, which the chief has not run yet
    elif backend == "torch":
        import keras

        _ON_CPU.enter_context(keras.device("cpu"))


def keep_first_gpu() -> None:
    """Train on the first GPU the backend sees, alone: the launcher's own worker, worker-0, whose slot it is.

    The other workers, other processes, each see only their own GPU (CUDA_VISIBLE_DEVICES).
    """
    backend = active()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.set_visible_devices(tf.config.list_physical_devices("GPU")[:1], "GPU")
    elif backend == "jax":
        import jax

        # Else JAX would reserve most of every GPU's memory, the other workers' too, at its first op.
        jax.config.update("jax_cuda_visible_devices", "0")
    # Keras on PyTorch trains on "cuda", the first GPU, and claims no other.
