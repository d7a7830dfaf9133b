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

from tuner import __version__, rundir
from tuner.distributed import (
    DEFAULT_PORT,
    LOOPBACK,
    ORACLE_IP,
    ORACLE_PORT,
    TUNER_ID,
    Address,
    WorkersFailedError,
    check_tuner_id,
    chief_from_environment,
    parse_address,
)
from tuner.errors import InputError, SearchStoppedError
from tuner.quiet import import_tensorflow_quietly
from tuner.spec import Spec, load_spec
from tuner.yamlsource import YamlDocument

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def default_space() -> Path:
    """The bundled digits space, used when ``tuner search`` is given no file."""
    return Path(str(resources.files("tuner.search_spaces") / "digits.yaml"))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="tuner", description="Search CNN hyperparameters described in a YAML file, with keras-tuner."
    )
    parser.add_argument("--version", action="version", version=f"tuner {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    search = commands.add_parser("search", help="run a search and write the run directory")
    _add_space_options(search, max_trials=True)
    _add_run_options(search)
    search.add_argument(
        "--workers",
        type=_workers,
        help="run N worker processes through keras-tuner's distributed mode; 'auto': one per GPU, else per core",
    )
    _add_threads_option(search)
    search.add_argument(
        "--check-reproducible",
        action="store_true",
        help="train the best trial again at the end and fail unless its losses are identical (not with --workers)",
    )

    chief = commands.add_parser("chief", help="serve a search's oracle to workers on other machines")
    _add_space_options(chief, max_trials=True)
    _add_run_options(chief)
    chief.add_argument(
        "--host", default=LOOPBACK, help=f"address to listen on; 0.0.0.0 for every interface (default: {LOOPBACK})"
    )
    chief.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port to listen on (default: {DEFAULT_PORT})")

    worker = commands.add_parser("worker", help="train trials handed out by a chief")
    _add_space_options(worker, max_trials=False)
    worker.add_argument("--chief", type=_address, help=f"the chief's HOST:PORT (default: ${ORACLE_IP}:${ORACLE_PORT})")
    worker.add_argument(
        "--id", type=_tuner_id, help=f"stable worker id; a restarted worker resumes its trial (default: ${TUNER_ID})"
    )
    _add_threads_option(worker)
    worker.add_argument("--verbose", action="store_true", help="show keras-tuner's and Keras' per-epoch output")

    validate = commands.add_parser("validate", help="check a space without training")
    validate.add_argument("space", type=Path, help="search-space YAML")

    report = commands.add_parser("report", help="rank a run's trials and write results.csv and report.html")
    report.add_argument("run_dir", type=Path, help="a run directory made by tuner search")
    report.add_argument("--top", type=_positive, default=10, help="how many trials to print (default: 10)")
    report.add_argument("--csv", type=Path, help="where to write the CSV (default: RUN_DIR/results.csv)")
    report.add_argument("--html", type=Path, help="where to write the HTML report (default: RUN_DIR/report.html)")
    report.add_argument(
        "--format",
        choices=("table", "csv", "html", "md", "json"),
        default="table",
        help="what to print (default: table)",
    )

    compare = commands.add_parser("compare", help="the best trial of each of several runs in one table")
    compare.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="run directories with one objective")
    compare.add_argument("--format", choices=("table", "csv", "md", "json"), default="table", help="what to print")

    export = commands.add_parser("export", help="save a trial's trained model and a YAML that retrains it")
    export.add_argument("run_dir", type=Path, help="a run directory made by tuner search")
    export.add_argument("--rank", type=_positive, default=1, help="which trial by rank (default: 1, the best)")
    export.add_argument(
        "--output", type=Path, default=Path("best.keras"), help="the .keras file to write (default: best.keras)"
    )
    return parser


def _add_space_options(parser: argparse.ArgumentParser, max_trials: bool) -> None:
    """The space file and the overrides of it, shared by search, chief and worker."""
    parser.add_argument("space", nargs="?", type=Path, help="search-space YAML (default: the bundled digits space)")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where run directories go (default: runs)")
    if max_trials:
        parser.add_argument("--max-trials", type=_positive, help="override search.max_trials")
    parser.add_argument("--epochs", type=_positive, help="override training.epochs")
    parser.add_argument("--seed", type=_non_negative, help="override seed")


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    """Options of the commands that own a run and print its results."""
    parser.add_argument(
        "--overwrite", action="store_true", help="discard an existing run of this name (default: resume it)"
    )
    parser.add_argument("--top", type=_positive, default=5, help="how many trials to print at the end (default: 5)")
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument("--verbose", action="store_true", help="show keras-tuner's and Keras' per-epoch output")
    loudness.add_argument("--quiet", action="store_true", help="print only the final table")


def _add_threads_option(parser: argparse.ArgumentParser) -> None:
    """Threads per worker: a fixed default, because results depend on it (oneDNN splits sums by thread)."""
    parser.add_argument(
        "--threads",
        type=_positive,
        help="TensorFlow threads per worker (default: 1; results match across worker counts at equal threads)",
    )


def _workers(text: str) -> int | str:
    """A worker count, or "auto"."""
    return text if text == "auto" else _positive(text)


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be a port from 1 to 65535 (got {text})")
    return value


def _address(text: str) -> Address:
    try:
        return parse_address(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _tuner_id(text: str) -> str:
    try:
        return check_tuner_id(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1 (got {text})")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number (got {text!r})") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (got {text})")
    return value


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
