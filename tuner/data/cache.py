"""Interim in-memory stand-in for the decode-once cache (replaced by the cache branch)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


class Sink(Protocol):
    def array(self, name: str, shape: tuple[int, ...], dtype: str) -> np.ndarray: ...


@dataclass(frozen=True)
class Stored:
    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]


class _Memory:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, name: str, shape: tuple[int, ...], dtype: str) -> np.ndarray:
        self.arrays[name] = np.empty(shape, dtype)
        return self.arrays[name]


def load_or_build(
    fingerprint: Mapping[str, Any],
    build: Callable[[Sink], dict[str, Any]],
    *,
    enabled: bool = True,
    warn: Callable[[str], None],
) -> Stored:
    sink = _Memory()
    meta = build(sink)
    return Stored(sink.arrays, meta)
