"""The spec's search space declared on keras-tuner's HyperParameters, and the depth an input allows.

Per-block filters and momentum are conditional hyperparameters; everything else maps one spec key onto
one keras-tuner hyperparameter under the short name reports show.
"""

from __future__ import annotations

import math
from typing import Any

import keras_tuner

from tuner.errors import InputError
from tuner.space.schema import DECAYING_OPTIMIZERS, MOMENTUM_OPTIMIZERS, Choice, Range, Spec, options

# Short hyperparameter names, as they appear in keras-tuner's records and in reports.
HP_NAMES: dict[str, str] = {
    "model.conv_blocks": "conv_blocks",
    "model.kernel_size": "kernel_size",
    "model.pooling": "pooling",
    "model.batch_norm": "batch_norm",
    "model.dropout": "dropout",
    "model.dense_units": "dense_units",
    "optimizer.name": "optimizer",
    "optimizer.learning_rate": "learning_rate",
    "training.epochs": "epochs",
    "training.batch_size": "batch_size",
    "training.loss": "loss",
}
# Keys declared only when a space sets them: at their defaults they add no hyperparameter, so a space
# written before them keeps its trials, seeds and losses.
OPTIONAL_HP_NAMES: dict[str, str] = {
    "model.convs_per_block": "convs_per_block",
    "model.residual": "residual",
    "model.activation": "activation",
    "model.head": "head",
    "optimizer.schedule": "schedule",
    "optimizer.warmup_epochs": "warmup_epochs",
    "training.label_smoothing": "label_smoothing",
    "augmentation.flip": "flip",
    "augmentation.rotation": "rotation",
    "augmentation.translation": "translation",
    "augmentation.zoom": "zoom",
    "augmentation.contrast": "contrast",
}
# What the builder assumes for a key the space left out.
DEFAULTS: dict[str, Any] = {
    "convs_per_block": 1,
    "residual": False,
    "activation": "relu",
    "head": "flatten",
    "schedule": "constant",
    "warmup_epochs": 0,
    "label_smoothing": 0.0,
    "flip": "none",
    "rotation": 0.0,
    "translation": 0.0,
    "zoom": 0.0,
    "contrast": 0.0,
}


def declare(hp: keras_tuner.HyperParameters, name: str, value: Any) -> Any:
    """Register one spec value on ``hp`` as Fixed, Choice, Int or Float and return its current value."""
    if isinstance(value, Choice):
        return hp.Choice(name, list(value.values))
    if isinstance(value, Range):
        kind = hp.Int if isinstance(value.min, int) and isinstance(value.max, int) else hp.Float
        return kind(name, value.min, value.max, step=value.step, sampling=value.sampling)
    return hp.Fixed(name, value)


def range_values(value: Any) -> list[Any]:
    """All values of a fixed, choice or integer-range key (used for conditional parents)."""
    if isinstance(value, Range):
        return list(range(value.min, value.max + 1, value.step or 1))
    return options(value)


def declare_space(hp: keras_tuner.HyperParameters, spec: Spec) -> dict[str, Any]:
    """Register the whole space on ``hp`` and return the values of the active hyperparameters.

    Per-block filters, momentum and weight decay are conditional: ``filters_i`` exists only when there are
    more than ``i`` blocks, ``momentum`` and ``weight_decay`` only for optimisers that have them.
    """
    values = {short: declare(hp, short, _setting(spec, key)) for key, short in HP_NAMES.items()}
    for key, short in OPTIONAL_HP_NAMES.items():
        if not _is_default(spec, key):
            values[short] = declare(hp, short, _setting(spec, key))
    blocks = values["conv_blocks"]
    depths = range_values(spec.model.conv_blocks)
    # With a growth rule only the first block's filters are drawn; the others follow from it.
    drawn = 1 if spec.model.filters_growth is not None else max(depths)
    if spec.model.filters_growth is not None:
        values["filters_growth"] = declare(hp, "filters_growth", spec.model.filters_growth)
    for index in range(drawn):
        deeper = [depth for depth in depths if depth > index]
        if len(deeper) == len(depths):
            value = declare(hp, f"filters_{index}", block_filters(spec, index))
        else:
            with hp.conditional_scope("conv_blocks", deeper):
                value = declare(hp, f"filters_{index}", block_filters(spec, index))
        if index < blocks:
            values[f"filters_{index}"] = value
    _declare_for_optimizers(hp, spec, values, "momentum", spec.optimizer.momentum, MOMENTUM_OPTIMIZERS)
    if spec.optimizer.weight_decay is not None:
        _declare_for_optimizers(hp, spec, values, "weight_decay", spec.optimizer.weight_decay, DECAYING_OPTIMIZERS)
    return values


def _declare_for_optimizers(
    hp: keras_tuner.HyperParameters,
    spec: Spec,
    values: dict[str, Any],
    name: str,
    setting: Any,
    users: tuple[str, ...],
) -> None:
    """Declare a setting only some optimisers have, conditional on the optimiser where the space has others too."""
    names = options(spec.optimizer.name)
    using = [optimizer for optimizer in names if optimizer in users]
    if using and len(using) == len(names):
        values[name] = declare(hp, name, setting)
    elif using:
        with hp.conditional_scope("optimizer", using):
            value = declare(hp, name, setting)
        if values["optimizer"] in using:
            values[name] = value


def declared_space(spec: Spec) -> keras_tuner.HyperParameters:
    """The whole space registered on fresh keras-tuner hyperparameters, for looking at it without a trial."""
    space = keras_tuner.HyperParameters()
    declare_space(space, spec)
    return space


def block_filters(spec: Spec, index: int) -> Any:
    """The filters setting of block ``index``: its own entry when given per block, else the shared one."""
    filters = spec.model.filters
    return filters[index] if isinstance(filters, list) else filters


def _is_default(spec: Spec, dotted: str) -> bool:
    section, key = dotted.split(".")
    return _setting(spec, dotted) == type(getattr(spec, section)).model_fields[key].default


def _setting(spec: Spec, dotted: str) -> Any:
    section, key = dotted.split(".")
    return getattr(getattr(spec, section), key)


def deepest_useful(input_shape: tuple[int, int, int]) -> int:
    """How many pooled conv blocks an input holds before the map is one pixel: deeper blocks see nothing new."""
    side = min(input_shape[:2])
    return max(1, math.ceil(math.log2(side)))


def check_depth(spec: Spec, input_shape: tuple[int, int, int]) -> None:
    """Refuse a depth whose last blocks would only ever convolve a single pixel."""
    if set(options(spec.model.pooling)) == {"none"}:
        return
    deepest = max(range_values(spec.model.conv_blocks))
    limit = deepest_useful(input_shape)
    if deepest > limit:
        height, width, _ = input_shape
        raise InputError(
            f"{height}x{width} images are pooled down to one pixel by {limit} blocks, so at most {limit} conv blocks"
            f" fit (got up to {deepest}); lower the maximum or use pooling: none",
            key="model.conv_blocks",
        )
