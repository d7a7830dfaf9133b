"""Overhead: a search's wall time over the sum of plain ``model.fit`` times of the same models in a bare loop.

    python bench/overhead.py [--trials 20] [--epochs 10] [--target 1.10]

Everything runs in this one process with TensorFlow's default threads: ``tuner``'s search (``run_search`` on the
bundled digits space), keras-tuner by hand (``kt_by_hand.py``, the same configurations), and after each, a
bare loop that builds every configuration it trained and times only ``model.fit`` for the epochs that trial
trained (early stopping included). 1.0 would mean the search costs nothing beyond training.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from benchlib import ROOT, Figures, bare_fit_seconds, load_arrays, load_trials, results_path, space

from tuner.backend.selection import import_quietly


def main() -> int:
    """Time both searches and both bare loops; print the ratios and judge the tool's."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--target", type=float, default=1.10)
    parser.add_argument("--results", help="results JSON (default bench/results/overhead.json; '-' for none)")
    args = parser.parse_args()
    import_quietly()
    import kt_by_hand

    from tuner.engine.search import run_search
    from tuner.engine.seeds import derive_seed, trial_seed
    from tuner.model.task import settle

    spec = space("digits", **{"search.max_trials": args.trials, "training.epochs": args.epochs})
    data = load_arrays(spec, spec.seed)
    spec = settle(spec, data.num_classes)
    figures = Figures("overhead")
    figures.show("trials", args.trials, f"{args.trials} x up to {args.epochs} epochs, digits")
    with tempfile.TemporaryDirectory(prefix="tuner-overhead-") as scratch:
        # Warm TensorFlow up first, so neither side pays its one-off start.
        first = {"conv_blocks": 1, "filters_0": 8, "kernel_size": 3, "pooling": "max", "batch_norm": False}
        warm = {**first, "dropout": 0.0, "dense_units": 0, "optimizer": "adam", "learning_rate": 1e-3}
        bare_fit_seconds({**warm, "batch_size": 64, "loss": "sparse_categorical_crossentropy"}, data, 1, 1)
        started = time.perf_counter()
        run = run_search(spec, ROOT, Path(scratch) / "runs", overwrite=True)
        tool_wall = time.perf_counter() - started
        tool_trials = load_trials(run.run_dir)
        tool_fit = sum(
            bare_fit_seconds(t["values"], data, t["epochs"], trial_seed(spec.seed, t["values"], 0)) for t in tool_trials
        )
        arrays = (data.x_train, data.y_train, data.x_val, data.y_val)
        started = time.perf_counter()
        by_hand = kt_by_hand.search(arrays, args.trials, args.epochs, scratch, derive_seed(spec.seed, "oracle"))
        hand_wall = time.perf_counter() - started
        hand_fit = sum(bare_fit_seconds(t["values"], data, t["epochs"], 1) for t in by_hand["trials"])
    figures.show("tool_search_s", tool_wall, f"{tool_wall:.2f} s for {len(tool_trials)} trials")
    figures.show("tool_bare_fit_s", tool_fit, f"{tool_fit:.2f} s")
    figures.show("by_hand_search_s", hand_wall, f"{hand_wall:.2f} s for {len(by_hand['trials'])} trials")
    figures.show("by_hand_bare_fit_s", hand_fit, f"{hand_fit:.2f} s")
    figures.show("by_hand_overhead", hand_wall / hand_fit, f"{hand_wall / hand_fit:.3f}x (keras-tuner by hand)")
    figures.target("tool_overhead", tool_wall / tool_fit, args.target, f"{tool_wall / tool_fit:.3f}x (tuner)")
    return figures.finish(results_path("overhead", args.results))


if __name__ == "__main__":
    sys.exit(main())
