"""The validated search-space spec: the contract between the YAML file and everything after it.

Every tunable key takes one of three forms, each mapped later onto a keras-tuner type:
a plain scalar (``Fixed``), ``{values: [...]}`` (``Choice``) or ``{min, max, step, sampling}``
(``Int`` for integer keys, ``Float`` for real-valued ones).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Generic, Literal, TypeVar, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

T = TypeVar("T")

FIXED, CHOICE, RANGE, PER_BLOCK = "<fixed>", "<choice>", "<range>", "<per-block>"
TUNABLE_KEYS = ("values", "min", "max", "step", "sampling")
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw", "nadam")
MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")
LOSSES = ("auto", "sparse_categorical_crossentropy", "binary_crossentropy", "hinge", "squared_hinge")
BINARY_LOSSES = ("binary_crossentropy", "hinge", "squared_hinge")
REPORTED_METRICS = ("loss", "val_loss", "accuracy", "val_accuracy")


class Strict(BaseModel):
    """Base for every spec model: immutable, no unknown keys, no silent type coercion."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Choice(Strict, Generic[T]):
    """``{values: [...]}``: keras-tuner ``Choice``."""

    values: list[T] = Field(min_length=1)

    @field_validator("values")
    @classmethod
    def _distinct(cls, values: list[T]) -> list[T]:
        if len(set(map(repr, values))) != len(values):
            raise ValueError("values must be distinct")
        return values


class Range(Strict, Generic[T]):
    """``{min, max, step, sampling}``: keras-tuner ``Int`` or ``Float``."""

    min: T
    max: T
    step: T | None = None
    sampling: Literal["linear", "log", "reverse_log"] = "linear"

    @model_validator(mode="after")
    def _ordered(self) -> Range[T]:
        if self.min > self.max:  # type: ignore[operator]
            raise ValueError(f"min: must be <= max (got min={self.min}, max={self.max})")
        if self.sampling != "linear" and self.min <= 0:  # type: ignore[operator]
            raise ValueError(f"min: must be > 0 for {self.sampling} sampling (got {self.min})")
        if self.step is not None and self.step <= 0:  # type: ignore[operator]
            raise ValueError(f"step: must be > 0 (got {self.step})")
        return self


def options(value: Any) -> list[Any]:
    """Every value a tunable key can take, for keys that are fixed or a choice."""
    if isinstance(value, Choice):
        return list(value.values)
    if isinstance(value, Range):
        raise TypeError("a range has no finite list of options")
    return [value]


def _as_written(value: Any) -> Any:
    """A tunable value as the YAML would write it, to compare with a default."""
    return value.model_dump(exclude_defaults=True) if isinstance(value, BaseModel) else value


def _form_of(value: Any) -> str:
    """Which tunable form a raw value is written in."""
    if isinstance(value, Choice) or (isinstance(value, dict) and "values" in value):
        return CHOICE
    if isinstance(value, (Range, dict)):
        return RANGE
    return FIXED


def _form_or_list(value: Any) -> str:
    """Like ``_form_of``, with a list read as one fixed value per conv block."""
    return PER_BLOCK if isinstance(value, list) else _form_of(value)


def _tunable(scalar: Any, numeric: bool, per_block: bool = False) -> Any:
    """The annotation for a key that may be fixed, a choice, (when numeric) a range, or a list per block."""
    members: list[Any] = [Annotated[scalar, Tag(FIXED)], Annotated[Choice[scalar], Tag(CHOICE)]]
    if numeric:
        members.append(Annotated[Range[scalar], Tag(RANGE)])
    if per_block:
        members.append(Annotated[Annotated[list[scalar], Field(min_length=1)], Tag(PER_BLOCK)])
    discriminator = _form_or_list if per_block else _form_of
    return Annotated[Union[tuple(members)], Discriminator(discriminator)]  # noqa: UP007 (built at run time)


PositiveInt = Annotated[int, Field(ge=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Rate = Annotated[float, Field(ge=0.0, lt=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
Momentum = Annotated[float, Field(ge=0.0, lt=1.0)]


SOURCES = ("digits", "npz", "directory", "shapes", "mnist", "fashion_mnist", "cifar10", "cifar100")
GROUPINGS = ("cross", "corner")
SHAPES_ONLY = ("samples", "grouping", "noise")


class DataSpec(Strict):
    """Where the labelled images come from, how many are used, and how they are split."""

    source: Literal[SOURCES]
    path: str | None = None
    image_size: Annotated[list[PositiveInt], Field(min_length=2, max_length=2)] = [32, 32]
    color_mode: Literal["grayscale", "rgb"] = "grayscale"
    labels: Literal["auto", "binary", "multiclass"] = "auto"
    limit: PositiveInt | None = None
    validation_split: float = Field(default=0.2, gt=0.0, lt=1.0)
    test_split: float = Field(default=0.0, ge=0.0, lt=1.0)
    # Options of the generated shapes source; None means the generator's default.
    samples: Annotated[int, Field(ge=2)] | None = None
    grouping: Literal[GROUPINGS] | None = None
    noise: Annotated[float, Field(ge=0.0, le=1.0)] | None = None

    @model_validator(mode="after")
    def _options_match_source(self) -> DataSpec:
        if self.source in ("npz", "directory") and not self.path:
            raise ValueError(f"path: is required for source {self.source}")
        if self.source not in ("npz", "directory") and self.path:
            raise ValueError("path: is only read for source npz or directory")
        for key in SHAPES_ONLY:
            if self.source != "shapes" and getattr(self, key) is not None:
                raise ValueError(f"{key}: is only read for source shapes")
        if self.validation_split + self.test_split >= 1.0:
            raise ValueError("test_split: validation_split and test_split together must leave training data")
        return self


class ModelSpec(Strict):
    """The CNN family: conv blocks, then an optional dense layer, then the readout."""

    conv_blocks: _tunable(PositiveInt, numeric=True) = Field(default={"min": 1, "max": 3}, validate_default=True)
    # A list fixes each block's filters (as ``tuner export`` writes them); other forms apply to every block.
    filters: _tunable(PositiveInt, numeric=True, per_block=True) = Field(
        default={"values": [8, 16, 32, 64]}, validate_default=True
    )
    kernel_size: _tunable(PositiveInt, numeric=True) = 3
    pooling: _tunable(Literal["max", "avg", "none"], numeric=False) = "max"
    batch_norm: _tunable(bool, numeric=False) = False
    dropout: _tunable(Rate, numeric=True) = Field(default={"min": 0.0, "max": 0.5, "step": 0.1}, validate_default=True)
    dense_units: _tunable(NonNegativeInt, numeric=True) = Field(default={"values": [0, 64]}, validate_default=True)


class OptimizerSpec(Strict):
    """The optimiser and its settings; momentum only exists for sgd and rmsprop."""

    name: _tunable(Literal[OPTIMIZERS], numeric=False) = Field(
        default={"values": ["adam", "sgd"]}, validate_default=True
    )
    learning_rate: _tunable(PositiveFloat, numeric=True) = Field(
        default={"min": 1e-4, "max": 1e-1, "sampling": "log"}, validate_default=True
    )
    momentum: _tunable(Momentum, numeric=True) = Field(default={"min": 0.0, "max": 0.9}, validate_default=True)

    @model_validator(mode="after")
    def _momentum_is_used(self) -> OptimizerSpec:
        unused = not set(options(self.name)) & set(MOMENTUM_OPTIMIZERS)
        if unused and _as_written(self.momentum) != type(self).model_fields["momentum"].default:
            raise ValueError("momentum: is only used by sgd and rmsprop; remove it or add one of them to name")
        return self


class TrainingSpec(Strict):
    """How each candidate is trained."""

    epochs: _tunable(PositiveInt, numeric=True) = 10
    batch_size: _tunable(PositiveInt, numeric=True) = Field(default={"values": [32, 64]}, validate_default=True)
    loss: _tunable(Literal[LOSSES], numeric=False) = "auto"
    early_stopping: NonNegativeInt = 3
    # Each restart trains the same configuration from another seed; reports rank by the mean objective.
    restarts: PositiveInt = 1
    # GPU settings: float16 compute with float32 readout, and Keras' XLA switch ("auto": Keras decides).
    mixed_precision: bool = False
    jit_compile: Literal["auto", True, False] = "auto"


class Objective(Strict):
    """The metric keras-tuner ranks trials by, and whether lower or higher is better."""

    name: Literal[REPORTED_METRICS]
    direction: Literal["min", "max"]


class SearchSpec(Strict):
    """Which keras-tuner algorithm explores the space, towards which objective, for how long."""

    algorithm: Literal["random", "bayesian", "hyperband", "grid"] = "random"
    objective: Objective = Objective(name="val_loss", direction="min")
    max_trials: PositiveInt = 20
    max_consecutive_failures: PositiveInt = 3
    # bayesian only: random trials before the oracle models the space (default: tuner.bayesian.initial_points)
    initial_points: PositiveInt | None = None

    @field_validator("objective", mode="before")
    @classmethod
    def _objective_shorthand(cls, value: Any) -> Any:
        if isinstance(value, str) and value in REPORTED_METRICS:
            return {"name": value, "direction": "min" if value.endswith("loss") else "max"}
        if isinstance(value, str):
            raise ValueError(f"unknown metric {value!r}: the models report {', '.join(REPORTED_METRICS)}")
        return value


RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class Spec(Strict):
    """A whole search space, validated: everything downstream trusts it."""

    name: str
    seed: NonNegativeInt = 42
    data: DataSpec
    model: ModelSpec = ModelSpec()
    optimizer: OptimizerSpec = OptimizerSpec()
    training: TrainingSpec = TrainingSpec()
    search: SearchSpec = SearchSpec()

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        if not RUN_NAME.match(name) or name in (".", ".."):
            raise ValueError(
                f"must be letters, digits, '.', '_' or '-' and start with a letter or digit (got {name!r}):"
                " it names the run directory"
            )
        return name

    @model_validator(mode="after")
    def _consistent(self) -> Spec:
        if self.search.algorithm == "hyperband" and not isinstance(self.training.epochs, int):
            raise ValueError("training.epochs: hyperband schedules epochs itself; give the maximum as one number")
        if self.search.initial_points is not None and self.search.algorithm != "bayesian":
            raise ValueError("search.initial_points: only the bayesian algorithm has a random start to size")
        if self.search.algorithm == "grid":
            for key, value in tunables(self).items():
                used = key != "optimizer.momentum" or set(options(self.optimizer.name)) & set(MOMENTUM_OPTIMIZERS)
                if used and isinstance(value, Range) and value.step is None and isinstance(value.min, float):
                    raise ValueError(f"{key}: a grid needs a step for a real-valued range")
        if isinstance(self.model.filters, list) and len(self.model.filters) < largest(self.model.conv_blocks):
            raise ValueError(
                f"model.filters: gives {len(self.model.filters)} per-block values but conv_blocks can be"
                f" {largest(self.model.conv_blocks)}; give one per block"
            )
        if self.search.objective.name.endswith("loss") and not isinstance(self.training.loss, str):
            raise ValueError(
                "training.loss: losses of different kinds cannot be ranked by one loss objective;"
                " fix the loss or use objective val_accuracy"
            )
        return self


def largest(value: Any) -> Any:
    """The largest value a fixed, choice or range key can take."""
    return value.max if isinstance(value, Range) else max(options(value))


def tunables(spec: Spec) -> dict[str, Any]:
    """Every tunable key of the spec by dotted name, in a stable order."""
    found: dict[str, Any] = {}
    for section in ("model", "optimizer", "training"):
        part = getattr(spec, section)
        for key in type(part).model_fields:
            found[f"{section}.{key}"] = getattr(part, key)
    return found
