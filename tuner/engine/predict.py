"""Apply a found model to image files: each file's predicted class and every class's probability.

A model is an exported ``.keras`` file with the YAML ``tuner export`` wrote next to it, or a run directory
(its best trial, rebuilt from the checkpoint). Files are decoded by the same function that filled the
training cache, at the size and in the colour mode the model was trained on, so a prediction sees the pixels
training saw. For one real output ℓ (a ±1 task) the answer is its sign and ℓ itself.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tuner.errors import InputError

BATCH = 64


@dataclass(frozen=True)
class Predictor:
    """A raw-pixel model and what its outputs mean."""

    model: Any  # a keras.Model; Keras is imported only when a model is loaded
    class_names: tuple[str, ...]

    @property
    def input_size(self) -> tuple[int, int]:
        """The height and width the model was trained on (its resize layer's target)."""
        resize = self.model.get_layer("resize")
        return int(resize.height), int(resize.width)

    @property
    def color_mode(self) -> str:
        return "grayscale" if self.model.input_shape[-1] == 1 else "rgb"

    @property
    def file_scale(self) -> float:
        """What multiplies a file's 0..255 pixels into the range the model was trained on.

        1 for models trained on 8-bit images (they scale inside); for data stored in [0, 1] 1/255; for
        scikit-learn's digits (counts 0..16) 16/255.
        """
        inner = self.model.layers[-1]
        names = [layer.name for layer in inner.layers]
        scale = float(inner.get_layer("rescale").scale) if "rescale" in names else 1.0
        return 1.0 / (255.0 * scale)


def load_predictor(model_path: Path) -> Predictor:
    """The model at ``model_path``: a ``.keras`` file exported with its YAML, or a run directory's best trial."""
    import keras

    from tuner.engine.export import raw_pixel_model, recorded_task, trained_model, trial_values
    from tuner.reports.ranking import rank
    from tuner.reports.records import load_run
    from tuner.space.loading import load_spec

    if model_path.is_dir():
        ranked = rank(load_run(model_path).trials).frame
        if ranked.empty or ranked["rank"].isna().all():
            raise InputError(f"{model_path}: no trial has completed, so there is no model to apply")
        trial_id = str(ranked.loc[ranked["rank"] == 1, "trial"].iloc[0])
        values, recorded = trial_values(model_path, trial_id), recorded_task(model_path, trial_id)
        model = raw_pixel_model(trained_model(model_path, trial_id, values, recorded), recorded, values)
        return Predictor(model, recorded.class_names)
    if not model_path.is_file():
        raise InputError(f"{model_path} does not exist: give an exported .keras file or a run directory")
    space = model_path.with_suffix(".yaml")
    if not space.is_file():
        raise InputError(f"{model_path}: no {space.name} next to it; tuner export writes the two together")
    spec, _ = load_spec(space)
    model = keras.models.load_model(model_path, compile=False)
    names = spec.data.class_names or [str(index) for index in range(model.output_shape[-1])]
    return Predictor(model, tuple(names))


def image_files(targets: Sequence[Path]) -> list[Path]:
    """The image files named, and those inside named folders (at any depth), in a stable order."""
    from tuner.data.folder import IMAGE_SUFFIXES

    found: list[Path] = []
    for target in targets:
        if target.is_dir():
            found += sorted(
                path for path in target.rglob("*") if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
            )
        elif target.is_file():
            found.append(target)
        else:
            raise InputError(f"{target} does not exist")
    if not found:
        raise InputError(f"no image files in {', '.join(map(str, targets))}")
    return found


def predict_files(predictor: Predictor, paths: Sequence[Path]) -> pd.DataFrame:
    """One row per file: ``file``, ``predicted``, then each class's probability (or ``output`` ℓ for ±1)."""
    from tuner.data.folder import BadImageError, decode_image
    from tuner.model.task import predicted_classes

    size, mode, scale = predictor.input_size, predictor.color_mode, predictor.file_scale
    outputs = []
    for start in range(0, len(paths), BATCH):
        try:
            pixels = np.stack([decode_image(path, size, mode) for path in paths[start : start + BATCH]])
        except BadImageError as error:
            raise InputError(str(error)) from None
        batch = pixels if np.isclose(scale, 1.0) else pixels.astype("float32") * np.float32(scale)
        outputs.append(np.asarray(predictor.model.predict_on_batch(batch)))
    raw = np.concatenate(outputs)
    names = predictor.class_names
    frame = pd.DataFrame({"file": [str(path) for path in paths]})
    frame["predicted"] = [names[index] for index in predicted_classes(raw)]
    if raw.shape[-1] == 1:
        frame["sign"] = np.where(raw[:, 0] > 0, 1, -1)
        frame["output"] = raw[:, 0]
        return frame
    shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
    probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    for index, name in enumerate(names):
        frame[f"p_{name}"] = probabilities[:, index]
    return frame


def as_csv(frame: pd.DataFrame) -> str:
    """The predictions as CSV text, probabilities to 6 significant digits."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.6g")
    return buffer.getvalue()
