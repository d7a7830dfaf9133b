"""The ``tuner`` command: parse arguments, call one function, turn known errors into one line and exit 2.

TensorFlow is imported only by the commands that build models, so ``tuner --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shlex
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table

from tuner import rundir
from tuner.arguments import build_parser
from tuner.distributed import (
    ORACLE_IP,
    ORACLE_PORT,
    Address,
    WorkersFailedError,
    chief_from_environment,
)
from tuner.errors import InputError, SearchStoppedError
from tuner.quiet import hide_gaussian_process_notes, import_tensorflow_quietly
from tuner.spec import Spec, load_spec
from tuner.yamlsource import YamlDocument

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def default_space() -> Path:
    """The bundled digits space, used when ``tuner search`` is given no file."""
    return Path(str(resources.files("tuner.search_spaces") / "digits.yaml"))


def run() -> NoReturn:
    """The console script (and ``python -m tuner``): ``main``, then an exit that skips TensorFlow's teardown.

    Unloading TensorFlow's native state at interpreter exit takes about a second here (``import
    tensorflow`` then exit: 3.9 s; with ``os._exit``: 3.0 s), paid at the end of every search and by
    every worker. By the time ``main`` returns, everything a command writes is on disk (atomic writes),
    so once TensorFlow is loaded the process flushes its output and leaves directly.
    """
    code = main()
    if "tensorflow" not in sys.modules:
        sys.exit(code)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "worker" and args.chief is None:
        args.chief = _chief_from_environment(parser)
    if args.command == "search" and args.threads is not None and args.workers is None:
        parser.error("--threads sets the threads of each worker; it needs --workers")
    if args.command == "search" and args.check_reproducible and args.workers is not None:
        parser.error("--check-reproducible trains the best trial again in this process; it cannot run with --workers")
    if args.command in ("search", "worker"):
        args.threads = args.threads or 1
    # Piped output (logs, CI) has no width to fit: do not squeeze the tables to 80 columns.
    # Bound to stdout now: a distributed chief silences keras-tuner's stray prints by swapping sys.stdout.
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200)
    document: YamlDocument | None = None
    spec: Spec | None = None
    if not getattr(args, "verbose", False):
        hide_gaussian_process_notes()
    try:
        if args.command in RUN_COMMANDS:
            return RUN_COMMANDS[args.command](args, console)
        space = args.space or default_space()
        spec, document = load_spec(space)
        # ``search --workers`` imports TensorFlow once its workers are starting (tuner.launcher).
        if not getattr(args, "verbose", False) and getattr(args, "workers", None) is None:
            import_tensorflow_quietly()
        if args.command == "validate":
            return _validate(spec, space, console)
        if args.command == "worker":
            return _worker(args, spec, space)
        return _search(args, spec, space, console)
    except InputError as error:
        if document is not None and not error.file:
            error = document.error(error.key, error.message)
        print(f"tuner: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except WorkersFailedError as error:
        print(f"tuner: {error}", file=sys.stderr)
        return EXIT_FAILED
    except SearchStoppedError as stopped:
        print(f"tuner: {stopped}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"tuner: {_interrupted(args, argv, spec)}", file=sys.stderr)
        return EXIT_INTERRUPTED


def _interrupted(args: argparse.Namespace, argv: list[str], spec: Spec | None) -> str:
    """Where an interrupted search left its run and the command that resumes it (never with --overwrite)."""
    if args.command != "search" or spec is None:
        return "interrupted"
    run_dir = args.runs_dir / spec.name
    resume = shlex.join(["tuner", *(arg for arg in argv if arg != "--overwrite")])
    return f"interrupted; completed trials are saved in {run_dir}; resume with: {resume}"


def _with_overrides(spec: Spec, args: argparse.Namespace) -> Spec:
    """The spec with command-line overrides applied, validated again as a whole."""
    # Only the keys the file set: defaults would count as set, and some are refused when set (momentum for adam).
    raw = spec.model_dump(exclude_unset=True)
    if getattr(args, "max_trials", None) is not None:
        raw.setdefault("search", {})["max_trials"] = args.max_trials
    if args.epochs is not None:
        raw.setdefault("training", {})["epochs"] = args.epochs
    if args.seed is not None:
        raw["seed"] = args.seed
    return Spec.model_validate(raw)


def _chief_from_environment(parser: argparse.ArgumentParser) -> Address:
    """The chief keras-tuner's variables name, for a worker started without ``--chief``."""
    try:
        chief = chief_from_environment(os.environ)
    except ValueError as error:
        parser.error(f"{ORACLE_IP}/{ORACLE_PORT}: {error}")
    if chief is None:
        parser.error(f"worker needs --chief HOST:PORT (or {ORACLE_IP} and {ORACLE_PORT} in the environment)")
    return chief


def _worker_args(args: argparse.Namespace) -> list[str]:
    """The overrides a local worker needs to see the same space as its chief."""
    given = {"--runs-dir": str(args.runs_dir.resolve()), "--epochs": args.epochs, "--seed": args.seed}
    return [part for flag, value in given.items() if value is not None for part in (flag, str(value))]


def _search(args: argparse.Namespace, spec: Spec, space: Path, console: Console) -> int:
    """``tuner search`` (in this process, or with local workers) and ``tuner chief``."""
    from reports.terminal import top_table
    from tuner.progress import TrialProgress

    spec = _with_overrides(spec, args)
    objective = spec.search.objective
    if not args.quiet:
        console.print(
            f"[bold]{spec.name}[/]: {spec.search.algorithm} search, {spec.search.max_trials} trials,"
            f" {objective.direction}imising {objective.name}",
            highlight=False,
        )
    progress = None if args.quiet or args.verbose else TrialProgress(console, objective.name)
    with progress or contextlib.nullcontext():
        if args.command == "chief":
            from tuner.chief import run_chief

            address = Address(args.host, args.port)
            if not args.quiet:
                console.print(f"chief: serving on {address}; start workers with --chief HOST:{args.port}")
            result = run_chief(spec, space.parent, args.runs_dir, address, args.overwrite, args.verbose, progress)
        elif args.workers is not None:
            result = _launch(args, spec, space, console, progress)
        else:
            from tuner.search import run_search

            result = run_search(
                spec, space.parent, args.runs_dir, args.overwrite, args.verbose, progress, args.check_reproducible
            )
    console.print(top_table(result.ranked, args.top, title=f"top trials of {spec.name}"))
    if "test_loss" in result.ranked.columns and not result.ranked.empty:
        best = result.ranked.iloc[0]
        tested = ", ".join(f"{name} {best[name]:.4g}" for name in result.ranked.columns if name.startswith("test_"))
        console.print(f"held-out test set, best trial {best['trial']}: {tested}", highlight=False)
    console.print(
        f"results: {result.run_dir / rundir.RESULTS_FILE}  report: {result.run_dir / rundir.REPORT_FILE}"
        f"  ({result.seconds:.0f} s)",
        highlight=False,
    )
    if args.command == "search" and args.check_reproducible:
        console.print("[green]reproducible[/]: the best trial trained again gave identical losses")
    return 0


def _launch(args: argparse.Namespace, spec: Spec, space: Path, console: Console, progress: Any) -> Any:
    """``tuner search --workers``: plan the local workers and run the search through them."""
    from tuner import distributed
    from tuner.launcher import run_parallel

    gpus = distributed.visible_gpus()
    trials = None if spec.search.algorithm == "hyperband" else spec.search.max_trials
    count = None if args.workers == "auto" else args.workers
    slots = distributed.plan_workers(count, args.threads, distributed.usable_cores(), gpus, trials)
    if not args.quiet:
        where = f"{len(gpus)} GPU(s)" if gpus else f"{args.threads} thread(s) each"
        console.print(f"{len(slots)} worker(s), {where}", highlight=False)
    return run_parallel(
        spec, space, args.runs_dir, slots, _worker_args(args), args.overwrite, args.verbose, progress, console.print
    )


def _worker(args: argparse.Namespace, spec: Spec, space: Path) -> int:
    """``tuner worker``: join a chief and train the trials it hands out until it says stop."""
    from tuner.distributed import default_tuner_id
    from tuner.worker import run_worker

    tuner_id = args.id or default_tuner_id(os.environ)
    spec = _with_overrides(spec, args)
    run_worker(spec, space.parent, args.runs_dir, args.chief, tuner_id, args.threads, args.verbose)
    return 0


def _validate(spec: Spec, space: Path, console: Console) -> int:
    from tuner.validate import check_space

    check = check_space(spec, space.parent)
    table = Table(title=f"{spec.name}: hyperparameters", header_style="bold")
    for header in ("name", "type", "values", "active when"):
        table.add_column(header)
    for row in check.hyperparameters:
        table.add_row(row.name, row.kind, row.values, row.condition)
    console.print(table)
    console.print(
        f"data: {check.samples} images of shape {check.input_shape}, {check.num_classes} classes\n"
        f"models: {check.smallest_params:,} parameters (smallest) to {check.largest_params:,} (largest)",
        highlight=False,
    )
    if check.grid_size is not None:
        console.print(f"grid: {check.grid_size:,} combinations", highlight=False)
    console.print(f"[green]ok[/]: {space} is a valid space")
    return 0


def _report(args: argparse.Namespace, console: Console) -> int:
    """Rank a run, write both reports and print the top trials; never imports TensorFlow."""
    from reports.terminal import as_text, top_table
    from reports.writer import write_reports

    ranked = write_reports(args.run_dir, args.csv, args.html)
    csv_path, html_path = args.csv or args.run_dir / rundir.RESULTS_FILE, args.html or args.run_dir / rundir.REPORT_FILE
    if args.format == "html":
        sys.stdout.write(html_path.read_text(encoding="utf-8"))
    elif args.format != "table":
        sys.stdout.write(as_text(ranked, args.top, args.format))
    else:
        console.print(top_table(ranked, args.top, title=f"top trials of {args.run_dir}"))
        console.print(f"results: {csv_path}  report: {html_path}", highlight=False)
    return 0


def _compare(args: argparse.Namespace, console: Console) -> int:
    """Print the best trial of each run, best run first."""
    from reports.compare import best_of_runs
    from reports.terminal import as_text, top_table

    table = best_of_runs(args.run_dirs)
    if args.format != "table":
        sys.stdout.write(as_text(table, len(table), args.format))
        return 0
    objective = table.attrs["objective"]
    console.print(
        top_table(
            table, len(table), title=f"best trial of each run, by {objective}", leading=("run", "trials", "completed")
        )
    )
    return 0


def _export(args: argparse.Namespace, console: Console) -> int:
    """Save the chosen trial's model and the YAML that retrains it."""
    if args.output.suffix != ".keras":
        raise InputError(f"--output must end in .keras (got {args.output})")
    import_tensorflow_quietly()
    from tuner.export import export_trial

    exported = export_trial(args.run_dir, args.rank, args.output)
    console.print(
        f"trial {exported.trial} ({exported.params:,} parameters): model {exported.model_path},"
        f" space {exported.space_path}",
        highlight=False,
    )
    return 0


RUN_COMMANDS = {"report": _report, "compare": _compare, "export": _export}


if __name__ == "__main__":
    sys.exit(main())
