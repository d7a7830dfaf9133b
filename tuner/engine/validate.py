"""Check a space without training: its hyperparameters, its grid size, and its extreme models build."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuner.errors import InputError
from tuner.space.schema import Spec


@dataclass(frozen=True)
class HyperparameterRow:
    """One hyperparameter as keras-tuner will see it."""

    name: str
    kind: str
    values: str
    condition: str


@dataclass(frozen=True)
class SpaceCheck:
    """What ``tuner validate`` found: the space, its grid size, and the parameter counts of its extremes."""

    hyperparameters: list[HyperparameterRow]
    grid_size: int | None
    smallest_params: int
    largest_params: int
    samples: int
    input_shape: tuple[int, int, int]
    class_counts: dict[str, int]


def check_space(spec: Spec, base_dir: Path) -> SpaceCheck:
    """Look at the data and build the smallest and largest model of the space; raise InputError if any fails."""
    from tuner.data.sources import describe_data
    from tuner.engine.search import fitted_to_data
    from tuner.model.builder import build_model
    from tuner.model.space import declared_space

    data = describe_data(spec.data, base_dir, spec.seed)
    spec = fitted_to_data(spec, data.input_shape, len(data.counts))
    hp = declared_space(spec)
    params = []
    for which in ("smallest", "largest"):
        values = corner_values(spec, hp, which)
        try:
            model = build_model(values, data.input_shape, len(data.counts))
        except ValueError as error:
            raise InputError(f"the {which} model of the space cannot be built: {error}", key="model") from None
        params.append(model.count_params())
    limit = spec.search.max_params
    if limit is not None and min(params) > limit:
        raise InputError(
            f"search.max_params is {limit:,}, but the space's smallest and largest models have {params[0]:,} and"
            f" {params[1]:,} parameters: no configuration would be trained",
            key="search.max_params",
        )
    return SpaceCheck(
        hyperparameters=[_row(item) for item in hp.space],
        grid_size=grid_size(hp) if spec.search.algorithm == "grid" else None,
        smallest_params=params[0],
        largest_params=params[1],
        samples=data.samples,
        input_shape=data.input_shape,
        class_counts=data.counts,
    )


def corner_values(spec: Spec, hp: Any, which: str) -> dict[str, Any]:
    """Every hyperparameter at its smallest (or largest) value: the two models that bound the space."""
    pick = min if which == "smallest" else max
    values: dict[str, Any] = {}
    for item in hp.space:
        options = list(item.values)
        numeric = all(isinstance(option, (int, float)) and not isinstance(option, bool) for option in options)
        values[item.name] = pick(options) if numeric else options[0 if which == "smallest" else -1]
    blocks = values["conv_blocks"]
    return {
        name: value
        for name, value in values.items()
        if not (re.fullmatch(r"filters_\d+", name) and int(name.split("_")[1]) >= blocks)
    }


def grid_size(hp: Any) -> int:
    """The number of distinct configurations a grid search visits, counting conditional ones exactly."""
    by_name = {item.name: item for item in hp.space}
    parents = sorted({condition.name for item in hp.space for condition in item.conditions})
    parent_options = [_grid_values(by_name[name]) for name in parents]
    total = 0
    for assignment in itertools.product(*parent_options):
        chosen = dict(zip(parents, assignment, strict=True))
        count = 1
        for item in hp.space:
            if item.name in chosen:
                continue
            if all(chosen[condition.name] in condition.values for condition in item.conditions):
                count *= len(_grid_values(item))
        total += count
    return total


def _grid_values(item: Any) -> list[Any]:
    """The values keras-tuner's grid walks for one hyperparameter: its default, then its distinct ``values``.

    A stepless Float has no finite values; keras-tuner grids it at its default (the minimum) and ten
    evenly spaced quantiles (``Float.values``), which are distinct from the minimum unless the range is empty.
    """
    return list(dict.fromkeys([item.default, *item.values]))


def _row(item: Any) -> HyperparameterRow:
    kind = type(item).__name__
    if kind in ("Int", "Float"):
        step = f", step {item.step}" if item.step else ""
        values = f"{item.min_value} .. {item.max_value}{step}, {item.sampling}"
    else:
        values = ", ".join(str(value) for value in item.values)
    condition = "; ".join(f"{c.name} in {list(c.values)}" for c in item.conditions)
    return HyperparameterRow(item.name, kind, values, condition)
