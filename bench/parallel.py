"""Benchmark: the bundled digits space searched with one worker and with two, in one go.

Reports each wall time, the speed-up and whether the ranked losses are identical, one line per
figure, and exits 1 when the speed-up misses the target or the rankings differ. Timings mean
something only on an otherwise idle machine:  python bench/parallel.py
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

RUN_NAME = "digits-cnn"


def search(workers: int, runs_dir: Path, trials: int, epochs: int | None) -> tuple[float, pd.DataFrame]:
    """Wall time of one ``tuner search --workers`` from start to exit, and its ranked results."""
    command = [sys.executable, "-m", "tuner", "search", "--workers", str(workers), "--max-trials", str(trials)]
    command += ["--runs-dir", str(runs_dir), "--overwrite", "--quiet"]
    command += ["--epochs", str(epochs)] if epochs else []
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    return seconds, pd.read_csv(runs_dir / RUN_NAME / "results.csv")


def main() -> int:
    """Run both searches and print the figures; non-zero exit on a missed target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16, help="trials per search (default: 16)")
    parser.add_argument("--epochs", type=int, help="override the space's epochs (default: the space's 10)")
    parser.add_argument("--target", type=float, default=1.7, help="required speed-up of 2 workers (default: 1.7)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tuner-bench-") as scratch:
        one_seconds, one = search(1, Path(scratch) / "one", args.trials, args.epochs)
        two_seconds, two = search(2, Path(scratch) / "two", args.trials, args.epochs)
    ranked = ["trial", "objective"]
    identical = one[ranked].equals(two[ranked]) and len(one) == args.trials
    speedup = one_seconds / two_seconds
    print(f"trials: {args.trials}")
    print(f"1 worker: {one_seconds:.1f} s")
    print(f"2 workers: {two_seconds:.1f} s")
    print(f"speed-up: {speedup:.2f}x (target {args.target:.2f}x)")
    print(f"ranked losses identical: {'yes' if identical else 'no'}")
    return 0 if identical and speedup >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
