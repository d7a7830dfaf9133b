"""Save one trial's trained model from its checkpoint, with a YAML that fixes every hyperparameter to retrain it.

The model is rebuilt from the trial's hyperparameters with the same ``build_model`` the search used and its
best-epoch weights are loaded from keras-tuner's checkpoint (what ``Tuner.load_model`` does), using the input
shape, classes and pixel scale the search recorded, so the data need not be at hand. The saved model takes raw
pixels: images of any size in the space's colour mode, resized by the model to the size it was trained on and
scaled there, so whoever applies it need not re-implement the loader.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import yaml

from tuner.backend.selection import native_stderr_silenced
from tuner.errors import InputError
from tuner.model.builder import build_model, make_optimizer
from tuner.model.space import HP_NAMES, OPTIONAL_HP_NAMES
from tuner.model.task import compile_arguments, resolve_loss
from tuner.reports.ranking import rank
from tuner.reports.records import load_run
from tuner.rundir import files, layout
from tuner.space.schema import DataSpec, Spec

CHECKPOINT_FILE = "checkpoint.weights.h5"


@dataclass(frozen=True)
class Exported:
    """What ``tuner export`` wrote, and for which trial."""

    trial: str
    model_path: Path
    space_path: Path
    params: int


def export_trial(run_dir: Path, rank_wanted: int, output: Path) -> Exported:
    """Write the model of the trial ranked ``rank_wanted`` to ``output`` and its fixed space next to it."""
    run = load_run(run_dir)
    ranked = rank(run.trials).frame
    chosen = ranked[ranked["rank"] == rank_wanted]
    if chosen.empty:
        count = int(ranked["rank"].notna().sum()) if not ranked.empty else 0
        raise InputError(f"{run_dir}: no trial has rank {rank_wanted} ({count} completed trials are ranked)")
    trial_id = str(chosen["trial"].iloc[0])
    values = trial_values(run_dir, trial_id)
    recorded = recorded_task(run_dir, trial_id)
    fixed = fixed_space(run.space, values, trial_id, recorded.class_names)
    model = raw_pixel_model(trained_model(run_dir, trial_id, values, recorded), recorded, values)
    with native_stderr_silenced():
        files.save_atomic(output, model.save)
    space_path = output.with_suffix(".yaml")
    objective = chosen["objective"].iloc[0]
    comment = (
        f"# Trial {trial_id} of {run_dir} (rank {rank_wanted}, {run.objective} {objective:.6g}),"
        f" every hyperparameter fixed.\n# Retrain it with: tuner search {space_path.name}\n"
    )
    files.write_atomic(space_path, comment + yaml.safe_dump(fixed, sort_keys=False))
    return Exported(trial=trial_id, model_path=output, space_path=space_path, params=int(model.count_params()))


@dataclass(frozen=True)
class RecordedTask:
    """What the search recorded about the data a trial was trained on."""

    input_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    pixel_scale: float  # 1.0 for runs before pixels were scaled inside the model: they take [0, 1] floats


def trial_values(run_dir: Path, trial_id: str) -> dict[str, Any]:
    """A trial's hyperparameter values, as keras-tuner saved them."""
    trial_file = layout.project_dir(run_dir) / f"trial_{trial_id}" / "trial.json"
    return json.loads(trial_file.read_text(encoding="utf-8"))["hyperparameters"]["values"]


def recorded_task(run_dir: Path, trial_id: str) -> RecordedTask:
    """The input shape, classes and pixel scale the search recorded for this trial."""
    for restart in range(64):
        path = layout.history_file(run_dir, trial_id, restart)
        if not path.exists():
            break
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("input_shape") and record.get("num_classes"):
            height, width, channels = record["input_shape"]
            names = record.get("class_names") or [str(index) for index in range(int(record["num_classes"]))]
            scale = float(record.get("pixel_scale", 1.0))
            return RecordedTask((int(height), int(width), int(channels)), tuple(names), scale)
    raise InputError(f"{run_dir}: trial {trial_id} has no recorded input shape; it was searched by an older tuner")


def trained_model(run_dir: Path, trial_id: str, values: dict[str, Any], recorded: RecordedTask) -> keras.Model:
    """A trial's model (its ``trial_values`` and ``recorded_task``) with its best-epoch weights, rebuilt as the
    search built it."""
    weights = layout.project_dir(run_dir) / f"trial_{trial_id}" / CHECKPOINT_FILE
    if not weights.exists():
        raise InputError(f"{run_dir}: trial {trial_id} has no checkpoint ({weights} is missing)")
    # Without the augmentation: it only acts while training, and it holds no weights.
    model = build_model(
        values, recorded.input_shape, len(recorded.class_names), pixel_scale=recorded.pixel_scale, augment=False
    )
    # The checkpoint holds the optimiser's state too; building it first lets that load instead of being skipped.
    model.optimizer.build(model.trainable_variables)
    model.load_weights(weights)
    return model


def raw_pixel_model(model: keras.Model, recorded: RecordedTask, values: dict[str, Any]) -> keras.Model:
    """``model`` behind a resize: it takes images of any height and width, as files hold them.

    Bilinear with antialiasing, as the loader's PIL resize does, so a file of another size gives what
    training saw up to the loader's rounding to whole pixel values; at the trained size it changes nothing.
    """
    height, width, channels = recorded.input_shape
    inputs = keras.Input(shape=(None, None, channels), name="pixels")
    resized = keras.layers.Resizing(height, width, interpolation="bilinear", antialias=True, name="resize")(inputs)
    wrapped = keras.Model(inputs, model(resized), name=f"{model.name}_raw_pixels")
    loss = resolve_loss(values["loss"], len(recorded.class_names))
    # Compiled as the search compiled the trial, so the saved model evaluates and trains on; the optimiser is
    # built before saving, so loading restores it without Keras' note that its state was skipped.
    arguments = compile_arguments(loss, values.get("label_smoothing", 0.0), len(recorded.class_names))
    wrapped.compile(optimizer=make_optimizer(values), **arguments)
    wrapped.optimizer.build(wrapped.trainable_variables)
    return wrapped


def fixed_space(
    space: dict[str, Any], values: dict[str, Any], trial_id: str, class_names: tuple[str, ...]
) -> dict[str, Any]:
    """The run's resolved space with every tunable key fixed to the trial's value, validated like ``tuner search``."""
    fixed = copy.deepcopy(space)
    fixed["name"] = f"{space['name']}-trial-{trial_id}"
    # Data settings at their defaults are left out: the file states what differs and the hyperparameters.
    defaults = {
        key: json.loads(json.dumps(info.default))
        for key, info in DataSpec.model_fields.items()
        if not info.is_required()
    }
    fixed["data"] = {key: value for key, value in space["data"].items() if value != defaults.get(key)}
    # The classes in label order: ``tuner predict`` names its answers with them, retraining keeps the order.
    fixed["data"]["class_names"] = list(class_names)
    for dotted, short in {**HP_NAMES, **OPTIONAL_HP_NAMES}.items():
        section, key = dotted.split(".")
        if short in values:
            fixed.setdefault(section, {})[key] = _as_declared(section, key, values[short])
    if "filters_growth" in values:
        fixed["model"].update(filters=values["filters_0"], filters_growth=values["filters_growth"])
    else:
        filters = [values[f"filters_{index}"] for index in range(values["conv_blocks"])]
        fixed["model"]["filters"] = filters[0] if len(set(filters)) == 1 else filters
    for name in ("momentum", "weight_decay"):  # conditional on the optimiser: gone when the trial's has none
        if name in values:
            fixed["optimizer"][name] = values[name]
        else:
            fixed["optimizer"].pop(name, None)
    # Hyperband trains a trial for ``tuner/epochs`` in all, not for the maximum it declares as ``epochs``.
    fixed["training"]["epochs"] = values.get("tuner/epochs", values["epochs"])
    fixed["search"].update(algorithm="random", max_trials=1)
    Spec.model_validate(fixed)
    return fixed


def _as_declared(section: str, key: str, value: Any) -> Any:
    """A trial's value in the type its key declares: keras-tuner keeps a boolean choice's values as 0 and 1."""
    default = Spec.model_fields[section].annotation.model_fields[key].default
    return bool(value) if isinstance(default, bool) else value
