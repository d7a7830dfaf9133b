"""Benchmark: the bundled digits space searched with one worker and with two, in one go.

Reports each wall time, the CPU seconds each search used (all its processes), the speed-up, the best
speed-up that CPU total allows on this machine's cores, and whether the ranked losses are identical;
one line per figure, results in ``bench/results/parallel.json``, exit 1 when the speed-up misses the
target or the rankings differ. Timings mean something only on an otherwise idle machine; on a shared or
throttled one, ``--repeat N`` runs N pairs back to back, alternating which search goes first, so that a slow
spell touches both sides, and judges the median pair's speed-up (the lower middle one of an even count):

    python bench/parallel.py [--trials 16] [--epochs N] [--target 1.7] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd
from benchlib import Figures, results_path, run_timed

RUN_NAME = "digits-cnn"


def search(workers: int, runs_dir: Path, trials: int, epochs: int | None) -> tuple[float, float, pd.DataFrame]:
    """Wall and CPU seconds of one ``tuner search --workers`` from start to exit, and its ranked results."""
    command = [sys.executable, "-m", "tuner", "search", "--workers", str(workers), "--max-trials", str(trials)]
    command += ["--runs-dir", str(runs_dir), "--overwrite", "--quiet"]
    command += ["--epochs", str(epochs)] if epochs else []
    wall, cpu = run_timed(command)
    return wall, cpu, pd.read_csv(runs_dir / RUN_NAME / "results.csv")


def main() -> int:
    """Run both searches and print the figures; non-zero exit on a missed target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16, help="trials per search (default: 16)")
    parser.add_argument("--epochs", type=int, help="override the space's epochs (default: the space's 10)")
    parser.add_argument("--target", type=float, default=1.7, help="required speed-up of 2 workers (default: 1.7)")
    parser.add_argument("--results", help="results JSON (default bench/results/parallel.json; '-' for none)")
    parser.add_argument("--repeat", type=int, default=1, help="pairs of searches, order alternated (default: 1)")
    args = parser.parse_args()
    pairs, identical = [], True
    with tempfile.TemporaryDirectory(prefix="tuner-bench-") as scratch:
        for pair in range(args.repeat):
            timed = {}
            for workers in (1, 2) if pair % 2 == 0 else (2, 1):
                timed[workers] = search(workers, Path(scratch) / f"{pair}-{workers}", args.trials, args.epochs)
            (one_wall, one_cpu, one), (two_wall, two_cpu, two) = timed[1], timed[2]
            ranked = ["trial", "objective"]
            identical &= bool(one[ranked].equals(two[ranked])) and len(one) == args.trials
            speedup = one_wall / two_wall
            pairs.append(
                {"one_s": one_wall, "one_cpu_s": one_cpu, "two_s": two_wall, "two_cpu_s": two_cpu, "speedup": speedup}
            )
            if args.repeat > 1:
                print(f"pair {pair + 1}: {one_wall:.1f} s / {two_wall:.1f} s = {speedup:.2f}x", flush=True)
    cores = len(os.sched_getaffinity(0))
    # The median pair; of an even count, the lower middle one.
    ranked_pairs = sorted(pairs, key=lambda pair: pair["speedup"])
    middle = ranked_pairs[(len(pairs) - 1) // 2]
    figures = Figures("parallel")
    figures.show("trials", args.trials, f"{args.trials}")
    if args.repeat > 1:
        spread = f"{ranked_pairs[0]['speedup']:.2f}x to {ranked_pairs[-1]['speedup']:.2f}x"
        figures.show("pairs", pairs, f"{len(pairs)}, speed-ups {spread}; the median pair:")
    figures.show("one_worker_s", middle["one_s"], f"{middle['one_s']:.1f} s wall, {middle['one_cpu_s']:.1f} CPU s")
    figures.show("two_workers_s", middle["two_s"], f"{middle['two_s']:.1f} s wall, {middle['two_cpu_s']:.1f} CPU s")
    # Two workers cannot finish before their CPU seconds are spread over every core with none idle.
    bound = middle["one_s"] / (middle["two_cpu_s"] / cores)
    figures.show("speedup_bound", bound, f"{bound:.2f}x at most: {middle['two_cpu_s']:.1f} CPU s over {cores} cores")
    figures.target("speedup", middle["speedup"], args.target, f"{middle['speedup']:.2f}x", at_most=False)
    figures.show("ranked_losses_identical", identical, "yes" if identical else "no")
    code = figures.finish(results_path("parallel", args.results))
    return code if identical else 1


if __name__ == "__main__":
    sys.exit(main())
