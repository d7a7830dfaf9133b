"""Fuzzed space files: many hostile documents through ``load_spec``, counting what each did.

    python bench/fuzz_spaces.py [--cases 100000] [--workers 2] [--first-seed 0]

Every case is a document drawn from the published JSON Schema and mutated (``tuner.testing.fuzz``); case N is
``random.Random(N)``, so a failure is replayed from its seed. Targets: no exception but ``InputError`` and no
error that is not one located line (0 each), no case that takes more than 2 s of CPU (a hang is stopped after
10 s of CPU and counted), and each worker's peak resident set under 300 MiB. Times per case are CPU seconds: on a
shared machine a case can wait for a core far longer than it runs.
"""

from __future__ import annotations

import argparse
import signal
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import FrameType
from typing import Any

from benchlib import Figures, results_path

from tuner.testing.fuzz import case, check, peak_rss_mb

HANG_SECONDS = 10
SLOWEST_TARGET_S = 2.0
RSS_TARGET_MB = 300.0
SHOWN_FAILURES = 20


class Hung(BaseException):
    """A case still loading after ``HANG_SECONDS`` of CPU; a BaseException so ``check`` does not count it as its own."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hung


def run_seeds(first: int, count: int) -> dict[str, Any]:
    """Load cases ``first`` to ``first + count - 1`` in this process; counts, the slowest case and failures."""
    signal.signal(signal.SIGPROF, _alarm)
    kinds: Counter[str] = Counter()
    slowest, slowest_seed, failures = 0.0, first, []
    # tmpfs where there is one: writing each case is part of the loop, not of what is measured.
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as scratch:
        path = Path(scratch) / "space.yaml"
        for seed in range(first, first + count):
            data = case(seed)
            signal.setitimer(signal.ITIMER_PROF, HANG_SECONDS)
            try:
                outcome = check(path, data)
            except Hung:
                kinds["hung"] += 1
                failures.append((seed, "hung", ""))
                continue
            finally:
                signal.setitimer(signal.ITIMER_PROF, 0)
            kinds[outcome.kind] += 1
            if outcome.cpu_seconds > slowest:
                slowest, slowest_seed = outcome.cpu_seconds, seed
            if outcome.kind not in ("valid", "refused") and len(failures) < SHOWN_FAILURES:
                failures.append((seed, outcome.kind, outcome.text))
    return {
        "kinds": kinds,
        "slowest_s": slowest,
        "slowest_seed": slowest_seed,
        "failures": failures,
        "peak_rss_mb": peak_rss_mb(),
        "cpu_s": time.process_time(),
    }


def main() -> int:
    """Fuzz the loader over the seeds asked for and judge the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--results", default=None, help="results JSON (default bench/results/fuzz_spaces.json; - none)")
    args = parser.parse_args()
    figures = Figures("fuzz_spaces")
    share = -(-args.cases // args.workers)
    chunks = [
        (start, min(share, args.first_seed + args.cases - start))
        for start in range(args.first_seed, args.first_seed + args.cases, share)
    ]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        parts = list(pool.map(run_seeds, *zip(*chunks, strict=True)))
    seconds = time.perf_counter() - started
    kinds = sum((part["kinds"] for part in parts), Counter())
    slowest = max(parts, key=lambda part: part["slowest_s"])
    failures = [failure for part in parts for failure in part["failures"]]
    figures.show(
        "cases", args.cases, f"{args.cases:,} space files, seeds {args.first_seed}-{args.first_seed + args.cases - 1}"
    )
    cpu = sum(part["cpu_s"] for part in parts)
    figures.show("seconds", seconds, f"{seconds:.1f} s wall on {args.workers} worker(s)")
    figures.show("cpu_s", cpu, f"{cpu:.1f} CPU s in the workers, {1e3 * cpu / args.cases:.2f} ms per case")
    figures.show("outcomes", dict(kinds), ", ".join(f"{count:,} {kind}" for kind, count in sorted(kinds.items())))
    figures.show("failures", failures, f"{len(failures)} shown" if failures else "none")
    for seed, kind, text in failures:
        print(f"  seed {seed}: {kind}: {text}")
    figures.target(
        "other_exceptions", kinds["other_exception"], 0, f"{kinds['other_exception']} exceptions but InputError"
    )
    figures.target("not_one_line", kinds["not_one_line"], 0, f"{kinds['not_one_line']} errors not one located line")
    figures.target("hung", kinds["hung"], 0, f"{kinds['hung']} cases still loading after {HANG_SECONDS} CPU s")
    figures.target(
        "slowest_case_s",
        slowest["slowest_s"],
        SLOWEST_TARGET_S,
        f"{slowest['slowest_s']:.2f} CPU s (seed {slowest['slowest_seed']})",
    )
    peak = max(part["peak_rss_mb"] for part in parts)
    figures.target("peak_rss_mb", peak, RSS_TARGET_MB, f"{peak:.0f} MiB, the largest worker's peak resident set")
    return figures.finish(results_path("fuzz_spaces", args.results))


if __name__ == "__main__":
    raise SystemExit(main())
