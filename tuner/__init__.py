"""tuner: find a good CNN for an image task from a YAML search space, with keras-tuner.

The public API. Names load on first use, so ``import tuner`` (and ``tuner --help``) stays fast and only
``run_search`` and ``run_tiny_search`` bring in TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> the module that defines it
_PUBLIC = {
    "load_spec": "tuner.space.loading",
    "parse_spec": "tuner.space.loading",
    "Spec": "tuner.space.schema",
    "run_search": "tuner.engine.search",
    "SearchResult": "tuner.engine.search",
    "run_tiny_search": "tuner.testing",
    "without_timings": "tuner.testing",
    "load_run": "tuner.reports.records",
    "rank": "tuner.reports.ranking",
    "Trials": "tuner.reports.trials",
    "TunerError": "tuner.errors",
    "InputError": "tuner.errors",
}
__all__ = [
    "InputError",
    "SearchResult",
    "Spec",
    "Trials",
    "TunerError",
    "__version__",
    "load_run",
    "load_spec",
    "parse_spec",
    "rank",
    "run_search",
    "run_tiny_search",
    "without_timings",
]

if TYPE_CHECKING:
    from tuner.engine.search import SearchResult, run_search
    from tuner.errors import InputError, TunerError
    from tuner.reports.ranking import rank
    from tuner.reports.records import load_run
    from tuner.reports.trials import Trials
    from tuner.space.loading import load_spec, parse_spec
    from tuner.space.schema import Spec
    from tuner.testing import run_tiny_search


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'tuner' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)
