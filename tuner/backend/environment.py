"""Settings that JAX and PyTorch read from the environment instead of taking them through a call.

XLA parses ``XLA_FLAGS`` when JAX runs its first op (importing JAX does not), and CUDA reads
``CUDA_VISIBLE_DEVICES`` when it starts; so these must be set before the first op, not before the import.
"""

from __future__ import annotations

import os


def add_xla_flag(flag: str) -> None:
    """Append one flag to ``XLA_FLAGS``, keeping those already there; a second call with it changes nothing."""
    flags = os.environ.get("XLA_FLAGS", "").split()
    if flag not in flags:
        os.environ["XLA_FLAGS"] = " ".join([*flags, flag])
