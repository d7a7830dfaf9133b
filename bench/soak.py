"""A long search in one process: memory, open files and the per-trial report rewrite must not grow with the trials.

    python bench/soak.py [--trials 300] [--warmup 20]

One ``run_search`` of ``--trials`` one-epoch trials of a tiny CNN on the bundled digits runs in a child process.
At the end of each trial, the child reads its own resident set and proportional set size
(/proc/self/smaps_rollup), counts its open file descriptors (/proc/self/fd) and prints them with the CPU seconds
spent rewriting the live reports after that trial (measured around the search's own ``write_reports``, in CPU
time so that other work on the machine does not count; nothing when a rewrite was not due). Targets, after the
first ``--warmup`` trials: the resident set grows by at most 50 MB, the descriptors stay the same, and the report
seconds per trial of the last ``--warmup`` trials are at most twice those of the ``--warmup`` trials after the
first ones.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import Figures, results_path

RSS_GROWTH_MB = 50.0
REPORT_RATIO = 2.0
PROGRESS_EVERY = 25
# Runs in a child process, so what is measured is a search alone. The search's own write_reports is wrapped with a
# clock; the sample is taken at the same point of every trial (just after its reports), so it is comparable.
PROBE = """
import os, sys, time
from pathlib import Path
sys.path.insert(0, {bench!r})
from benchlib import ROOT, space
from tuner.engine import recording
from tuner.engine.listener import SilentListener
from tuner.engine.search import run_search

seconds = []
write_reports = recording.write_reports

def timed_write_reports(*args, **kwargs):
    started = time.process_time()
    try:
        return write_reports(*args, **kwargs)
    finally:
        seconds.append(time.process_time() - started)

recording.write_reports = timed_write_reports

def memory_kb():
    fields = dict(line.split(":", 1) for line in open("/proc/self/smaps_rollup") if ":" in line)
    return int(fields["Rss"].split()[0]), int(fields["Pss"].split()[0])

class Probe(SilentListener):
    counted = 0

    def trial_finished(self, *args):
        rss, pss = memory_kb()
        spent = sum(seconds[self.counted:])  # nothing when the rewrite was not due after this trial
        self.counted = len(seconds)
        print(f"trial {{rss}} {{pss}} {{len(os.listdir('/proc/self/fd'))}} {{spent:.5f}}", flush=True)

spec = space("digits", **{overrides!r})
run_search(spec, ROOT, Path({runs!r}), overwrite=True, listener=Probe())
"""
# A tiny model, one epoch: the soak is about what stays behind between trials, not about training.
TINY = {
    "training.epochs": 1,
    "training.batch_size": 64,
    "model.conv_blocks": {"min": 1, "max": 2},
    "model.filters": {"values": [4, 8]},
    "model.dense_units": 0,
}


def soak(trials: int, scratch: Path) -> list[dict[str, float]]:
    """One sample per trial of a ``trials``-trial search: rss_mb, pss_mb, fds and report_s.

    Ctrl-C stops the search and keeps the samples so far: on a busy machine a soak can take hours.
    """
    overrides = {**TINY, "search.max_trials": trials}
    probe = PROBE.format(bench=str(Path(__file__).resolve().parent), overrides=overrides, runs=str(scratch))
    child = subprocess.Popen(
        [sys.executable, "-c", probe], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    samples: list[dict[str, float]] = []
    try:
        for line in child.stdout or ():
            if line.startswith("trial "):
                rss, pss, fds, seconds = line.split()[1:]
                samples.append(
                    {"rss_mb": int(rss) / 1024, "pss_mb": int(pss) / 1024, "fds": int(fds), "report_s": float(seconds)}
                )
                if len(samples) % PROGRESS_EVERY == 0:
                    print(f"trial {len(samples)}: {samples[-1]}", flush=True)
    except KeyboardInterrupt:
        child.kill()
    if child.wait() not in (0, -signal.SIGKILL):
        raise SystemExit(f"soak: the search failed (exit {child.returncode})")
    return samples


def judge(samples: list[dict[str, float]], warmup: int, figures: Figures) -> None:
    """The figures of a soak: growth after ``warmup`` trials, descriptors, report time early vs late."""
    base = samples[min(warmup, len(samples)) - 1]
    last = samples[-1]
    window = max(1, min(warmup, (len(samples) - warmup) // 2))
    early = statistics.mean(s["report_s"] for s in samples[warmup : warmup + window])
    late = statistics.mean(s["report_s"] for s in samples[-window:])
    figures.show("trials", len(samples), f"{len(samples)} trials")
    figures.show("samples", samples, "one per trial (rss_mb, pss_mb, fds, report_s)")
    growth = last["rss_mb"] - base["rss_mb"]
    pss_growth = last["pss_mb"] - base["pss_mb"]
    figures.show(
        "pss_growth_mb",
        pss_growth,
        f"PSS {base['pss_mb']:.0f} MB after trial {warmup}, {last['pss_mb']:.0f} MB at the end",
    )
    figures.target(
        "rss_growth_mb",
        growth,
        RSS_GROWTH_MB,
        f"resident set {base['rss_mb']:.0f} MB after trial {warmup}, {last['rss_mb']:.0f} MB at the end",
    )
    fds = [int(s["fds"]) for s in samples[warmup - 1 :]]
    figures.target("fd_growth", max(fds) - min(fds), 0, f"open descriptors {min(fds)}..{max(fds)} after trial {warmup}")
    figures.target(
        "report_ratio",
        late / max(early, 0.001),  # a millisecond per trial counts as one
        REPORT_RATIO,
        f"report rewrite {early * 1000:.0f} CPU ms per trial after trial {warmup}, {late * 1000:.0f} ms at the end",
    )


def main() -> int:
    """Run the soak and judge its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20, help="trials before growth is counted")
    parser.add_argument("--results", help="results JSON (default bench/results/soak.json; '-' for none)")
    args = parser.parse_args()
    if args.trials <= args.warmup:
        parser.error("--trials must be greater than --warmup")
    figures = Figures("soak")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tuner-soak-") as scratch:
        samples = soak(args.trials, Path(scratch))
    if len(samples) <= args.warmup:
        raise SystemExit(f"soak: stopped after {len(samples)} trials, not past the {args.warmup} of warm-up")
    figures.show("trials_requested", args.trials, f"{args.trials} trials requested")
    figures.show("wall_s", time.perf_counter() - started, f"{time.perf_counter() - started:.0f} s")
    judge(samples, args.warmup, figures)
    return figures.finish(results_path("soak", args.results))


if __name__ == "__main__":
    sys.exit(main())
