"""Time ``tuner report`` on a synthetic run of many trials; exit 1 when it misses the target.

    python bench/report_scale.py [--trials 500] [--restarts 1] [--target 2.0] [--repeat 3]

Prints one line per figure. The run directory is generated in the same on-disk format as a real run
(see ``rundirs.py``), so the timing covers reading keras-tuner's records, ranking and writing both reports.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tuner.testing.rundirs import random_trials, write_run


def tuner_command() -> list[str]:
    """The installed ``tuner`` console script next to this interpreter, or ``python -m tuner``."""
    script = Path(sys.executable).with_name("tuner")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tuner"]


def main() -> int:
    """Generate, time, print, and compare the median against the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--restarts", type=int, default=1)
    parser.add_argument("--target", type=float, default=2.0, help="seconds the median report may take")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        run_dir = write_run(
            Path(scratch) / "run", random_trials(args.trials, restarts=args.restarts), restarts=args.restarts
        )
        print(f"generated {args.trials} trials x {args.restarts} restart(s): {time.perf_counter() - started:.2f} s")
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            subprocess.run([*tuner_command(), "report", str(run_dir), "--top", "10"], check=True, capture_output=True)
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        print(f"tuner report runs: {', '.join(f'{t:.2f}' for t in times)} s")
        print(f"tuner report median: {median:.2f} s (target < {args.target:.2f} s)")
        print(f"report.html size: {(run_dir / 'report.html').stat().st_size / 1e6:.2f} MB")
        print(f"results.csv rows: {sum(1 for _ in (run_dir / 'results.csv').open()) - 1}")
    if median >= args.target:
        print(f"FAIL: median {median:.2f} s >= target {args.target:.2f} s")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
