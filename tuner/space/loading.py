"""A space file read into a Spec, with every problem turned into one located line.

pydantic reports errors by location in the data; this module maps the first one back to the file's line
and the dotted key, in words a user can act on, with a suggestion for a misspelt key.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from pydantic import (
    ValidationError,
)

from tuner.errors import InputError
from tuner.space.schema import (
    CHOICE,
    FIXED,
    PER_BLOCK,
    RANGE,
    TUNABLE_KEYS,
    DataSpec,
    ModelSpec,
    Objective,
    OptimizerSpec,
    SearchSpec,
    Spec,
    TrainingSpec,
)
from tuner.space.yaml_source import YamlDocument, load_yaml
from tuner.text import quoted

SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "": tuple(Spec.model_fields),
    "data": tuple(DataSpec.model_fields),
    "model": tuple(ModelSpec.model_fields),
    "optimizer": tuple(OptimizerSpec.model_fields),
    "training": tuple(TrainingSpec.model_fields),
    "search": tuple(SearchSpec.model_fields),
    "search.objective": tuple(Objective.model_fields),
}


def load_spec(path: str | Path) -> tuple[Spec, YamlDocument]:
    """Load and validate a space file; every problem is an InputError naming file, line and key."""
    document = load_yaml(path)
    return parse_spec(document), document


def parse_spec(document: YamlDocument) -> Spec:
    """Validate an already parsed YAML document into a Spec."""
    raw = document.data
    if raw is None:
        raise document.error("", "is empty: it needs at least data.source")
    if not isinstance(raw, dict):
        raise document.error("", f"must be a mapping of keys to values (got {type(raw).__name__})")
    raw = {"name": _default_name(document.path), **raw}
    try:
        return Spec.model_validate(raw)
    except ValidationError as error:
        raise _first_problem(error, document) from None


def _default_name(path: str) -> str:
    """A run name from the file name, so the smallest file needs no ``name``."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "-", Path(path).stem).lstrip("._-")
    return stem or "search"


def _first_problem(error: ValidationError, document: YamlDocument) -> InputError:
    """Turn pydantic's first error into one located, readable InputError."""
    problem = error.errors(include_url=False)[0]
    loc = [str(part) for part in problem["loc"] if part not in (FIXED, CHOICE, RANGE, PER_BLOCK)]
    message = _readable(problem, loc)
    key = ".".join(loc)
    explicit = re.match(r"^([a-z_][a-z_.]*): (.*)$", message)
    if explicit:
        key = ".".join(filter(None, (key, explicit.group(1))))
        message = explicit.group(2)
    return document.error(key, message)


def _readable(problem: Any, loc: list[str]) -> str:
    """A short message for one pydantic error, with a suggestion where one helps."""
    kind = problem["type"]
    given = problem.get("input")
    if kind == "extra_forbidden":
        parent = ".".join(loc[:-1])
        allowed = SECTION_KEYS.get(parent, TUNABLE_KEYS)
        close = difflib.get_close_matches(loc[-1], allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of: {', '.join(allowed)}"
        return f"unknown key{hint}"
    if kind == "missing":
        return "is required"
    if kind == "union_tag_invalid":
        return f"expected a value or {{values: [...]}}, not a range (got {quoted(given)})"
    if kind == "literal_error":
        expected = problem["ctx"]["expected"].replace("'", "")
        return f"must be one of {expected} (got {quoted(given)})"
    if kind == "value_error":
        return str(problem["msg"]).removeprefix("Value error, ")
    message = str(problem["msg"])
    message = message.replace("Input should be", "must be").replace("List should have", "must have")
    if kind in ("too_short", "too_long") and isinstance(given, list):
        return message.split(" after validation")[0]
    return f"{message} (got {quoted(given)})"
