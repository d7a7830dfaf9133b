"""The same searches on each Keras backend, side by side in one run: wall time, CPU seconds and best loss.

    python bench/backends.py [--backends tensorflow,jax,torch] [--fashion-trials N] [--fashion-epochs N]
                             [--workers N] [--skip-default | --skip-fashion]

Runs the bundled default (digits) search, then the Fashion-MNIST CPU space (``search_spaces/fashion_mnist.yaml``,
at its own budget unless the flags shrink it), on every backend installed here, one search at a time, each
through ``python -m tuner search --backend B`` (``--workers N`` when given). For each: wall time, the CPU
seconds of all its processes, the best trial's objective and, for Fashion-MNIST, its accuracy on the official
test images. Backends are timed in turns (the default search on each, then Fashion-MNIST on each), so a change
in the machine's load touches every backend alike. No targets: this compares, it does not judge. On 2 cores
the Fashion-MNIST space's whole budget (4 trials x 15 epochs) takes most of an hour per backend with
``--workers 2``.

The data is Debian's ``dataset-fashion-mnist``; as root the script installs it when it is missing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd
from benchlib import SPACES, Figures, installed_backends, results_path, run_timed, write_space
from real_tasks import ensure_fashion_mnist


def search(space: Path, backend: str, runs_dir: Path, workers: int | None) -> tuple[float, float, pd.Series]:
    """Wall and CPU seconds of one ``tuner search`` on ``backend``, and its best trial's row."""
    command = [sys.executable, "-m", "tuner", "search", str(space), "--backend", backend]
    command += ["--runs-dir", str(runs_dir), "--overwrite", "--quiet"]
    command += ["--workers", str(workers)] if workers else []
    wall, cpu = run_timed(command)
    run_dir = next(path for path in runs_dir.iterdir() if path.is_dir())
    return wall, cpu, pd.read_csv(run_dir / "results.csv").iloc[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="tensorflow,jax,torch", help="comma-separated; missing ones skipped")
    parser.add_argument("--fashion-trials", type=int, help="trials of the Fashion-MNIST search (default: its 4)")
    parser.add_argument("--fashion-epochs", type=int, help="epochs per trial (default: its 15)")
    parser.add_argument("--workers", type=int, help="local workers of every search (default: none, one process)")
    parser.add_argument("--skip-fashion", action="store_true", help="the default search only")
    parser.add_argument("--skip-default", action="store_true", help="the Fashion-MNIST search only")
    parser.add_argument("--default-space", type=Path, default=SPACES / "digits.yaml", help="(tests: a tiny space)")
    parser.add_argument("--results", help="results JSON (default bench/results/backends.json; '-' for none)")
    args = parser.parse_args()
    backends = installed_backends(args.backends.split(","))
    figures = Figures("backends")
    figures.show("backends", backends, ", ".join(backends))
    figures.show("workers", args.workers, str(args.workers or "none (one process)"))
    with tempfile.TemporaryDirectory(prefix="tuner-backends-") as scratch_dir:
        scratch = Path(scratch_dir)
        tasks = {} if args.skip_default else {"default": args.default_space}
        if not args.skip_fashion:
            ensure_fashion_mnist()
            trials = {"max_trials": args.fashion_trials} if args.fashion_trials else {}
            training = {"epochs": args.fashion_epochs} if args.fashion_epochs else {}
            fashion = SPACES / "fashion_mnist.yaml"
            tasks["fashion"] = write_space(fashion, scratch / fashion.name, search=trials, training=training)
        for task, space in tasks.items():
            for backend in backends:
                wall, cpu, best = search(space, backend, scratch / f"{task}-{backend}", args.workers)
                text = f"{wall:.1f} s wall, {cpu:.1f} CPU s, best objective {best['objective']:.4f}"
                if "test_accuracy" in best:
                    text += f", test accuracy {best['test_accuracy']:.4f}"
                figures.show(f"{task}_{backend}", {"wall_s": wall, "cpu_s": cpu, **best.to_dict()}, text)
    return figures.finish(results_path("backends", args.results))


if __name__ == "__main__":
    sys.exit(main())
