"""keras-tuner by hand: the script a user writes from keras-tuner's getting-started guide, for the digits space.

A ``HyperModel`` whose ``build`` declares the space and whose ``fit`` tunes the batch size, ``RandomSearch``,
numpy arrays and ``tuner.search(..., epochs=..., callbacks=[EarlyStopping])``. The hyperparameters are declared
in the order ``tuner`` declares them and the oracle gets ``tuner``'s oracle seed, so both draw the same
configurations and their losses compare trial for trial. The data is ``tuner``'s own split of digits.

    python bench/kt_by_hand.py --trials 20 --epochs 10 --out by_hand.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import keras
import keras_tuner
import numpy as np

PATIENCE = 3


class DigitsCNN(keras_tuner.HyperModel):
    """The digits space of ``search_spaces/digits.yaml``, written out by hand."""

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        blocks = hp.Int("conv_blocks", 1, 3)
        kernel = hp.Fixed("kernel_size", 3)
        hp.Fixed("pooling", "max")
        hp.Fixed("batch_norm", False)
        dropout = hp.Float("dropout", 0.0, 0.5, step=0.1)
        dense = hp.Choice("dense_units", [0, 64])
        optimizer = hp.Choice("optimizer", ["adam", "sgd"])
        rate = hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")
        hp.Fixed("epochs", 10)
        hp.Choice("batch_size", [32, 64])
        hp.Fixed("loss", "sparse_categorical_crossentropy")
        inputs = keras.Input(shape=(8, 8, 1))
        features = inputs
        for index in range(3):
            deeper = list(range(index + 1, 4))
            with hp.conditional_scope("conv_blocks", deeper) if index else contextlib.nullcontext():
                filters = hp.Choice(f"filters_{index}", [8, 16, 32, 64])
            if index < blocks:
                features = keras.layers.Conv2D(filters, kernel, padding="same", activation="relu")(features)
                features = keras.layers.MaxPooling2D(padding="same")(features)
        features = keras.layers.Flatten()(features)
        if dropout > 0:
            features = keras.layers.Dropout(dropout)(features)
        if dense:
            features = keras.layers.Dense(dense, activation="relu")(features)
        model = keras.Model(inputs, keras.layers.Dense(10)(features))
        with hp.conditional_scope("optimizer", ["sgd"]):
            momentum = hp.Float("momentum", 0.0, 0.9)
        if optimizer == "sgd":
            chosen = keras.optimizers.SGD(learning_rate=rate, momentum=momentum)
        else:
            chosen = keras.optimizers.Adam(learning_rate=rate)
        model.compile(
            optimizer=chosen,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        return model

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any) -> Any:
        return model.fit(*args, batch_size=hp.get("batch_size"), **kwargs)


class EpochCounter(keras.callbacks.Callback):
    """Counts the epochs each trial trained (the benchmark replays them in a bare loop)."""

    def __init__(self) -> None:
        super().__init__()
        self.per_fit: list[int] = []

    def __deepcopy__(self, memo: dict[int, Any]) -> EpochCounter:
        # keras-tuner deep-copies the callbacks of every trial; the counts must land in this one.
        return self

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.per_fit.append(0)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.per_fit[-1] += 1


def search(
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], trials: int, epochs: int, directory: str, seed: int
) -> dict[str, Any]:
    """Run the search and return its best validation loss and every trial's values and epochs."""
    x_train, y_train, x_val, y_val = data
    tuner = keras_tuner.RandomSearch(
        DigitsCNN(), objective="val_loss", max_trials=trials, seed=seed, directory=directory, project_name="by_hand"
    )
    counter = EpochCounter()
    tuner.search(
        x_train,
        y_train,
        epochs=epochs,
        validation_data=(x_val, y_val),
        callbacks=[keras.callbacks.EarlyStopping("val_loss", patience=PATIENCE), counter],
        verbose=0,
    )
    finished = [trial for trial in tuner.oracle.trials.values() if trial.status == "COMPLETED"]
    ordered = sorted(finished, key=lambda trial: trial.trial_id)
    return {
        "best_val_loss": min(trial.score for trial in finished),
        "trials": [
            {"id": trial.trial_id, "values": trial.hyperparameters.values, "epochs": trained, "score": trial.score}
            for trial, trained in zip(ordered, counter.per_fit, strict=False)
        ],
    }


def digits_arrays(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``tuner``'s split of digits for a run seed, so both sides train and validate on the same images."""
    from benchlib import load_arrays, space

    data = load_arrays(space("digits"), seed)
    return data.x_train, data.y_train, data.x_val, data.y_val


def main() -> int:
    """Search, then write the best loss and wall time as JSON."""
    from tuner.engine.seeds import derive_seed

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=42, help="the space's seed; the oracle gets tuner's derivation")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kt-by-hand-") as scratch:
        found = search(digits_arrays(args.seed), args.trials, args.epochs, scratch, derive_seed(args.seed, "oracle"))
    found["search_seconds"] = time.perf_counter() - started
    args.out.write_text(json.dumps(found, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
