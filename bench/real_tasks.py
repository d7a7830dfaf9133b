"""Search quality on a real task: Fashion-MNIST's official test split, the CNN family against plain blocks.

    python bench/real_tasks.py [--trials N] [--epochs N] [--workers 2] [--limit N] [--target 0.925]

Runs ``tuner search`` on the bundled ``search_spaces/fashion_mnist.yaml`` twice, one after the other, at the
same budget (its ``max_trials`` x ``epochs``, or the flags): once as written, and once with every key of the
CNN family (stages of several convolutions, shortcuts, filter growth, activation, head, weight decay,
schedule, warm-up, label smoothing, augmentation) removed, so they take their defaults: today's plain
blocks. Each search is scored by its best trial's accuracy on the official 10,000 test images, which the
search never sees. Targets: the family reaches ``--target`` and beats the plain blocks, and each search
fits the CPU budget: its CPU seconds over this machine's cores at most ``--budget-minutes`` (45). CPU
seconds rather than wall time, so the budget holds what the search costs even while the machine is busy.

The data is Debian's ``dataset-fashion-mnist``; as root the script installs it when it is missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from benchlib import SPACES, Figures, results_path, run_timed

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
# The CNN family's keys by section: removing them leaves the plain blocks every older space meant.
FAMILY_KEYS = {
    "model": ("convs_per_block", "residual", "filters_growth", "activation", "head"),
    "optimizer": ("weight_decay", "schedule", "warmup_epochs"),
    "training": ("label_smoothing",),
}


def ensure_fashion_mnist() -> None:
    """Install Debian's package of the original files when they are missing (needs root and the package index)."""
    if (FASHION_MNIST / "t10k-labels-idx1-ubyte.gz").exists():
        return
    if os.geteuid() != 0:
        sys.exit(f"{FASHION_MNIST} is missing: sudo apt-get install dataset-fashion-mnist")
    subprocess.run(["apt-get", "update", "-q"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-q", "dataset-fashion-mnist"], check=True, stdout=subprocess.DEVNULL)


def plain(space: dict[str, Any]) -> dict[str, Any]:
    """The same space with every key of the CNN family left at its default."""
    stripped = {section: dict(values) for section, values in space.items() if isinstance(values, dict)}
    stripped = {**space, **stripped}
    for section, keys in FAMILY_KEYS.items():
        for key in keys:
            stripped.get(section, {}).pop(key, None)
    stripped.pop("augmentation", None)
    return stripped


def search(space: dict[str, Any], folder: Path, workers: int) -> tuple[float, float, pd.Series]:
    """Wall and CPU seconds of one ``tuner search`` from start to exit, and its best trial's row."""
    folder.mkdir(parents=True)
    path = folder / "space.yaml"
    path.write_text(yaml.safe_dump(space, sort_keys=False), encoding="utf-8")
    command = [sys.executable, "-m", "tuner", "search", str(path), "--runs-dir", str(folder / "runs"), "--quiet"]
    command += ["--workers", str(workers)]
    wall, cpu = run_timed(command)
    ranked = pd.read_csv(folder / "runs" / space["name"] / "results.csv")
    return wall, cpu, ranked.iloc[0]


def main() -> int:
    """Run both searches and print the figures; non-zero exit on a missed target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default=str(SPACES / "fashion_mnist.yaml"), help="the family's space")
    parser.add_argument("--trials", type=int, help="trials per search (default: the space's max_trials)")
    parser.add_argument("--epochs", type=int, help="epochs per trial (default: the space's)")
    parser.add_argument("--workers", type=int, default=2, help="tuner search --workers (default: 2)")
    parser.add_argument("--limit", type=int, help="data.limit, for a quick look (the published figures use none)")
    parser.add_argument("--target", type=float, default=0.925, help="test accuracy to reach (default: 0.925)")
    parser.add_argument("--budget-minutes", type=float, default=45.0, help="CPU minutes per core per search")
    parser.add_argument("--keep", help="keep both run directories under this folder")
    parser.add_argument("--results", help="results JSON (default bench/results/real_tasks.json; '-' for none)")
    args = parser.parse_args()
    family = yaml.safe_load(Path(args.space).read_text(encoding="utf-8"))
    if family["data"].get("path") == str(FASHION_MNIST):
        ensure_fashion_mnist()
    family["data"] = {**family["data"], **({"limit": args.limit} if args.limit else {})}
    family["search"] = {**family.get("search", {}), **({"max_trials": args.trials} if args.trials else {})}
    family["training"] = {**family.get("training", {}), **({"epochs": args.epochs} if args.epochs else {})}
    arms = {"family": family, "plain": plain(family)}
    cores = len(os.sched_getaffinity(0))
    figures = Figures("real_tasks")
    trials, epochs = family["search"]["max_trials"], family["training"]["epochs"]
    budget = f"{trials} trials x {epochs} epochs per search, --workers {args.workers}, {cores} cores"
    figures.show("budget", {"trials": trials, "epochs": epochs, "workers": args.workers}, budget)
    accuracy: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="tuner-bench-") as scratch:
        for name, space in arms.items():
            wall, cpu, best = search(space, Path(scratch) / name, args.workers)
            accuracy[name] = float(best["test_accuracy"])
            scored = f"{space['search']['objective']} {best['objective']:.4f}"
            summary = f"trial {best['trial']}: {best['architecture']}, {int(best['params'])} parameters, {scored}"
            figures.show(f"{name}_best", best.to_dict(), summary)
            figures.show(f"{name}_test_accuracy", accuracy[name], f"{accuracy[name]:.4f} on the official test split")
            figures.show(f"{name}_wall_s", wall, f"{wall / 60:.1f} min wall")
            budget_text = f"{cpu / cores / 60:.1f} CPU min per core ({cpu:.0f} CPU s)"
            figures.target(f"{name}_cpu_minutes_per_core", cpu / cores / 60, args.budget_minutes, budget_text)
        if args.keep:
            shutil.copytree(scratch, args.keep, dirs_exist_ok=True)
    reached = f"{accuracy['family']:.4f}"
    figures.target("family_test_accuracy_target", accuracy["family"], args.target, reached, at_most=False)
    gain = accuracy["family"] - accuracy["plain"]
    # Beating means at least one more of the 10,000 test images right.
    figures.target("family_minus_plain", gain, 1e-4, f"{gain:+.4f} test accuracy", at_most=False)
    return figures.finish(results_path("real_tasks", args.results))


if __name__ == "__main__":
    sys.exit(main())
