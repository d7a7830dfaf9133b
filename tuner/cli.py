"""The ``tuner`` command: parse arguments, call one function, turn known errors into one line and exit 2.

TensorFlow is imported only by the commands that build models, so ``tuner --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tuner import __version__, rundir
from tuner.errors import InputError
from tuner.quiet import import_tensorflow_quietly
from tuner.spec import Spec, load_spec
from tuner.yamlsource import YamlDocument

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
    search.add_argument("space", nargs="?", type=Path, help="search-space YAML (default: the bundled digits space)")
    search.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where run directories go (default: runs)")
    search.add_argument("--max-trials", type=_positive, help="override search.max_trials")
    search.add_argument("--epochs", type=_positive, help="override training.epochs")
    search.add_argument("--seed", type=_non_negative, help="override seed")
    search.add_argument(
        "--overwrite", action="store_true", help="discard an existing run of this name (default: resume it)"
    )
    search.add_argument("--top", type=_positive, default=5, help="how many trials to print at the end (default: 5)")
    loudness = search.add_mutually_exclusive_group()
    loudness.add_argument("--verbose", action="store_true", help="show keras-tuner's and Keras' per-epoch output")
    loudness.add_argument("--quiet", action="store_true", help="print only the final table")

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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    # Piped output (logs, CI) has no width to fit: do not squeeze the tables to 80 columns.
    console = Console(width=None if sys.stdout.isatty() else 200)
    document: YamlDocument | None = None
    try:
        if args.command in RUN_COMMANDS:
            return RUN_COMMANDS[args.command](args, console)
        space = args.space or default_space()
        spec, document = load_spec(space)
        if not getattr(args, "verbose", False):
            import_tensorflow_quietly()
        if args.command == "validate":
            return _validate(spec, space, console)
        return _search(args, spec, space, console)
    except InputError as error:
        if document is not None and not error.file:
            error = document.error(error.key, error.message)
        print(f"tuner: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("tuner: interrupted; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED


def _with_overrides(spec: Spec, args: argparse.Namespace) -> Spec:
    """The spec with command-line overrides applied, validated again as a whole."""
    raw = spec.model_dump()
    if args.max_trials is not None:
        raw["search"]["max_trials"] = args.max_trials
    if args.epochs is not None:
        raw["training"]["epochs"] = args.epochs
    if args.seed is not None:
        raw["seed"] = args.seed
    return Spec.model_validate(raw)


def _search(args: argparse.Namespace, spec: Spec, space: Path, console: Console) -> int:
    from reports.terminal import top_table
    from tuner.progress import TrialProgress
    from tuner.search import run_search

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
        result = run_search(spec, space.parent, args.runs_dir, args.overwrite, args.verbose, progress)
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
