"""A trial's network read from its hyperparameter values: each block's filters, and the one line reports show.

Framework-free, so the builder and the reports (which never import Keras) agree on what a trial built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def block_filters(values: Mapping[str, Any]) -> list[int]:
    """Every block's filters: drawn per block, or the first block's times ``filters_growth ** i``."""
    blocks = int(values["conv_blocks"])
    growth = values.get("filters_growth")
    if growth is None:
        return [int(values[f"filters_{index}"]) for index in range(blocks)]
    return [max(1, round(values["filters_0"] * growth**index)) for index in range(blocks)]


def describe(values: Mapping[str, Any]) -> str:
    """One line: blocks x convolutions, the filters, residual or not, and the head (``3x2 [32 64 128] residual
    global_avg``)."""
    filters = " ".join(map(str, block_filters(values)))
    parts = [f"{values['conv_blocks']}x{values.get('convs_per_block', 1)} [{filters}]"]
    if values.get("residual"):
        parts.append("residual")
    parts.append(str(values.get("head", "flatten")))
    return " ".join(parts)
