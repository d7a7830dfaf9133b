"""The validated search-space spec: the contract between the YAML file and everything after it.

Every tunable key takes one of three forms, each mapped later onto a keras-tuner type:
a plain scalar (``Fixed``), ``{values: [...]}`` (``Choice``) or ``{min, max, step, sampling}``
(``Int`` for integer keys, ``Float`` for real-valued ones). Each enumerated setting is one ``Literal``
with its tuple of names derived from it; every field carries the description that the published JSON
Schema (``tuner.space.json_schema``) shows in editors.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Generic, Literal, TypeVar, Union, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from typing_extensions import TypeAliasType

from tuner.text import quoted

T = TypeVar("T")

FIXED, CHOICE, RANGE, PER_BLOCK = "<fixed>", "<choice>", "<range>", "<per-block>"
TUNABLE_KEYS = ("values", "min", "max", "step", "sampling")

MomentumOptimizer = Literal["sgd", "rmsprop"]
Optimizer = Literal["adam", MomentumOptimizer, "adamw", "nadam"]
BinaryLoss = Literal["binary_crossentropy", "hinge", "squared_hinge"]
Loss = Literal["auto", "sparse_categorical_crossentropy", BinaryLoss]
Metric = Literal["loss", "val_loss", "accuracy", "val_accuracy"]
PathSource = Literal["npz", "directory"]
StandardSource = Literal["mnist", "fashion_mnist", "cifar10", "cifar100"]
Source = Literal["digits", PathSource, "shapes", StandardSource]
BadImage = Literal["error", "skip"]
ClassWeight = Literal["none", "balanced"]
Algorithm = Literal["random", "bayesian", "hyperband", "grid"]
Pooling = Literal["max", "avg", "none"]
Sampling = Literal["linear", "log", "reverse_log"]
ColorMode = Literal["grayscale", "rgb"]
LabelMode = Literal["auto", "binary", "multiclass"]
Direction = Literal["min", "max"]
Grouping = Literal["cross", "corner"]
JitCompile = Literal["auto", True, False]
Activation = Literal["relu", "gelu", "swish", "elu"]
Head = Literal["flatten", "global_avg", "global_max"]
Schedule = Literal["constant", "cosine", "exponential"]
Flip = Literal["none", "horizontal", "vertical", "both"]
DecayingOptimizer = Literal["adamw", "sgd"]
HingeLoss = Literal["hinge", "squared_hinge"]

MOMENTUM_OPTIMIZERS = get_args(MomentumOptimizer)
OPTIMIZERS = get_args(Optimizer)
BINARY_LOSSES = get_args(BinaryLoss)
LOSSES = get_args(Loss)
REPORTED_METRICS = get_args(Metric)
PATH_SOURCES = get_args(PathSource)
STANDARD_SOURCES = get_args(StandardSource)
BAD_IMAGE_MODES = get_args(BadImage)
CLASS_WEIGHTS = get_args(ClassWeight)
SOURCES = get_args(Source)
ALGORITHMS = get_args(Algorithm)
POOLINGS = get_args(Pooling)
SAMPLINGS = get_args(Sampling)
COLOR_MODES = get_args(ColorMode)
LABEL_MODES = get_args(LabelMode)
DIRECTIONS = get_args(Direction)
GROUPINGS = get_args(Grouping)
JIT_COMPILE_MODES = get_args(JitCompile)
ACTIVATIONS = get_args(Activation)
HEADS = get_args(Head)
SCHEDULES = get_args(Schedule)
FLIPS = get_args(Flip)
DECAYING_OPTIMIZERS = get_args(DecayingOptimizer)
HINGE_LOSSES = get_args(HingeLoss)

# Named aliases: the JSON Schema gets one definition per name (``Choice_PositiveInt_``), not pydantic's
# rendering of the constraints.
PositiveInt = TypeAliasType("PositiveInt", Annotated[int, Field(ge=1)])
NonNegativeInt = TypeAliasType("NonNegativeInt", Annotated[int, Field(ge=0)])
Rate = TypeAliasType("Rate", Annotated[float, Field(ge=0.0, lt=1.0)])
PositiveFloat = TypeAliasType("PositiveFloat", Annotated[float, Field(gt=0.0)])
Momentum = TypeAliasType("Momentum", Annotated[float, Field(ge=0.0, lt=1.0)])
NonNegativeFloat = TypeAliasType("NonNegativeFloat", Annotated[float, Field(ge=0.0)])
Growth = TypeAliasType("Growth", Annotated[float, Field(ge=1.0, le=4.0)])
Turn = TypeAliasType("Turn", Annotated[float, Field(ge=0.0, le=0.5)])
Fraction = TypeAliasType("Fraction", Annotated[float, Field(ge=0.0, lt=1.0)])


class Strict(BaseModel):
    """Base for every spec model: immutable, no unknown keys, no silent type coercion, no infinite or NaN number
    (YAML's ``.inf`` would pass every lower bound)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Choice(Strict, Generic[T]):
    """``{values: [...]}``: keras-tuner ``Choice``."""

    values: list[T] = Field(min_length=1, description="The distinct values to choose from (keras-tuner Choice).")

    @field_validator("values")
    @classmethod
    def _distinct(cls, values: list[T]) -> list[T]:
        if len(set(map(repr, values))) != len(values):
            raise ValueError("values must be distinct")
        return values


class Range(Strict, Generic[T]):
    """``{min, max, step, sampling}``: keras-tuner ``Int`` or ``Float``."""

    min: T = Field(description="The smallest value; the default a grid search starts from.")
    max: T = Field(description="The largest value (inclusive).")
    step: T | None = Field(
        default=None,
        description="Distance between values; a stepless real range is gridded at its minimum and ten quantiles.",
    )
    sampling: Sampling = Field(
        default="linear", description="linear | log | reverse_log: how values are spread between min and max."
    )

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


SHAPES_ONLY = ("samples", "grouping", "noise")
OFFICIAL = "official"


class DataSpec(Strict):
    """Where the labelled images come from, how many are used, and how they are split."""

    source: Source = Field(
        description="The images: digits (bundled) | npz | directory | shapes (generated)"
        " | mnist | fashion_mnist | cifar10 | cifar100."
    )
    path: str | None = Field(
        default=None,
        description="npz: a .npz file; directory: one sub-folder per class; mnist, fashion_mnist, cifar10,"
        " cifar100: a folder holding the dataset's original files (default: Keras' download cache)."
        " Relative to the space file.",
    )
    image_size: Annotated[list[PositiveInt], Field(min_length=2, max_length=2)] = Field(
        default=[32, 32], description="directory and shapes: the images' [height, width]."
    )
    color_mode: ColorMode = Field(default="grayscale", description="directory only: grayscale (1 channel) | rgb (3).")
    class_names: Annotated[list[str], Field(min_length=2)] | None = Field(
        default=None,
        description="The classes in label order. directory: exactly these sub-folders, in this order;"
        " other sources: names for their labels (sorted label values).",
    )
    labels: LabelMode = Field(
        default="auto",
        description="auto | binary | multiclass: binary = one real output and ±1 targets (two classes only);"
        " auto picks binary for two classes.",
    )
    limit: PositiveInt | None = Field(default=None, description="Use only the first N samples, for quick runs.")
    validation_split: float = Field(
        default=0.2, gt=0.0, lt=1.0, description="Share of the samples keras-tuner ranks trials on."
    )
    test_split: Annotated[float, Field(ge=0.0, lt=1.0)] | Literal["official"] = Field(
        default=0.0,
        description="Share held out as a test set, never seen by the search; the top trials are scored on it."
        " official (the default for mnist, fashion_mnist, cifar10, cifar100): the dataset's own test set.",
    )
    class_weight: ClassWeight = Field(
        default="none",
        description="none | balanced: weigh each class's samples by n_samples / (n_classes * n_class) in the"
        " training and validation losses (scikit-learn's compute_class_weight).",
    )
    cache: bool = Field(
        default=True,
        description="npz, directory and the standard datasets: decode once into a memory-mapped uint8 file in"
        " $TUNER_CACHE (else $XDG_CACHE_HOME/tuner, else ~/.cache/tuner) that every process shares.",
    )
    on_bad_image: BadImage = Field(
        default="error", description="directory only: error | skip: what an unreadable image file does."
    )
    samples: Annotated[int, Field(ge=2)] | None = Field(
        default=None, description="shapes only: number of images (default 2000)."
    )
    grouping: Grouping | None = Field(
        default=None, description="shapes only: the grouping to detect, cross | corner (default cross)."
    )
    noise: Annotated[float, Field(ge=0.0, le=1.0)] | None = Field(
        default=None, description="shapes only: standard deviation of the Gaussian pixel noise (default 0.1)."
    )

    @model_validator(mode="before")
    @classmethod
    def _standard_datasets_keep_their_test_set(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("source") in STANDARD_SOURCES and "test_split" not in data:
            return {**data, "test_split": OFFICIAL}
        return data

    @field_validator("class_names")
    @classmethod
    def _distinct_names(cls, names: list[str] | None) -> list[str] | None:
        if names is not None and len(set(names)) != len(names):
            raise ValueError("must be distinct")
        return names

    @model_validator(mode="after")
    def _options_match_source(self) -> DataSpec:
        if self.source in PATH_SOURCES and not self.path:
            raise ValueError(f"path: is required for source {self.source}")
        if self.source not in (*PATH_SOURCES, *STANDARD_SOURCES) and self.path:
            raise ValueError("path: is only read for source npz, directory and the standard datasets")
        for key in SHAPES_ONLY:
            if self.source != "shapes" and getattr(self, key) is not None:
                raise ValueError(f"{key}: is only read for source shapes")
        if self.on_bad_image != "error" and self.source != "directory":
            raise ValueError("on_bad_image: is only read for source directory")
        if self.test_split == OFFICIAL and self.source not in STANDARD_SOURCES:
            raise ValueError(
                f"test_split: only {', '.join(STANDARD_SOURCES)} have an official test set; give a share instead"
            )
        if self.test_split != OFFICIAL and self.validation_split + self.test_split >= 1.0:
            raise ValueError("test_split: validation_split and test_split together must leave training data")
        return self


class ModelSpec(Strict):
    """The CNN family: conv blocks, then an optional dense layer, then the readout."""

    conv_blocks: _tunable(PositiveInt, numeric=True) = Field(
        default={"min": 1, "max": 3}, validate_default=True, description="Depth: the number of conv blocks."
    )
    # A list fixes each block's filters (as ``tuner export`` writes them); other forms apply to every block.
    filters: _tunable(PositiveInt, numeric=True, per_block=True) = Field(
        default={"values": [8, 16, 32, 64]},
        validate_default=True,
        description="Conv filters, drawn separately for every block (filters_0, filters_1, ...);"
        " a list fixes them block by block.",
    )
    kernel_size: _tunable(PositiveInt, numeric=True) = Field(default=3, description="Side of the square conv kernels.")
    pooling: _tunable(TypeAliasType("Pooling", Pooling), numeric=False) = Field(
        default="max", description="max | avg | none, after each block while the feature map is larger than 1 pixel."
    )
    batch_norm: _tunable(bool, numeric=False) = Field(
        default=False, description="Batch normalisation after each convolution."
    )
    dropout: _tunable(Rate, numeric=True) = Field(
        default={"min": 0.0, "max": 0.5, "step": 0.1},
        validate_default=True,
        description="Dropout rate after the conv features, in [0, 1).",
    )
    dense_units: _tunable(NonNegativeInt, numeric=True) = Field(
        default={"values": [0, 64]},
        validate_default=True,
        description="Units of the dense layer before the readout; 0 = straight from the conv features to the readout.",
    )
    convs_per_block: _tunable(PositiveInt, numeric=True) = Field(
        default=1,
        description="Convolution layers in each block (a stage of the design notes), each with its own"
        " batch norm and activation; pooling follows the block.",
    )
    residual: _tunable(bool, numeric=False) = Field(
        default=False,
        description="A shortcut around each block, added before its last activation; a 1x1 convolution projects"
        " it where the block changes the channel count.",
    )
    filters_growth: _tunable(Growth, numeric=True) | None = Field(
        default=None,
        description="Instead of drawing every block's filters: block i has the first block's filters times"
        " growth ** i (in [1, 4]); a smaller space for deep networks.",
    )
    activation: _tunable(TypeAliasType("Activation", Activation), numeric=False) = Field(
        default="relu", description="relu | gelu | swish | elu, after every convolution and the dense layer."
    )
    head: _tunable(TypeAliasType("Head", Head), numeric=False) = Field(
        default="flatten",
        description="flatten | global_avg | global_max: how the last feature map becomes the dense layer's input.",
    )

    @model_validator(mode="after")
    def _growth_replaces_per_block_filters(self) -> ModelSpec:
        if self.filters_growth is not None and isinstance(self.filters, list):
            raise ValueError(
                "filters_growth: derives every block's filters from the first; give filters one setting, not a list"
            )
        return self


class OptimizerSpec(Strict):
    """The optimiser and its settings; momentum only exists for sgd and rmsprop."""

    name: _tunable(TypeAliasType("Optimizer", Optimizer), numeric=False) = Field(
        default={"values": ["adam", "sgd"]},
        validate_default=True,
        description="adam | sgd | rmsprop | adamw | nadam.",
    )
    learning_rate: _tunable(PositiveFloat, numeric=True) = Field(
        default={"min": 1e-4, "max": 1e-1, "sampling": "log"},
        validate_default=True,
        description="The optimiser's learning rate, > 0.",
    )
    momentum: _tunable(Momentum, numeric=True) = Field(
        default={"min": 0.0, "max": 0.9},
        validate_default=True,
        description="Only for sgd and rmsprop (a conditional hyperparameter), in [0, 1).",
    )

    weight_decay: _tunable(NonNegativeFloat, numeric=True) | None = Field(
        default=None,
        description="Decoupled weight decay, for adamw and sgd only (a conditional hyperparameter);"
        " unset, adamw keeps Keras' 0.004 and sgd has none.",
    )
    schedule: _tunable(TypeAliasType("Schedule", Schedule), numeric=False) = Field(
        default="constant",
        description="constant | cosine | exponential: the learning rate per epoch after the warm-up; cosine falls"
        " towards 0 and exponential to 1/100 of it at the last epoch.",
    )
    warmup_epochs: _tunable(NonNegativeInt, numeric=True) = Field(
        default=0, description="Epochs over which the learning rate rises linearly to its value first."
    )

    @model_validator(mode="after")
    def _weight_decay_is_used(self) -> OptimizerSpec:
        if self.weight_decay is not None and not set(options(self.name)) & set(DECAYING_OPTIMIZERS):
            raise ValueError(
                "weight_decay: only adamw and sgd decay weights here; remove it or add one of them to name"
            )
        return self

    @model_validator(mode="after")
    def _momentum_is_used(self) -> OptimizerSpec:
        unused = not set(options(self.name)) & set(MOMENTUM_OPTIMIZERS)
        if unused and _as_written(self.momentum) != type(self).model_fields["momentum"].default:
            raise ValueError("momentum: is only used by sgd and rmsprop; remove it or add one of them to name")
        return self


class TrainingSpec(Strict):
    """How each candidate is trained."""

    epochs: _tunable(PositiveInt, numeric=True) = Field(
        default=10, description="Epochs per trial; with hyperband, the maximum, one number."
    )
    batch_size: _tunable(PositiveInt, numeric=True) = Field(
        default={"values": [32, 64]}, validate_default=True, description="Samples per gradient step."
    )
    loss: _tunable(TypeAliasType("Loss", Loss), numeric=False) = Field(
        default="auto",
        description="auto | sparse_categorical_crossentropy | binary_crossentropy | hinge | squared_hinge;"
        " auto: binary_crossentropy for binary labels, sparse_categorical_crossentropy otherwise.",
    )
    label_smoothing: _tunable(Rate, numeric=True) = Field(
        default=0.0,
        description="Cross-entropy losses only: the share of each target spread over all classes, in [0, 1).",
    )
    early_stopping: NonNegativeInt = Field(default=3, description="Patience in epochs on the objective; 0 = off.")
    restarts: PositiveInt = Field(
        default=1, description="Train each configuration N times from different seeds; rank by the mean."
    )
    mixed_precision: bool = Field(default=False, description="GPU: float16 compute with a float32 readout.")
    jit_compile: JitCompile = Field(
        default="auto", description="auto | true | false: XLA compilation (auto: Keras decides)."
    )


class AugmentationSpec(Strict):
    """Random changes to the training images, inside the model: inactive when it predicts, and seeded."""

    flip: _tunable(TypeAliasType("Flip", Flip), numeric=False) = Field(
        default="none", description="none | horizontal | vertical | both: random mirroring."
    )
    rotation: _tunable(Turn, numeric=True) = Field(
        default=0.0, description="Largest random rotation, as a share of a full turn, in [0, 0.5]."
    )
    translation: _tunable(Fraction, numeric=True) = Field(
        default=0.0, description="Largest random shift, as a share of the height and width, in [0, 1)."
    )
    zoom: _tunable(Fraction, numeric=True) = Field(
        default=0.0, description="Largest random zoom in or out, as a share of the size, in [0, 1)."
    )
    contrast: _tunable(Fraction, numeric=True) = Field(
        default=0.0, description="Largest random contrast change, as a share, in [0, 1)."
    )


class Objective(Strict):
    """The metric keras-tuner ranks trials by, and whether lower or higher is better."""

    name: Metric = Field(description="The metric to rank by: loss | val_loss | accuracy | val_accuracy.")
    direction: Direction = Field(description="min | max: whether lower or higher is better.")


DURATION = re.compile(r"^(\d+(?:\.\d*)?)\s*([smh])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


def seconds_of(duration: str) -> float:
    """``90s``, ``20m``, ``8h`` (or ``1.5h``) in seconds; a ValueError naming the forms for anything else."""
    match = DURATION.match(duration.strip())
    if match is None:
        raise ValueError(
            f"{quoted(duration)} is not a duration: write seconds, or a number with s, m or h (90s, 20m, 8h)"
        )
    return float(match[1]) * UNIT_SECONDS[match[2]]


def _seconds_or_duration(schema: dict[str, Any]) -> None:
    """Publish the spelled-out form ``_duration`` reads beside the number of seconds."""
    schema["anyOf"] = [
        {"type": "number", "exclusiveMinimum": 0},
        {"type": "string", "pattern": DURATION.pattern},
        {"type": "null"},
    ]


def _objective_or_metric(schema: dict[str, Any]) -> None:
    """Publish the shorthand ``_objective_shorthand`` reads: a metric name alone is an objective too."""
    objective = {key: schema.pop(key) for key in ("$ref", "allOf") if key in schema}
    schema["anyOf"] = [objective, {"enum": list(REPORTED_METRICS)}]


class SearchSpec(Strict):
    """Which keras-tuner algorithm explores the space, towards which objective, for how long."""

    algorithm: Algorithm = Field(default="random", description="random | bayesian | hyperband | grid.")
    objective: Objective = Field(
        default=Objective(name="val_loss", direction="min"),
        description="A metric name (losses minimised, accuracies maximised) or {name: ..., direction: min|max}.",
        json_schema_extra=_objective_or_metric,
    )
    max_trials: PositiveInt = Field(default=20, description="The most configurations to try.")
    max_consecutive_failures: PositiveInt = Field(
        default=3, description="Stop when this many trials in a row failed (NaN loss, out of memory)."
    )
    initial_points: PositiveInt | None = Field(
        default=None,
        description="bayesian only: random trials before it models the space"
        " (default: three per tunable hyperparameter, at most a quarter of max_trials, at least 3).",
    )
    tensorboard: bool = Field(
        default=False,
        description="Write per-trial scalars and TensorBoard's HParams records under <run>/tensorboard/"
        " (keras-tuner's own TensorBoard integration; TensorFlow backend).",
    )
    max_params: PositiveInt | None = Field(
        default=None,
        description="Configurations whose model has more parameters than this are never trained"
        " (keras-tuner's max_model_size): they count as trials and are reported as skipped, not failed.",
    )
    max_time: PositiveFloat | None = Field(
        default=None,
        description="Wall-clock budget of the whole search, over all its sessions: seconds, or a number with s, m"
        " or h (90s, 20m, 8h). No trial starts after it, and a running one stops at the end of its epoch."
        " Raising it extends a run.",
        json_schema_extra=_seconds_or_duration,
    )

    @field_validator("max_time", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return seconds_of(value) if isinstance(value, str) else value

    @field_validator("objective", mode="before")
    @classmethod
    def _objective_shorthand(cls, value: Any) -> Any:
        if isinstance(value, str) and value in REPORTED_METRICS:
            return {"name": value, "direction": "min" if value.endswith("loss") else "max"}
        if isinstance(value, str):
            raise ValueError(f"unknown metric {quoted(value)}: the models report {', '.join(REPORTED_METRICS)}")
        return value


RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class Spec(Strict):
    """A whole search space, validated: everything downstream trusts it."""

    name: str = Field(description="Run name: results go to <runs-dir>/<name>/ (default: the space file's name).")
    seed: NonNegativeInt = Field(default=42, description="One seed drives sampling, weight init and shuffling.")
    data: DataSpec = Field(description="Where the labelled images come from and how they are split.")
    model: ModelSpec = Field(default=ModelSpec(), description="The CNN family searched over.")
    optimizer: OptimizerSpec = Field(default=OptimizerSpec(), description="The optimiser and its settings.")
    training: TrainingSpec = Field(default=TrainingSpec(), description="Epochs, batches, loss and restarts per trial.")
    augmentation: AugmentationSpec = Field(
        default=AugmentationSpec(), description="Random changes to the training images; all off by default."
    )
    search: SearchSpec = Field(
        default=SearchSpec(), description="The keras-tuner algorithm, its objective and its budget."
    )

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        if not RUN_NAME.match(name) or name in (".", ".."):
            raise ValueError(
                f"must be letters, digits, '.', '_' or '-' and start with a letter or digit (got {quoted(name)}):"
                " it names the run directory"
            )
        return name

    # One validator per cross-section rule; pydantic runs them in this order and reports the first failure.
    @model_validator(mode="after")
    def _hyperband_epochs_are_one_number(self) -> Spec:
        if self.search.algorithm == "hyperband" and not isinstance(self.training.epochs, int):
            raise ValueError("training.epochs: hyperband schedules epochs itself; give the maximum as one number")
        return self

    @model_validator(mode="after")
    def _initial_points_only_for_bayesian(self) -> Spec:
        if self.search.initial_points is not None and self.search.algorithm != "bayesian":
            raise ValueError("search.initial_points: only the bayesian algorithm has a random start to size")
        return self

    @model_validator(mode="after")
    def _per_block_filters_cover_the_deepest_model(self) -> Spec:
        if isinstance(self.model.filters, list) and len(self.model.filters) < largest(self.model.conv_blocks):
            raise ValueError(
                f"model.filters: gives {len(self.model.filters)} per-block values but conv_blocks can be"
                f" {largest(self.model.conv_blocks)}; give one per block"
            )
        return self

    @model_validator(mode="after")
    def _only_cross_entropy_is_smoothed(self) -> Spec:
        hinges = set(options(self.training.loss)) & set(HINGE_LOSSES)
        if hinges and _as_written(self.training.label_smoothing) != 0.0:
            raise ValueError(
                f"training.label_smoothing: {sorted(hinges)[0]} trains on ±1 targets, which have nothing to smooth;"
                " remove label_smoothing or use a cross-entropy loss"
            )
        return self

    @model_validator(mode="after")
    def _loss_objective_needs_one_loss(self) -> Spec:
        if self.search.objective.name.endswith("loss") and not isinstance(self.training.loss, str):
            raise ValueError(
                "training.loss: losses of different kinds cannot be ranked by one loss objective;"
                " fix the loss or use objective val_accuracy"
            )
        return self


def largest(value: Any) -> Any:
    """The largest value a fixed, choice or range key can take."""
    return value.max if isinstance(value, Range) else max(options(value))
