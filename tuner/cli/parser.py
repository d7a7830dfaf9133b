"""The ``tuner`` command line: every subcommand, option and argument check, with nothing imported that is slow.

Each subcommand names its handler in ``tuner.cli.commands``; those import the heavy parts only when they run,
so ``tuner --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from tuner import __version__
from tuner.backend.selection import BACKENDS, DEFAULT, ENVIRONMENT
from tuner.cli import commands
from tuner.parallel.cluster import (
    DEFAULT_PORT,
    LOOPBACK,
    ORACLE_IP,
    ORACLE_PORT,
    TUNER_ID,
    Address,
    check_tuner_id,
    chief_from_environment,
    parse_address,
)


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """The parsed command line, with the checks that span several options; bad ones exit 2 with usage."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv)
    if args.command == "worker" and args.chief is None:
        args.chief = _chief_from_environment(parser)
    if args.command == "search" and args.threads is not None and args.workers is None:
        parser.error("--threads sets the threads of each worker; it needs --workers")
    if args.command == "search" and args.check_reproducible and args.workers is not None:
        parser.error("--check-reproducible trains the best trial again in this process; it cannot run with --workers")
    if args.command in ("search", "worker"):
        args.threads = args.threads or 1
    return args


def _chief_from_environment(parser: argparse.ArgumentParser) -> Address:
    """The chief keras-tuner's variables name, for a worker started without ``--chief``."""
    try:
        chief = chief_from_environment(os.environ)
    except ValueError as error:
        parser.error(f"{ORACLE_IP}/{ORACLE_PORT}: {error}")
    if chief is None:
        parser.error(f"worker needs --chief HOST:PORT (or {ORACLE_IP} and {ORACLE_PORT} in the environment)")
    return chief


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="tuner", description="Search CNN hyperparameters described in a YAML file, with keras-tuner."
    )
    parser.add_argument("--version", action="version", version=f"tuner {__version__}")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    search = subcommands.add_parser("search", help="run a search and write the run directory")
    search.set_defaults(handler=commands.search)
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

    chief = subcommands.add_parser("chief", help="serve a search's oracle to workers on other machines")
    chief.set_defaults(handler=commands.search)
    _add_space_options(chief, max_trials=True)
    _add_run_options(chief)
    chief.add_argument(
        "--host", default=LOOPBACK, help=f"address to listen on; 0.0.0.0 for every interface (default: {LOOPBACK})"
    )
    chief.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port to listen on (default: {DEFAULT_PORT})")

    worker = subcommands.add_parser("worker", help="train trials handed out by a chief")
    worker.set_defaults(handler=commands.worker)
    _add_space_options(worker, max_trials=False)
    worker.add_argument("--chief", type=_address, help=f"the chief's HOST:PORT (default: ${ORACLE_IP}:${ORACLE_PORT})")
    worker.add_argument(
        "--id", type=_tuner_id, help=f"stable worker id; a restarted worker resumes its trial (default: ${TUNER_ID})"
    )
    _add_threads_option(worker)
    worker.add_argument(
        "--chief-lost-after",
        type=_positive,
        default=30,
        metavar="SECONDS",
        help="give up (exit 7) when the chief has not answered for this long (default: 30)",
    )
    worker.add_argument("--verbose", action="store_true", help="show keras-tuner's and Keras' per-epoch output")

    validate = subcommands.add_parser("validate", help="check a space without training")
    validate.set_defaults(handler=commands.validate)
    validate.add_argument("space", type=Path, help="search-space YAML")
    _add_backend_option(validate)

    report = subcommands.add_parser("report", help="rank a run's trials and write results.csv and report.html")
    report.set_defaults(handler=commands.report)
    report.add_argument("run_dir", type=Path, help="a run directory made by tuner search")
    report.add_argument("--top", type=_positive, default=10, help="how many trials to print (default: 10)")
    report.add_argument("--csv", type=Path, help="where to write the CSV (default: RUN_DIR/results.csv)")
    report.add_argument("--html", type=Path, help="where to write the HTML report (default: RUN_DIR/report.html)")
    report.add_argument(
        "--serve", action="store_true", help="then serve the run directory on 127.0.0.1, to watch a live report"
    )
    report.add_argument("--port", type=_non_negative, default=8765, help="the port --serve listens on (default: 8765)")
    report.add_argument(
        "--format",
        choices=("table", "csv", "html", "md", "json"),
        default="table",
        help="what to print (default: table)",
    )

    compare = subcommands.add_parser("compare", help="the best trial of each of several runs in one table")
    compare.set_defaults(handler=commands.compare)
    compare.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="run directories with one objective")
    compare.add_argument("--format", choices=("table", "csv", "md", "json"), default="table", help="what to print")

    predict = subcommands.add_parser(
        "predict", help="apply an exported model (or a run's best trial) to image files: class and probabilities"
    )
    predict.set_defaults(handler=commands.predict)
    predict.add_argument("model", type=Path, help="a .keras file from tuner export (its .yaml next to it), or a run")
    predict.add_argument("images", type=Path, nargs="+", help="image files, or folders searched for them")
    predict.add_argument("--output", type=Path, help="write the predictions to this CSV (default: print them)")
    _add_backend_option(predict)
    export = subcommands.add_parser("export", help="save a trial's trained model and a YAML that retrains it")
    export.set_defaults(handler=commands.export)
    export.add_argument("run_dir", type=Path, help="a run directory made by tuner search")
    export.add_argument("--rank", type=_positive, default=1, help="which trial by rank (default: 1, the best)")
    export.add_argument(
        "--pareto", action="store_true", help="list the trials on the Pareto front (objective, parameters, latency)"
    )
    export.add_argument(
        "--output", type=Path, default=Path("best.keras"), help="the .keras file to write (default: best.keras)"
    )
    _add_backend_option(export)
    schema = subcommands.add_parser("schema", help="print the JSON Schema of the space file, for editors")
    schema.set_defaults(handler=commands.schema)
    return parser


def _add_space_options(parser: argparse.ArgumentParser, max_trials: bool) -> None:
    """The space file and the overrides of it, shared by search, chief and worker."""
    parser.add_argument("space", nargs="?", type=Path, help="search-space YAML (default: the bundled digits space)")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where run directories go (default: runs)")
    if max_trials:
        parser.add_argument("--max-trials", type=_positive, help="override search.max_trials")
        parser.add_argument("--max-time", metavar="DURATION", help="override search.max_time: seconds, or 90s, 20m, 8h")
    parser.add_argument("--epochs", type=_positive, help="override training.epochs")
    parser.add_argument(
        "--tensorboard", action="store_true", default=None, help="write TensorBoard logs (search.tensorboard: true)"
    )
    parser.add_argument("--seed", type=_non_negative, help="override seed")
    _add_backend_option(parser)


def _add_backend_option(parser: argparse.ArgumentParser) -> None:
    """The Keras backend; checked by the command itself, so a bad or missing one is one line (exit 2)."""
    parser.add_argument(
        "--backend",
        metavar="{" + ",".join(BACKENDS) + "}",
        help=f"Keras backend to train on (default: ${ENVIRONMENT}, else {DEFAULT}); a run resumes on its own",
    )


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
        help="threads per worker (default: 1; results match across worker counts at equal threads)",
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
