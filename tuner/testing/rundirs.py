"""Synthetic run directories in the on-disk format of a real ``tuner search`` run, without training anything.

The JSON shapes copy what keras-tuner 1.4 writes (``oracle.json``, ``trial_<id>/trial.json``) and what
``tuner.engine.recording.RecordingTuner`` writes (``history/<trial>-<restart>.json``). The benchmarks and the
tests build every synthetic run through ``write_run``.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tuner.rundir import files, layout
from tuner.space.schema import Spec

START = 1_700_000_000.0


def _item(class_name: str, name: str, conditions: list[dict[str, Any]] | None = None, **config: Any) -> dict[str, Any]:
    return {"class_name": class_name, "config": {"name": name, "conditions": conditions or [], **config}}


def choice(name: str, values: list[Any], parent: tuple[str, list[Any]] | None = None) -> dict[str, Any]:
    """A keras-tuner ``Choice`` as it appears in the oracle's space, optionally conditional on a parent."""
    conditions = [{"class_name": "Parent", "config": {"name": parent[0], "values": parent[1]}}] if parent else []
    ordered = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return _item("Choice", name, conditions, default=values[0], values=values, ordered=ordered)


def digits_space(epochs: int = 4) -> list[dict[str, Any]]:
    """The bundled digits space exactly as keras-tuner serialises it (copied from a real run's oracle.json)."""
    return [
        _item("Int", "conv_blocks", default=None, min_value=1, max_value=3, step=1, sampling="linear"),
        _item("Fixed", "kernel_size", value=3),
        _item("Fixed", "pooling", value="max"),
        _item("Fixed", "batch_norm", value=False),
        _item("Float", "dropout", default=0.0, min_value=0.0, max_value=0.5, step=0.1, sampling="linear"),
        choice("dense_units", [0, 64]),
        choice("optimizer", ["adam", "sgd"]),
        _item("Float", "learning_rate", default=0.0001, min_value=0.0001, max_value=0.1, step=None, sampling="log"),
        _item("Fixed", "epochs", value=epochs),
        choice("batch_size", [32, 64]),
        _item("Fixed", "loss", value="auto"),
        choice("filters_0", [8, 16, 32, 64]),
        choice("filters_1", [8, 16, 32, 64], parent=("conv_blocks", [2, 3])),
        choice("filters_2", [8, 16, 32, 64], parent=("conv_blocks", [3])),
        _item(
            "Float",
            "momentum",
            [_parent("optimizer", ["sgd"])],
            default=0.0,
            min_value=0.0,
            max_value=0.9,
            step=None,
            sampling="linear",
        ),
    ]


def _parent(name: str, values: list[Any]) -> dict[str, Any]:
    return {"class_name": "Parent", "config": {"name": name, "values": values}}


@dataclass
class FakeTrial:
    """One trial to write: its hyperparameter values and, per restart, the validation loss of every epoch."""

    values: dict[str, Any]
    curves: list[list[float]] = field(default_factory=list)
    status: str = "COMPLETED"
    message: str | None = None
    params: int = 12_345
    latency_ms: float | None = None  # the model's single-image latency, written when given


def sample_values(space: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    """Values for the active hyperparameters, drawn the way keras-tuner's random search would."""
    values: dict[str, Any] = {}
    for item in space:
        config = item["config"]
        if not all(values.get(c["config"]["name"]) in c["config"]["values"] for c in config["conditions"]):
            continue
        kind = item["class_name"]
        if kind == "Fixed":
            values[config["name"]] = config["value"]
        elif kind == "Choice":
            values[config["name"]] = rng.choice(config["values"])
        elif kind == "Int":
            values[config["name"]] = rng.randrange(config["min_value"], config["max_value"] + 1, config["step"] or 1)
        else:
            lo, hi = config["min_value"], config["max_value"]
            value = (
                math.exp(rng.uniform(math.log(lo), math.log(hi)))
                if config["sampling"] == "log"
                else rng.uniform(lo, hi)
            )
            values[config["name"]] = _snap_to_step(value, config)
    return values


def _snap_to_step(value: float, config: dict[str, Any]) -> float:
    """The step of a stepped range nearest ``value``, computed as keras-tuner does, binary noise included."""
    lo, step = config["min_value"], config.get("step")
    if not step:
        return value
    if config["sampling"] == "log":
        return lo * math.pow(step, round(math.log(value / lo, step)))
    return lo + round((value - lo) / step) * step


def random_trials(
    count: int, seed: int = 0, restarts: int = 1, epochs: int = 4, space: list[dict[str, Any]] | None = None
) -> list[FakeTrial]:
    """``count`` completed trials whose loss depends on the learning rate and depth, plus noise per restart."""
    rng = random.Random(seed)
    space = space or digits_space(epochs)
    trials = []
    for _ in range(count):
        values = sample_values(space, rng)
        rate = values.get("learning_rate", 0.01)
        final = 0.1 + 0.3 * abs(math.log10(rate) + 2.5) + 0.05 * values.get("conv_blocks", 1)
        curves = []
        for _ in range(restarts):
            end = final * rng.uniform(0.85, 1.15)
            curves.append([round(end + (2.3 - end) * math.exp(-1.2 * e), 6) for e in range(epochs)])
        blocks = values.get("conv_blocks", 1)
        latency = round(0.5 * blocks * rng.uniform(0.8, 1.2), 4)
        trials.append(FakeTrial(values=values, curves=curves, params=1_000 * blocks + 500, latency_ms=latency))
    return trials


def write_run(
    run_dir: Path,
    trials: list[FakeTrial],
    name: str = "synthetic",
    objective: str = "val_loss",
    direction: str = "min",
    space: list[dict[str, Any]] | None = None,
    restarts: int = 1,
) -> Path:
    """Write ``trials`` as a complete run directory and return it. ``name`` is written unvalidated, on purpose."""
    space = space or digits_space()
    epochs = next((item["config"]["value"] for item in space if item["config"]["name"] == "epochs"), 4)
    resolved = Spec.model_validate(
        {
            "name": "synthetic",
            "data": {"source": "digits"},
            "training": {"restarts": restarts, "epochs": epochs},
            "search": {"objective": {"name": objective, "direction": direction}, "max_trials": max(len(trials), 1)},
        }
    ).model_dump(mode="json", warnings=False)
    resolved["name"] = name
    files.write_atomic(run_dir / layout.SPACE_FILE, yaml.safe_dump(resolved, sort_keys=False))
    width = len(str(max(len(trials), 1)))
    ids = [f"{index:0{width}d}" for index in range(len(trials))]
    clock = START
    for trial_id, trial in zip(ids, trials, strict=True):
        clock = _write_trial(run_dir, trial_id, trial, space, objective, direction, clock)
    project = layout.project_dir(run_dir)
    hashes = {
        trial_id: hashlib.md5(json.dumps(t.values, sort_keys=True).encode()).hexdigest()
        for trial_id, t in zip(ids, trials, strict=True)
    }
    defaults = {item["config"]["name"]: item["config"].get("value", item["config"].get("default")) for item in space}
    files.write_json(
        project / "oracle.json",
        {
            "ongoing_trials": {},
            "hyperparameters": {"space": space, "values": defaults},
            "start_order": ids,
            "end_order": [i for i, t in zip(ids, trials, strict=True) if t.status != "RUNNING"],
            "run_times": {i: 1 for i in ids},
            "retry_queue": [],
            "seed": 1890244733,
            "seed_state": 1890244733 + len(ids),
            "tried_so_far": sorted(hashes.values()),
            "id_to_hash": hashes,
            "display": {"search_start": None, "trial_start": {}, "trial_number": {}},
        },
    )
    files.write_json(project / "tuner0.json", {})
    return run_dir


def _metrics(loss: float) -> dict[str, float]:
    """Every metric of one epoch, derived from its validation loss."""
    return {
        "loss": loss * 0.9,
        "accuracy": max(0.0, 1 - loss / 2.4),
        "val_loss": loss,
        "val_accuracy": max(0.0, 1 - loss / 2.5),
    }


def _write_trial(
    run_dir: Path,
    trial_id: str,
    trial: FakeTrial,
    space: list[dict[str, Any]],
    objective: str,
    direction: str,
    clock: float,
) -> float:
    """Write one trial's keras-tuner record and its histories; return the clock after it."""
    pick = min if direction == "min" else max
    bests = []
    for restart, curve in enumerate(trial.curves):
        epochs = [{**_metrics(loss), "epoch": e + 1, "seconds": 0.5} for e, loss in enumerate(curve)]
        started, clock = clock, clock + 0.5 * len(curve) + 0.1
        record = {"trial_id": trial_id, "restart": restart, "epochs": epochs, "params": trial.params}
        if trial.latency_ms is not None:
            record["latency_ms"] = trial.latency_ms
        record.update(input_shape=[8, 8, 1], num_classes=10, started=started, finished=clock)
        files.write_json(layout.history_file(run_dir, trial_id, restart), record)
        finite = [e for e in epochs if math.isfinite(e[objective])]
        if finite:
            bests.append(pick(finite, key=lambda e: e[objective]))
    done = trial.status == "COMPLETED" and bests
    metrics = {
        metric: {
            "direction": "max" if "accuracy" in metric else "min",
            "observations": [{"value": [sum(b[metric] for b in bests) / len(bests)], "step": bests[0]["epoch"] - 1}],
        }
        for metric in ("accuracy", "loss", "val_accuracy", "val_loss")
        if done
    }
    files.write_json(
        layout.project_dir(run_dir) / f"trial_{trial_id}" / "trial.json",
        {
            "trial_id": trial_id,
            "hyperparameters": {"space": space, "values": trial.values},
            "metrics": {"metrics": metrics},
            "score": sum(b[objective] for b in bests) / len(bests) if done else None,
            "best_step": bests[0]["epoch"] - 1 if done else None,
            "status": trial.status,
            "message": trial.message,
        },
    )
    return clock


TINY_SPACE = """\
name: tiny
seed: 7
data: {source: digits}
model:
  conv_blocks: {min: 1, max: 2}
  filters: {values: [4, 8]}
  dense_units: 0
optimizer:
  name: {values: [adam, sgd]}
  learning_rate: {min: 0.001, max: 0.01, sampling: log}
training:
  epochs: 1
  batch_size: 64
  restarts: 2
search:
  max_trials: 2
"""


def write_tiny_space(directory: Path) -> Path:
    """A space small enough for end-to-end tests of real searches: 2 trials x 2 restarts x 1 epoch on digits."""
    path = directory / "tiny.yaml"
    path.write_text(TINY_SPACE, encoding="utf-8")
    return path
