"""The ``tuner`` command: parse arguments, run the subcommand's handler, turn errors into one line and an exit code.

TensorFlow is imported only by the commands that build models, so ``tuner --help`` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from collections.abc import Sequence
from typing import NoReturn

from rich.console import Console

from tuner.cli.commands import RUN_COMMANDS, _search, _validate, _worker, default_space
from tuner.cli.parser import build_parser
from tuner.engine.quiet import hide_gaussian_process_notes, import_tensorflow_quietly
from tuner.errors import InputError, SearchStoppedError
from tuner.parallel.cluster import ORACLE_IP, ORACLE_PORT, Address, WorkersFailedError, chief_from_environment
from tuner.space.loading import load_spec
from tuner.space.schema import Spec
from tuner.space.yaml_source import YamlDocument

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


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


def _chief_from_environment(parser: argparse.ArgumentParser) -> Address:
    """The chief keras-tuner's variables name, for a worker started without ``--chief``."""
    try:
        chief = chief_from_environment(os.environ)
    except ValueError as error:
        parser.error(f"{ORACLE_IP}/{ORACLE_PORT}: {error}")
    if chief is None:
        parser.error(f"worker needs --chief HOST:PORT (or {ORACLE_IP} and {ORACLE_PORT} in the environment)")
    return chief


if __name__ == "__main__":
    sys.exit(main())
