"""``tuner search`` against keras-tuner by hand: the same space, trials and epochs, wall time and best loss.

    python bench/vs_keras_tuner.py [--trials 20] [--epochs 10] [--target 0.55] [--repeat 1] [--seed 42]
    python bench/vs_keras_tuner.py --variant "1 worker=--workers 1" --variant "in-process="

Both sides run as a user would start them, from a fresh process (imports included): ``kt_by_hand.py`` (the
script from keras-tuner's guide, drawing the same configurations on the same data split) and ``tuner search``
on the bundled digits space, alternated ``--repeat`` times, repeat ``r`` with run seed ``--seed + r`` on both
sides. Each ``--variant NAME=ARGS`` times ``tuner search`` with other flags, to measure a lever; only the
first variant (default ``--workers 2``) is judged against the targets.

Both sides train the same configurations, so "equal or better loss" is judged per configuration: the
sign test's one-sided 95% upper confidence bound of the median ratio (tool's val_loss / by hand's) must
be at most 1 + LOSS_MARGIN. The best loss of a search, the lowest of 20 unseeded trainings, is printed
too (median of the per-seed ratios), but it swings by tens of percent between seeds on either side and
cannot tell a tie from a loss.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from benchlib import Figures, results_path
from scipy.stats import binom

HERE = Path(__file__).resolve().parent
RUN_NAME = "digits-cnn"
# How much worse than by hand, per configuration, still counts as equal: far below the seed-to-seed noise.
LOSS_MARGIN = 0.01


def by_hand(trials: int, epochs: int, seed: int, scratch: Path) -> tuple[float, dict[int, float]]:
    """Wall time of the by-hand script and the validation loss of each trial, by trial number."""
    out = scratch / "by_hand.json"
    command = [sys.executable, str(HERE / "kt_by_hand.py"), "--trials", str(trials), "--epochs", str(epochs)]
    command += ["--seed", str(seed)]
    started = time.perf_counter()
    subprocess.run([*command, "--out", str(out)], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    found = json.loads(out.read_text(encoding="utf-8"))["trials"]
    return seconds, {int(trial["id"]): float(trial["score"]) for trial in found}


def tool(flags: list[str], trials: int, epochs: int, seed: int, scratch: Path) -> tuple[float, dict[int, float]]:
    """Wall time of ``tuner search`` with ``flags`` and the validation loss of each trial, by trial number."""
    runs = scratch / "runs"
    command = [sys.executable, "-m", "tuner", "search", "--max-trials", str(trials), "--epochs", str(epochs)]
    command += ["--seed", str(seed)]
    command += ["--runs-dir", str(runs), "--overwrite", "--quiet", *flags]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    ranked = pd.read_csv(runs / RUN_NAME / "results.csv")
    return seconds, {int(trial): float(loss) for trial, loss in zip(ranked["trial"], ranked["objective"], strict=True)}


def main() -> int:
    """Alternate the runs, then print wall times, ratios and best losses."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--target", type=float, default=0.55, help="tool wall time / by-hand wall time, at most")
    parser.add_argument("--repeat", type=int, default=1, help="searches per side, run seeds --seed, --seed + 1, ...")
    parser.add_argument("--seed", type=int, default=42, help="run seed of the first repeat (default: the space's 42)")
    parser.add_argument("--variant", action="append", help="NAME=FLAGS for tuner search (default: tool=--workers 2)")
    parser.add_argument("--results", help="results JSON (default bench/results/vs_keras_tuner.json; '-' for none)")
    args = parser.parse_args()
    variants = dict(text.split("=", 1) for text in (args.variant or ["tool=--workers 2"]))
    times: dict[str, list[float]] = {"by_hand": [], **{name: [] for name in variants}}
    # losses[name][repeat] maps trial number to its validation loss
    losses: dict[str, list[dict[int, float]]] = {name: [] for name in times}
    with tempfile.TemporaryDirectory(prefix="tuner-vs-kt-") as scratch:
        for repeat in range(args.repeat):
            seed = args.seed + repeat
            seconds, found = by_hand(args.trials, args.epochs, seed, Path(scratch))
            times["by_hand"].append(seconds)
            losses["by_hand"].append(found)
            for name, flags in variants.items():
                seconds, found = tool(shlex.split(flags), args.trials, args.epochs, seed, Path(scratch))
                times[name].append(seconds)
                losses[name].append(found)
    figures = Figures("vs_keras_tuner")
    seeds = f"seeds {args.seed}-{args.seed + args.repeat - 1}" if args.repeat > 1 else f"seed {args.seed}"
    figures.show(
        "budget", [args.trials, args.epochs], f"{args.trials} trials x up to {args.epochs} epochs, digits, {seeds}"
    )
    hand = statistics.median(times["by_hand"])
    best = {name: [min(found.values()) for found in runs] for name, runs in losses.items()}
    figures.show("by_hand_s", times["by_hand"], f"{hand:.1f} s, best val_loss {_losses(best['by_hand'])} (by hand)")
    for index, (name, flags) in enumerate(variants.items()):
        wall = statistics.median(times[name])
        figures.show(f"{name}_s", times[name], f"{wall:.1f} s, best val_loss {_losses(best[name])} (tuner {flags})")
        ratio_text = f"{wall / hand:.3f}x by-hand wall time (tuner {flags})"
        if index:
            figures.show(f"{name}_ratio", wall / hand, ratio_text)
            continue
        figures.target(f"{name}_ratio", wall / hand, args.target, ratio_text)
        per_seed = [mine / theirs for mine, theirs in zip(best[name], best["by_hand"], strict=True)]
        ratio = statistics.median(per_seed)
        text = f"{ratio:.3f}x by hand's best val_loss (median over {len(per_seed)} seeds: {_losses(per_seed, 3)})"
        figures.show(f"{name}_best_loss_ratio", ratio, text)
        # Both sides train the same configurations: trial by trial, only the training seeds differ.
        paired = [
            mine[trial] / loss
            for mine, theirs in zip(losses[name], losses["by_hand"], strict=True)
            for trial, loss in theirs.items()
            if trial in mine
        ]
        median = statistics.median(paired)
        text = f"{median:.3f}x median over {len(paired)} configurations, {sum(r <= 1 for r in paired)} better or equal"
        figures.show(f"{name}_paired_loss_ratio", {"median": median, "ratios": paired}, text)
        bound = median_upper_bound(paired)
        text = f"{bound:.4f}x at most, with 95% confidence: median val_loss ratio per configuration"
        figures.target(f"{name}_paired_loss_bound", bound, 1.0 + LOSS_MARGIN, text)
    return figures.finish(results_path("vs_keras_tuner", args.results))


def median_upper_bound(values: list[float], confidence: float = 0.95) -> float:
    """The sign test's one-sided upper confidence bound of the median: an order statistic, assuming no distribution.

    The median of the population lies below the k-th smallest of n values with probability
    P(Binomial(n, 1/2) <= k - 1); the bound is the first order statistic where that reaches ``confidence``
    (with fewer than five values no order statistic does, and the largest is returned).
    """
    ordered = sorted(values)
    return ordered[min(int(binom.ppf(confidence, len(ordered), 0.5)), len(ordered) - 1)]


def _losses(values: list[float], digits: int = 4) -> str:
    return " ".join(f"{value:.{digits}f}" for value in values)


if __name__ == "__main__":
    sys.exit(main())
