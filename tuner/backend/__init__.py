"""Keras' backend (TensorFlow, JAX or PyTorch): which one a process trains on, and everything that differs by it.

Each module holds one concept with a branch per backend, so the rest of the package stays backend-neutral:
``selection`` (choose and import the backend; ``tuner.rundir.format`` records it), ``determinism``, ``threads``,
``devices`` (GPUs), ``errors`` (out of memory), ``memory`` (what a trained model leaves behind) and
``environment`` (the settings JAX and PyTorch read from environment variables).
"""
