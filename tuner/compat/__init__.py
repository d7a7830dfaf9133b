"""Every private name of a library the project touches, one module per library, each with why."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

NOT_FOUND = object()


def absent_names(names: tuple[tuple[str, str, str], ...], present: Callable[[Any], bool]) -> list[str]:
    """Of ``(module path, attribute path, why)`` entries, those whose attribute the installed library lacks, as
    ``module.attribute``; ``present`` judges a value that was found (is it still what the project relies on)."""
    absent = []
    for module_name, attributes, _ in names:
        found: Any = importlib.import_module(module_name)
        for attribute in attributes.split("."):
            found = getattr(found, attribute, NOT_FOUND)
        if found is NOT_FOUND or not present(found):
            absent.append(f"{module_name}.{attributes}")
    return absent
