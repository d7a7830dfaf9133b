"""What every benchmark shares: the spaces it measures, replaying trials in a bare loop, figures and results.

Each benchmark prints one line per figure, writes its figures to ``bench/results/<name>.json`` and exits 1
when a target is missed, so it can be re-run later to catch regressions.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tuner.space.loading import load_spec
from tuner.space.schema import Spec

ROOT = Path(__file__).resolve().parents[1]
SPACES = ROOT / "search_spaces"
RESULTS = Path(__file__).resolve().parent / "results"


def space(name: str = "digits", **overrides: Any) -> Spec:
    """A bundled space with dotted overrides, e.g. ``space("digits", **{"search.max_trials": 4})``."""
    spec, _ = load_spec(SPACES / f"{name}.yaml")
    raw = spec.model_dump()
    for dotted, value in overrides.items():
        *parents, key = dotted.split(".")
        section = raw
        for parent in parents:
            section = section[parent]
        section[key] = value
    return Spec.model_validate(raw)


def machine() -> dict[str, Any]:
    """Where the figures were taken: they mean something only next to this."""
    return {
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "load_1min_at_start": os.getloadavg()[0],
    }


class Figures:
    """Collects the figures of one benchmark run, prints each as it comes and judges the targets."""

    def __init__(self, name: str) -> None:
        self.name = name
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.values: dict[str, Any] = {"machine": machine(), "started": started}
        self.missed: list[str] = []

    def show(self, label: str, value: Any, text: str) -> None:
        """Print one figure and keep it for the results file."""
        self.values[label] = value
        print(f"{label}: {text}", flush=True)

    def target(self, label: str, value: float, limit: float, text: str, at_most: bool = True) -> None:
        """A figure with a target: printed with the target and its verdict, remembered if missed."""
        held = value <= limit if at_most else value >= limit
        self.values[label] = {"value": value, "target": limit, "at_most": at_most, "held": held}
        verdict = "ok" if held else "MISSED"
        print(f"{label}: {text} (target {'<=' if at_most else '>='} {limit:g}) {verdict}", flush=True)
        if not held:
            self.missed.append(label)

    def finish(self, results: Path | None) -> int:
        """Write the results JSON (unless ``results`` is None) and return the exit code."""
        self.values["missed"] = self.missed
        if results is not None:
            results.parent.mkdir(parents=True, exist_ok=True)
            results.write_text(json.dumps(self.values, indent=2, default=float) + "\n", encoding="utf-8")
            print(f"results: {results}")
        return 1 if self.missed else 0


def children_cpu_seconds() -> float:
    """User and system CPU seconds of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_timed(command: list[str]) -> tuple[float, float]:
    """Run ``command`` to its exit (stdout discarded, a failure raises): its wall seconds and the CPU seconds of
    all its processes."""
    cpu_before, started = children_cpu_seconds(), time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started, children_cpu_seconds() - cpu_before


def results_path(name: str, given: str | None) -> Path | None:
    """``--results`` as given ("-" for none), else ``bench/results/<name>.json``."""
    if given == "-":
        return None
    return Path(given) if given else RESULTS / f"{name}.json"


def load_trials(run_dir: Path) -> list[dict[str, Any]]:
    """Each finished trial of a run: its hyperparameter values, how many epochs it trained and the seconds they took,
    in trial order."""
    trials = []
    for path in sorted((run_dir / "keras_tuner").glob("trial_*/trial.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        history = run_dir / "history" / f"{record['trial_id']}-0.json"
        if record["status"] != "COMPLETED" or not history.exists():
            continue
        epochs = json.loads(history.read_text(encoding="utf-8"))["epochs"]
        seconds = sum(epoch["seconds"] for epoch in epochs)
        values = record["hyperparameters"]["values"]
        trials.append({"values": values, "epochs": len(epochs), "seconds": seconds, "id": record["trial_id"]})
    return trials


@dataclass(frozen=True)
class Arrays:
    """A task's split as the float32 [0, 1] arrays a hand-written Keras script feeds its models."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    input_shape: tuple[int, int, int]
    num_classes: int


def load_arrays(spec: Spec, seed: int) -> Arrays:
    """``tuner``'s split of the spec's data for ``seed``, scaled in memory, so both sides see the same images."""
    from tuner.data.sources import load_data

    data = load_data(spec.data, ROOT, seed)

    def scaled(rows: Any) -> np.ndarray:
        return (rows.pixels() * data.pixel_scale).astype("float32")

    return Arrays(
        scaled(data.train), data.train.labels, scaled(data.val), data.val.labels, data.input_shape, data.num_classes
    )


def bare_fit_seconds(values: dict[str, Any], data: Any, epochs: int, seed: int, **build: Any) -> float:
    """Seconds of one plain ``model.fit`` of a configuration for ``epochs`` epochs, as a bare loop would run it.

    ``build`` goes to ``build_model`` (e.g. ``mixed_precision``), so both sides train the same model.
    """
    import keras

    from tuner.model import task
    from tuner.model.builder import build_model

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    loss = task.resolve_loss(values["loss"], data.num_classes)
    model = build_model(values, data.input_shape, data.num_classes, **build)
    started = time.perf_counter()
    model.fit(
        data.x_train,
        task.targets(data.y_train, loss),
        batch_size=values["batch_size"],
        epochs=epochs,
        validation_data=(data.x_val, task.targets(data.y_val, loss)),
        verbose=0,
    )
    return time.perf_counter() - started


def write_space(source: Path, target: Path, **overrides: dict[str, Any]) -> Path:
    """A copy of a space file with whole-section overrides (data path, budget); an empty one changes nothing."""
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    for section, values in overrides.items():
        raw[section] = {**raw.get(section, {}), **values}
    target.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return target


def installed_backends(wanted: list[str]) -> list[str]:
    """The wanted Keras backends whose framework this interpreter can import (each is its own module's name)."""
    return [name for name in wanted if importlib.util.find_spec(name) is not None]
