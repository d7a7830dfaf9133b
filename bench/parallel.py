"""Benchmark: the bundled digits space searched with one worker and with two, in one go.

Reports each wall time, the CPU seconds each search used (all its processes), the speed-up, the best
speed-up that CPU total allows on this machine's cores, and whether the ranked losses are identical;
one line per figure, results in ``bench/results/parallel.json``, exit 1 when the speed-up misses the
target or the rankings differ. Timings mean something only on an otherwise idle machine:

    python bench/parallel.py [--trials 16] [--epochs N] [--target 1.7]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from benchlib import Figures, children_cpu_seconds, results_path

RUN_NAME = "digits-cnn"


def search(workers: int, runs_dir: Path, trials: int, epochs: int | None) -> tuple[float, float, pd.DataFrame]:
    """Wall and CPU seconds of one ``tuner search --workers`` from start to exit, and its ranked results."""
    command = [sys.executable, "-m", "tuner", "search", "--workers", str(workers), "--max-trials", str(trials)]
    command += ["--runs-dir", str(runs_dir), "--overwrite", "--quiet"]
    command += ["--epochs", str(epochs)] if epochs else []
    cpu_before, started = children_cpu_seconds(), time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall, cpu = time.perf_counter() - started, children_cpu_seconds() - cpu_before
    return wall, cpu, pd.read_csv(runs_dir / RUN_NAME / "results.csv")


def main() -> int:
    """Run both searches and print the figures; non-zero exit on a missed target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16, help="trials per search (default: 16)")
    parser.add_argument("--epochs", type=int, help="override the space's epochs (default: the space's 10)")
    parser.add_argument("--target", type=float, default=1.7, help="required speed-up of 2 workers (default: 1.7)")
    parser.add_argument("--results", help="results JSON (default bench/results/parallel.json; '-' for none)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tuner-bench-") as scratch:
        one_wall, one_cpu, one = search(1, Path(scratch) / "one", args.trials, args.epochs)
        two_wall, two_cpu, two = search(2, Path(scratch) / "two", args.trials, args.epochs)
    ranked = ["trial", "objective"]
    identical = bool(one[ranked].equals(two[ranked])) and len(one) == args.trials
    cores = len(os.sched_getaffinity(0))
    figures = Figures("parallel")
    figures.show("trials", args.trials, f"{args.trials}")
    figures.show("one_worker_s", one_wall, f"{one_wall:.1f} s wall, {one_cpu:.1f} CPU s")
    figures.show("two_workers_s", two_wall, f"{two_wall:.1f} s wall, {two_cpu:.1f} CPU s")
    # Two workers cannot finish before their CPU seconds are spread over every core with none idle.
    bound = one_wall / (two_cpu / cores)
    figures.show("speedup_bound", bound, f"{bound:.2f}x at most: {two_cpu:.1f} CPU s over {cores} cores")
    figures.target("speedup", one_wall / two_wall, args.target, f"{one_wall / two_wall:.2f}x", at_most=False)
    figures.show("ranked_losses_identical", identical, "yes" if identical else "no")
    code = figures.finish(results_path("parallel", args.results))
    return code if identical else 1


if __name__ == "__main__":
    sys.exit(main())
