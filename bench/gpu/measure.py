"""GPU figures: the default search and a Fashion-MNIST-sized search on one GPU, against a bare Keras ``fit``.

    bash bench/gpu/run.sh [--backends torch,jax] [--fashion PATH] [--fashion-trials 2] [--fashion-epochs 3]

For each backend, each search runs as ``python -m tuner search --backend B`` while ``nvidia-smi`` samples the
GPU's utilisation every 200 ms. Its figures: wall time, images per second while training (images trained over
the seconds its epochs took, from the run's histories), the GPU utilisation (mean and peak over the search),
and the ratio of those images per second to a bare Keras ``fit`` of the same configurations on the same GPU,
in the same process kind and batch size, on arrays held in memory: what the tool's pipeline and recording
cost. One line per figure; results in ``$OUT/gpu.json`` (the device tool brings back ``$OUT``) or ``--results``.

Fashion-MNIST's four original files (30 MB) travel with the call (``--fashion``); without them, only the
default search is measured. ``--quick`` shrinks everything for the CPU check in ``tests/test_bench_gpu.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from benchlib import SPACES, Figures, bare_fit_seconds, installed_backends, load_trials, write_space  # noqa: E402

SAMPLE_MS = 200


class Utilisation:
    """The GPU's utilisation in percent, sampled by ``nvidia-smi`` in the background while a search runs."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.process: subprocess.Popen[str] | None = None
        self.reader: threading.Thread | None = None

    def __enter__(self) -> Utilisation:
        if shutil.which("nvidia-smi") is None:
            return self  # a CPU machine: no samples, the figure says so
        query = ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits", f"-lms={SAMPLE_MS}"]
        self.process = subprocess.Popen(query, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            first = line.split(",")[0].strip()
            if first.replace(".", "", 1).isdigit():
                self.samples.append(float(first))

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait()

    def text(self) -> str:
        if not self.samples:
            return "n/a (no nvidia-smi)"
        return f"mean {sum(self.samples) / len(self.samples):.0f} %, peak {max(self.samples):.0f} %"


@dataclass(frozen=True)
class SearchFigures:
    """What one search gave: its wall time, the GPU's utilisation meanwhile and the configurations it trained."""

    wall: float
    utilisation: Utilisation
    trials: list[dict[str, Any]]

    def images_per_second(self, rows: int) -> float:
        """Images trained over the seconds the epochs took (validation included, as in the bare fit)."""
        seconds = sum(trial["seconds"] for trial in self.trials)
        return rows * sum(trial["epochs"] for trial in self.trials) / seconds if seconds else 0.0


def run_search(space: Path, backend: str, runs_dir: Path) -> SearchFigures:
    """``tuner search`` of ``space`` on ``backend``, timed and sampled; its run directory read back."""
    command = [sys.executable, "-m", "tuner", "search", str(space), "--backend", backend]
    command += ["--runs-dir", str(runs_dir), "--overwrite", "--quiet"]
    started = time.perf_counter()
    with Utilisation() as utilisation:
        done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    run_dir = next(path for path in runs_dir.iterdir() if path.is_dir())
    return SearchFigures(wall, utilisation, load_trials(run_dir))


def bare_fit(space: Path, trials: list[dict[str, Any]], backend: str) -> dict[str, float]:
    """The same configurations fitted by a bare Keras loop in a fresh process on ``backend``.

    Returns the training rows of the split and the bare loop's images per second.
    """
    script = "import sys; sys.path.insert(0, sys.argv[1]); from measure import bare_throughput; bare_throughput()"
    environ = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run(
        [sys.executable, "-c", script, str(Path(__file__).parent), str(space), json.dumps(trials)],
        capture_output=True,
        text=True,
        env=environ,
    )
    if done.returncode != 0:
        sys.exit(f"the bare fit on {backend} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bare_throughput() -> None:
    """In the child: print the split's training rows and a bare ``model.fit``'s images per second, as JSON."""
    from benchlib import load_arrays

    from tuner.space.loading import load_spec

    spec, _ = load_spec(Path(sys.argv[2]))
    data = load_arrays(spec, spec.seed)
    images = seconds = 0.0
    for trial in json.loads(sys.argv[3]):
        build = {"mixed_precision": spec.training.mixed_precision}
        seconds += bare_fit_seconds(trial["values"], data, trial["epochs"], spec.seed, **build)
        images += len(data.x_train) * trial["epochs"]
    print(json.dumps({"rows": len(data.x_train), "images_per_s": images / seconds}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="torch,jax", help="comma-separated (default: torch,jax)")
    parser.add_argument("--fashion", type=Path, help="folder of Fashion-MNIST's four original files")
    parser.add_argument("--fashion-trials", type=int, default=2)
    parser.add_argument("--fashion-epochs", type=int, default=3)
    parser.add_argument("--tasks", default="default,fashion", help="which searches (default: default,fashion)")
    parser.add_argument("--quick", action="store_true", help="CPU check: 1 trial x 1 epoch of each search")
    parser.add_argument("--results", type=Path, help="results JSON (default: $OUT/gpu.json, else none)")
    args = parser.parse_args()
    backends = installed_backends(args.backends.split(","))
    if not backends:
        sys.exit(f"none of {args.backends} can be imported here")
    figures = Figures("gpu")
    figures.show("gpus", gpu_names(), ", ".join(gpu_names()) or "none")
    with tempfile.TemporaryDirectory(prefix="tuner-gpu-") as scratch_dir:
        scratch = Path(scratch_dir)
        budget: dict[str, Any] = {"max_trials": 1} if args.quick else {}
        spaces = {"default": write_space(SPACES / "digits.yaml", scratch / "digits.yaml", search=budget)}
        if args.quick:
            spaces["default"] = write_space(spaces["default"], spaces["default"], training={"epochs": 1})
        if args.fashion is not None:
            trials, epochs = (1, 1) if args.quick else (args.fashion_trials, args.fashion_epochs)
            spaces["fashion"] = write_space(
                SPACES / "fashion_mnist_gpu.yaml",
                scratch / "fashion.yaml",
                data={"path": str(args.fashion.resolve())},
                search={"max_trials": trials, "algorithm": "random"},
                training={"epochs": epochs},
            )
        chosen = {task: space for task, space in spaces.items() if task in args.tasks.split(",")}
        for backend in backends:
            for task, space in chosen.items():
                label = f"{backend}_{task}"
                result = run_search(space, backend, scratch / label)
                bare = bare_fit(space, result.trials, backend)
                speed = result.images_per_second(int(bare["rows"]))
                figures.show(f"{label}_wall_s", result.wall, f"{result.wall:.1f} s, {len(result.trials)} trials")
                figures.show(f"{label}_images_per_s", speed, f"{speed:,.0f} while training")
                figures.show(f"{label}_gpu_utilisation", result.utilisation.samples, result.utilisation.text())
                ratio = speed / bare["images_per_s"]
                figures.show(f"{label}_vs_bare_fit", ratio, f"{ratio:.2f} of a bare fit's {bare['images_per_s']:,.0f}")
    out = os.environ.get("OUT")
    return figures.finish(args.results or (Path(out) / "gpu.json" if out else None))


def gpu_names() -> list[str]:
    """The GPUs ``nvidia-smi`` lists, by name (none on a CPU machine)."""
    if shutil.which("nvidia-smi") is None:
        return []
    done = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True)
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


if __name__ == "__main__":
    sys.exit(main())
