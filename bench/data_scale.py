"""Data at scale: decoding a folder once, reading it back warm, a parallel search's memory, training throughput.

    python bench/data_scale.py [--sizes 4000,16000] [--repeat 3] [--quick] [--images DIR] [--results PATH]

On a generated folder of JPEGs (10 classes, 128x128 RGB, quality 90) at each size:

1. ``decode_<n>``: a cold ``load_data`` (fresh ``$TUNER_CACHE``) over one full pass of Keras'
   ``image_dataset_from_directory``, each in its own process, alternating; median ratio, target <= 1.0;
2. ``warm_<n>``: ``load_data`` again in a new process (the cache now warm) over the cold decode; target <= 0.1;
3. ``memory_<n>``: the most PSS the whole process tree of ``tuner search --workers 2`` held at once (warm
   cache, sampled every 0.2 s); target <= the data's uint8 bytes + 1 GB per process, and ``memory_spread``:
   that peak less the data bytes at the smallest size within 10% of the same at the largest (two sizes or more);
4. ``throughput_digits`` and ``throughput_<n>`` (smallest size only): images/s of ``model.fit`` on
   ``batches()`` over the cached uint8 rows over the float32 ``from_tensor_slices`` pipeline tuner had before
   the cache, the same CNN; median ratio of alternating epochs after a warm-up, target >= 0.95.

Generated folders are kept under ``--images`` (default /tmp/tuner-data-scale) for the next run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
from benchlib import Figures, results_path

CLASSES = 10
JPEG_QUALITY = 90
PROCESS_ALLOWANCE = 2**30  # bytes of PSS each process may hold besides the one shared copy of the data
SPREAD_TARGET = 0.10
SAMPLE_SECONDS = 0.2
BATCH_SIZE = 64
# A small CNN, the same for every figure: the point is the data path, not the model.
MODEL = {
    "conv_blocks": 2,
    "filters_0": 16,
    "filters_1": 32,
    "kernel_size": 3,
    "batch_norm": False,
    "pooling": "max",
    "dropout": 0.0,
    "dense_units": 0,
    "loss": "sparse_categorical_crossentropy",
    "optimizer": "adam",
    "learning_rate": 1e-3,
}
# Each timed step runs in a child process, so a decode or a warm read starts as a user's command would.
CHILD = """
import json, sys, time
sys.path.insert(0, {bench!r})
import data_scale
print(json.dumps(data_scale.{step}({folder!r}, {side})))
"""


def make_folder(root: Path, count: int, side: int) -> Path:
    """``count`` JPEGs of smooth random colour blobs in 10 class folders, made once and kept under ``root``."""
    from PIL import Image

    folder = root / f"{count}x{side}"
    done = root / f"{count}x{side}.done"
    if done.exists():
        return folder
    rng = np.random.default_rng(count)
    for index in range(count):
        coarse = rng.integers(0, 256, size=(5, 5, 3), dtype=np.uint8)
        image = Image.fromarray(coarse).resize((side, side), Image.Resampling.BICUBIC)
        target = folder / f"class_{index % CLASSES}" / f"{index:06d}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        image.save(target, quality=JPEG_QUALITY)
    done.touch()
    return folder


def directory_spec(folder: str, side: int) -> Any:
    """The DataSpec a space naming the folder gets: RGB at the images' own size."""
    from tuner.space.schema import DataSpec

    return DataSpec(source="directory", path=folder, image_size=[side, side], color_mode="rgb")


def keras_pass(folder: str, side: int) -> float:
    """Seconds of one full pass over Keras' own folder loader, after the dataset is created."""
    import keras

    data = keras.utils.image_dataset_from_directory(
        folder, image_size=(side, side), batch_size=BATCH_SIZE, verbose=False
    )
    started = time.perf_counter()
    for _ in data:
        pass
    return time.perf_counter() - started


def tuner_load(folder: str, side: int) -> float:
    """Seconds of ``load_data`` on the folder, cold or warm as ``$TUNER_CACHE`` holds it.

    scikit-learn (which splits the rows) is imported first: a search has imported it long before it loads data.
    """
    import sklearn.model_selection  # noqa: F401

    from tuner.data.sources import load_data

    spec = directory_spec(folder, side)
    started = time.perf_counter()
    load_data(spec, None, 0)
    return time.perf_counter() - started


def child_seconds(step: str, folder: Path, side: int, cache: Path | None = None) -> float:
    """Run one timed step in a fresh interpreter (with ``$TUNER_CACHE`` at ``cache``) and return its seconds."""
    code = CHILD.format(bench=str(Path(__file__).resolve().parent), step=step, folder=str(folder), side=side)
    env = {**os.environ, **({"TUNER_CACHE": str(cache)} if cache else {})}
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env)
    return float(done.stdout.splitlines()[-1])


def decode_figures(folder: Path, side: int, repeat: int, scratch: Path) -> tuple[list[float], list[float], list[float]]:
    """Keras pass, cold decode and warm read seconds, alternating, each cold decode into a cache of its own.

    Every cache but the first (which the later figures read) is removed after its warm read. On this VM a
    page the guest has not touched lately costs a fault in the host: writing a 786 MB file while earlier ones
    were kept took 10 to 14 times as long per row (91-127 µs against 9 µs, a pwrite loop) as writing it after
    removing them. A user has one cache per folder; keeping all the repeats' caches measured the VM.
    """
    keras_s, cold_s, warm_s = [], [], []
    for index in range(repeat):
        cache = scratch / f"cache-{folder.name}-{index}"
        keras_s.append(child_seconds("keras_pass", folder, side))
        cold_s.append(child_seconds("tuner_load", folder, side, cache))
        warm_s.append(child_seconds("tuner_load", folder, side, cache))
        if index:
            shutil.rmtree(cache)
    return keras_s, cold_s, warm_s


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it, by the parent links in /proc/*/stat."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The command name in parentheses may hold spaces: the fields after its last ")" are fixed.
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[1])
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def memory_kb(pid: int) -> tuple[int, int] | None:
    """PSS and RSS (kB) of one process from smaps_rollup, or None once it is gone."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    except (OSError, ValueError):
        return None
    return int(fields["Pss"].split()[0]), int(fields["Rss"].split()[0])


def process_name(pid: int, root: int) -> str:
    """The launcher (which runs the chief and worker-0), or another worker by its keras-tuner id."""
    if pid == root:
        return "launcher+chief+worker-0"
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return str(pid)
    for variable in environ:
        if variable.startswith(b"KERASTUNER_TUNER_ID="):
            return variable.split(b"=", 1)[1].decode()
    return str(pid)


def search_memory(folder: Path, side: int, cache: Path, scratch: Path) -> dict[str, Any]:
    """Peak summed PSS of ``tuner search --workers 2`` and its process count then, and each process's peaks."""
    space = scratch / f"space-{folder.name}.yaml"
    space.write_text(
        textwrap.dedent(f"""
        name: data-scale
        seed: 1
        data: {{source: directory, path: {folder}, image_size: [{side}, {side}], color_mode: rgb}}
        model: {{conv_blocks: 1, filters: 8, dense_units: 0, dropout: 0.0}}
        # Two points at least, or the random oracle stops after one trial and one worker never trains.
        optimizer: {{name: adam, learning_rate: {{min: 1.0e-3, max: 1.0e-2, sampling: log}}}}
        training: {{epochs: 1, batch_size: {BATCH_SIZE}, early_stopping: 0}}
        search: {{algorithm: random, max_trials: 2}}
        """),
        encoding="utf-8",
    )
    tuner = Path(sys.executable).with_name("tuner")
    command = [str(tuner), "search", str(space), "--workers", "2", "--max-trials", "2", "--epochs", "1"]
    command += ["--runs-dir", str(scratch / f"runs-{folder.name}"), "--overwrite", "--quiet"]
    launcher = subprocess.Popen(
        command, env={**os.environ, "TUNER_CACHE": str(cache)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak_pss, peak_processes = 0, 0
    peaks: dict[int, tuple[int, int]] = {}
    # The latest name found: a worker has the launcher's environment until it execs, and none while it exits.
    names: dict[int, str] = {}
    while launcher.poll() is None:
        total, alive = 0, 0
        for pid in process_tree(launcher.pid):
            sample = memory_kb(pid)
            if sample is None:
                continue
            total, alive = total + sample[0], alive + 1
            name = process_name(pid, launcher.pid)
            if pid not in names or name != str(pid):
                names[pid] = name
            pss, rss = peaks.get(pid, (0, 0))
            peaks[pid] = (max(pss, sample[0]), max(rss, sample[1]))
        if total > peak_pss:
            peak_pss, peak_processes = total, alive
        time.sleep(SAMPLE_SECONDS)
    if launcher.returncode != 0:
        raise RuntimeError(f"tuner search failed ({launcher.returncode}): {launcher.stderr.read().decode()[-2000:]}")
    per_process = {names[pid]: {"pss_kb": pss, "rss_kb": rss} for pid, (pss, rss) in peaks.items()}
    return {"peak_pss_bytes": peak_pss * 1024, "processes": peak_processes, "per_process": per_process}


def images_per_second(model: Any, data: Any, samples: int) -> float:
    """One epoch of ``model.fit`` on ``data``, as images per second."""
    started = time.perf_counter()
    model.fit(data, epochs=1, shuffle=False, verbose=0)  # the pipeline shuffles
    return samples / (time.perf_counter() - started)


def throughput(data: Any, epochs: int) -> tuple[list[float], list[float]]:
    """Images/s of the cache path and of the old float32 pipeline, alternating epochs after one warm-up each."""
    import keras
    import tensorflow as tf

    from tuner.model import task
    from tuner.model.batches import PREFETCH_BATCHES, batches
    from tuner.model.builder import build_model

    subset = data.train
    labels = task.targets(subset.labels, MODEL["loss"])
    keras.utils.set_random_seed(0)
    cached = build_model(MODEL, data.input_shape, data.num_classes, pixel_scale=data.pixel_scale)
    cached_data = batches(subset, labels, BATCH_SIZE, shuffle=True)
    # The pipeline before the cache (8999555:tuner/model/hypermodel.py): float32 pixels in [0, 1] held in memory.
    floats = (subset.pixels() * np.float32(data.pixel_scale)).astype("float32")
    options = tf.data.Options()
    options.autotune.enabled = False
    old = tf.data.Dataset.from_tensor_slices((floats, labels)).with_options(options)
    old_data = old.shuffle(len(labels), reshuffle_each_iteration=True).batch(BATCH_SIZE).prefetch(PREFETCH_BATCHES)
    in_memory = build_model(MODEL, data.input_shape, data.num_classes)
    cached_ips, old_ips = [], []
    for epoch in range(epochs + 1):
        # Each goes first every other round, so whatever the first of a pair pays is paid by both.
        if epoch % 2:
            old_rate = images_per_second(in_memory, old_data, len(subset))
            cache_rate = images_per_second(cached, cached_data, len(subset))
        else:
            cache_rate = images_per_second(cached, cached_data, len(subset))
            old_rate = images_per_second(in_memory, old_data, len(subset))
        if epoch:  # the first epoch of each traces its training step
            cached_ips.append(cache_rate)
            old_ips.append(old_rate)
    return cached_ips, old_ips


def ratio(numerators: list[float], denominators: list[float]) -> float:
    """The median of the pairwise ratios: pairs were taken side by side, so the load on the machine cancels."""
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


def main() -> int:
    """Measure every figure at every size and judge it against its target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4000,16000", help="images per folder, comma-separated")
    parser.add_argument("--side", type=int, default=128, help="image height and width in pixels")
    parser.add_argument("--repeat", type=int, default=3, help="alternating repeats of each timing")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs of each pipeline after the warm-up")
    # A digits epoch takes a tenth of a second, so one epoch's ratio swings by 20%: many of them settle it.
    parser.add_argument("--digits-epochs", type=int, default=15, help="the same on digits")
    parser.add_argument("--quick", action="store_true", help="smoke test: 200 images 32x32, one repeat")
    parser.add_argument("--images", type=Path, default=Path(tempfile.gettempdir()) / "tuner-data-scale")
    parser.add_argument("--results", help="results JSON (default bench/results/data_scale.json; '-' for none)")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.side, args.repeat, args.epochs, args.digits_epochs = "200", 32, 1, 1, 1
    sizes = sorted(int(size) for size in args.sizes.split(","))
    figures = Figures("data_scale")
    figures.show("setup", {"sizes": sizes, "side": args.side, "repeat": args.repeat}, f"{sizes} x {args.side}px")
    overhead: dict[int, int] = {}
    with tempfile.TemporaryDirectory(prefix="tuner-data-scale-") as scratch:
        for size in sizes:
            folder = make_folder(args.images, size, args.side)
            keras_s, cold_s, warm_s = decode_figures(folder, args.side, args.repeat, Path(scratch))
            timings = {"keras": keras_s, "tuner_cold": cold_s, "tuner_warm": warm_s}
            figures.show(f"decode_{size}_s", timings, _listed(timings, "s"))
            decode = ratio(cold_s, keras_s)
            text = f"cold load_data {statistics.median(cold_s):.2f} s / keras pass {statistics.median(keras_s):.2f} s"
            figures.target(f"decode_{size}", decode, 1.0, f"{text} = {decode:.2f}x")
            warm = ratio(warm_s, cold_s)
            text = f"warm load_data {statistics.median(warm_s) * 1000:.0f} ms / cold = {warm:.3f}x"
            figures.target(f"warm_{size}", warm, 0.1, text)
            data_bytes = size * args.side * args.side * 3
            memory = search_memory(folder, args.side, Path(scratch) / f"cache-{folder.name}-0", Path(scratch))
            figures.show(f"memory_{size}_detail", {"data_bytes": data_bytes, **memory}, _per_process(memory))
            peak, processes = memory["peak_pss_bytes"], memory["processes"]
            limit = data_bytes + PROCESS_ALLOWANCE * processes
            text = f"peak PSS {peak / 2**20:.0f} MiB of {processes} processes, data {data_bytes / 2**20:.0f} MiB"
            figures.target(f"memory_{size}", peak / 2**20, limit / 2**20, f"{text}; MiB")
            overhead[size] = peak - data_bytes
        if len(sizes) > 1:
            smallest, largest = overhead[sizes[0]], overhead[sizes[-1]]
            spread = abs(smallest - largest) / largest
            text = (
                f"peak PSS less data {smallest / 2**20:.0f} MiB at {sizes[0]}, {largest / 2**20:.0f} MiB at {sizes[-1]}"
            )
            figures.target("memory_spread", spread, SPREAD_TARGET, f"{text}: {spread:.1%} apart")
        else:
            figures.show("memory_spread", None, "needs two sizes")
        from tuner.space.schema import DataSpec

        _throughput_figures(figures, "digits", _load(DataSpec(source="digits")), args.digits_epochs)
        # The smallest folder as the search reads it: uint8 rows of the memory map its first decode left.
        os.environ["TUNER_CACHE"] = str(Path(scratch) / f"cache-{sizes[0]}x{args.side}-0")
        folder = str(args.images / f"{sizes[0]}x{args.side}")
        _throughput_figures(figures, str(sizes[0]), _load(directory_spec(folder, args.side)), args.epochs)
    return figures.finish(results_path("data_scale", args.results))


def _per_process(memory: dict[str, Any]) -> str:
    """Each process's peak PSS and RSS, for the figure line."""
    return ", ".join(
        f"{name} PSS {peak['pss_kb'] / 1024:.0f} / RSS {peak['rss_kb'] / 1024:.0f} MiB"
        for name, peak in sorted(memory["per_process"].items())
    )


def _listed(series: dict[str, list[float]], unit: str) -> str:
    """Every repeat of each series, for the figure line."""
    return "; ".join(
        f"{name} " + ", ".join(f"{value:.3g}" for value in values) + f" {unit}" for name, values in series.items()
    )


def _load(spec: Any) -> Any:
    from tuner.data.sources import load_data

    return load_data(spec, None, 0)


def _throughput_figures(figures: Figures, name: str, data: Any, epochs: int) -> None:
    cached_ips, old_ips = throughput(data, epochs)
    rates = {"cache": cached_ips, "float32": old_ips}
    figures.show(f"throughput_{name}_ips", rates, _listed(rates, "img/s"))
    value = ratio(cached_ips, old_ips)
    text = f"{statistics.median(cached_ips):.0f} img/s on the cache path / {statistics.median(old_ips):.0f} float32"
    figures.target(f"throughput_{name}", value, 0.95, f"{text} = {value:.2f}x", at_most=False)


if __name__ == "__main__":
    sys.exit(main())
