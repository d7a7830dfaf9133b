"""Search quality against Optuna: best validation loss and time to a validation-accuracy target, equal budgets.

    python bench/vs_optuna.py [--seeds 5] [--trials 20] [--epochs 4] [--tasks digits shapes]

For every task and seed, in one process and interleaved: ``tuner``'s ``random``, ``bayesian`` and ``hyperband``
(``run_search``) and Optuna's TPE sampler with its median pruner and with Hyperband pruning, all training the
same CNN family with the same code (``tuner.hypermodel.declare_space`` and ``build_model``, one seed per
configuration) for ``trials`` x ``epochs`` (keras-tuner's Hyperband has no trial count: it gets ``epochs`` as
its largest budget, and every method's epochs actually trained are printed). Target: the best method of
``tuner`` reaches a median best loss no worse than the best Optuna method's, on every task.
Optuna comes from the ``bench`` extra (``pip install -e .[bench]``); ``tuner`` never imports it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchlib import ROOT, Figures, load_arrays, results_path, space

from tuner.backend.selection import import_quietly

# task -> (bundled space, overrides keeping it modest, validation accuracy to reach)
TASKS: dict[str, tuple[str, dict[str, Any], float]] = {
    "digits": ("digits", {}, 0.95),
    "shapes": ("shapes_binary", {"data.samples": 1000, "data.test_split": 0.0}, 0.60),
}
TOOL = ("random", "bayesian", "hyperband")
OPTUNA = ("tpe_median", "tpe_hyperband")


class OptunaSpace:
    """Lets ``declare_space`` register the space on an Optuna trial, as it does on keras-tuner's ``hp``."""

    def __init__(self, trial: Any) -> None:
        self.trial = trial
        self.values: dict[str, Any] = {}
        self.active = [True]

    def _keep(self, name: str, value: Any) -> Any:
        if self.active[-1]:
            self.values[name] = value
        return value

    def Fixed(self, name: str, value: Any) -> Any:  # noqa: N802 - keras-tuner's names
        return self._keep(name, value)

    def Choice(self, name: str, values: list[Any]) -> Any:  # noqa: N802
        return self._keep(name, self.trial.suggest_categorical(name, values) if self.active[-1] else values[0])

    def Int(self, name: str, low: int, high: int, step: int | None = None, sampling: str = "linear") -> int:  # noqa: N802
        if not self.active[-1]:
            return low
        return self._keep(name, self.trial.suggest_int(name, low, high, step=step or 1, log=sampling == "log"))

    def Float(self, name: str, low: float, high: float, step: float | None = None, sampling: str = "linear") -> float:  # noqa: N802
        if not self.active[-1]:
            return low
        value = self.trial.suggest_float(name, low, high, step=step, log=sampling == "log")
        return self._keep(name, value)

    @contextlib.contextmanager
    def conditional_scope(self, parent: str, values: list[Any]) -> Iterator[None]:
        """Hyperparameters inside exist only while the parent holds one of ``values``."""
        self.active.append(self.active[-1] and self.values.get(parent) in values)
        try:
            yield
        finally:
            self.active.pop()


def optuna_search(spec: Any, data: Any, pruner_name: str, seed: int, trials: int, epochs: int) -> list[dict[str, Any]]:
    """Optuna TPE with a pruner on the spec's space; every epoch's val loss/accuracy and when it ended."""
    import keras
    import optuna

    from tuner.engine.seeds import trial_seed
    from tuner.model import task
    from tuner.model.builder import build_model
    from tuner.model.space import declare_space

    epochs_log: list[dict[str, Any]] = []
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
        if pruner_name == "tpe_median"
        else optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs, reduction_factor=3)
    )
    sampler = optuna.samplers.TPESampler(seed=seed)

    class Report(keras.callbacks.Callback):
        def __init__(self, trial: Any) -> None:
            super().__init__()
            self.trial = trial
            self.pruned = False

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            logs = logs or {}
            epochs_log.append({"val_loss": logs["val_loss"], "val_accuracy": logs["val_accuracy"], "at": time.time()})
            self.trial.report(logs["val_loss"], epoch)
            if self.trial.should_prune():
                self.pruned = True
                self.model.stop_training = True

    def objective(trial: Any) -> float:
        hp = OptunaSpace(trial)
        values = declare_space(hp, spec)
        keras.backend.clear_session()
        keras.utils.set_random_seed(trial_seed(spec.seed, values, 0))
        loss = task.resolve_loss(values["loss"], data.num_classes)
        model = build_model(values, data.input_shape, data.num_classes)
        report = Report(trial)
        callbacks: list[Any] = [report, keras.callbacks.TerminateOnNaN()]
        if spec.training.early_stopping:
            callbacks.append(keras.callbacks.EarlyStopping("val_loss", patience=spec.training.early_stopping))
        history = model.fit(
            data.x_train,
            task.targets(data.y_train, loss),
            batch_size=values["batch_size"],
            epochs=epochs,
            validation_data=(data.x_val, task.targets(data.y_val, loss)),
            callbacks=callbacks,
            verbose=0,
        )
        if report.pruned:
            raise optuna.TrialPruned()
        return min(history.history["val_loss"])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=sampler, pruner=pruner)
    study.optimize(objective, n_trials=trials, catch=(ValueError,))
    return epochs_log


def tool_search(spec: Any, scratch: Path) -> list[dict[str, Any]]:
    """``tuner``'s search in this process; every epoch's val loss/accuracy and when it ended, from its records."""
    from tuner.engine.search import run_search

    run = run_search(spec, ROOT, scratch, overwrite=True)
    epochs_log = []
    for path in sorted((run.run_dir / "history").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        at = record["started"]
        for epoch in record["epochs"]:
            at += epoch["seconds"]
            epochs_log.append({"val_loss": epoch["val_loss"], "val_accuracy": epoch["val_accuracy"], "at": at})
    return epochs_log


def summarise(epochs_log: list[dict[str, Any]], started: float, accuracy: float) -> dict[str, Any]:
    """Best val loss reached, epochs trained, seconds until the first epoch at ``accuracy`` (None if never)."""
    finite = [epoch["val_loss"] for epoch in epochs_log if epoch["val_loss"] == epoch["val_loss"]]
    reached = [epoch["at"] - started for epoch in epochs_log if epoch["val_accuracy"] >= accuracy]
    return {
        "best_val_loss": min(finite) if finite else float("inf"),
        "epochs": len(epochs_log),
        "to_target_s": min(reached) if reached else None,
    }


def main() -> int:
    """Run every method on every task and seed, then print medians and spreads and judge the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    # 20, the bundled spaces' budget, is past both model-based samplers' random start (Optuna TPE: 10 trials;
    # tuner bayesian: 5 of 20): fewer trials would compare two random samplers.
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--tasks", nargs="+", choices=sorted(TASKS), default=sorted(TASKS))
    parser.add_argument("--limit", type=int, help="keep only this many samples of each task (smoke runs)")
    parser.add_argument("--results", help="results JSON (default bench/results/vs_optuna.json; '-' for none)")
    args = parser.parse_args()
    import_quietly()
    from tuner.model.task import settle

    figures = Figures("vs_optuna")
    figures.show("budget", [args.trials, args.epochs, args.seeds], f"{args.trials} trials x {args.epochs} epochs")
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    with tempfile.TemporaryDirectory(prefix="tuner-vs-optuna-") as scratch:
        for name in args.tasks:
            space_name, overrides, accuracy = TASKS[name]
            runs[name] = {method: [] for method in (*TOOL, *OPTUNA)}
            for seed in range(1, args.seeds + 1):
                settings = {**overrides, "seed": seed, "search.max_trials": args.trials, "training.epochs": args.epochs}
                if args.limit:
                    settings["data.limit"] = args.limit
                base = space(space_name, **settings)
                data = load_arrays(base, seed)
                base = settle(base, data.num_classes)
                for method in (*TOOL, *OPTUNA):
                    started = time.time()
                    if method in TOOL:
                        spec = base.model_copy(update={"search": base.search.model_copy(update={"algorithm": method})})
                        log = tool_search(spec, Path(scratch) / f"{name}-{method}-{seed}")
                    else:
                        log = optuna_search(base, data, method, seed, args.trials, args.epochs)
                    runs[name][method].append({**summarise(log, started, accuracy), "wall_s": time.time() - started})
            report(figures, name, runs[name], accuracy)
    figures.values["runs"] = runs
    return figures.finish(results_path("vs_optuna", args.results))


def report(figures: Figures, name: str, runs: dict[str, list[dict[str, Any]]], accuracy: float) -> None:
    """One line per method, then the target: tuner's best median loss against Optuna's best."""
    medians = {}
    for method, results in runs.items():
        losses = [result["best_val_loss"] for result in results]
        reached = [result["to_target_s"] for result in results if result["to_target_s"] is not None]
        medians[method] = statistics.median(losses)
        to_target = f"{statistics.median(reached):.1f} s" if reached else "never"
        figures.show(
            f"{name}.{method}",
            {"median_best_val_loss": medians[method], "min": min(losses), "max": max(losses)},
            f"best val_loss median {medians[method]:.4f} (range {min(losses):.4f}-{max(losses):.4f}),"
            f" epochs {statistics.median(r['epochs'] for r in results):.0f},"
            f" to val_accuracy {accuracy:g}: {to_target} ({len(reached)}/{len(results)} seeds),"
            f" wall {statistics.median(r['wall_s'] for r in results):.1f} s",
        )
    tool_best = min(TOOL, key=medians.__getitem__)
    optuna_best = min(OPTUNA, key=medians.__getitem__)
    ratio = medians[tool_best] / medians[optuna_best]
    text = f"{ratio:.3f}x: tuner {tool_best} vs Optuna {optuna_best} median best loss"
    figures.target(f"{name}.best_loss_ratio", ratio, 1.0, text)


if __name__ == "__main__":
    sys.exit(main())
