"""The ``tuner`` command: parse arguments, run the subcommand's handler, turn errors into one line and an exit code.

Keras and its backend are imported only by the commands that build models, so ``tuner --help`` stays fast.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

from rich.console import Console

from tuner.backend.selection import framework_loaded
from tuner.cli.parser import parse_arguments
from tuner.engine.quiet import hide_gaussian_process_notes, hide_grpc_notes
from tuner.errors import TunerError, TunerWarning

# What a shell reports for a process ended by SIGINT.
INTERRUPTED = 130


def run() -> NoReturn:
    """The console script (and ``python -m tuner``): ``main``, then an exit that skips the backend's teardown.

    Unloading TensorFlow's native state at interpreter exit takes about a second here (``import
    tensorflow`` then exit: 3.9 s; with ``os._exit``: 3.0 s), paid at the end of every search and by
    every worker; JAX's and PyTorch's are cheaper but no more needed. By the time ``main`` returns, everything
    a command writes is on disk (atomic writes), so once Keras and its backend are loaded the process flushes its
    output and leaves directly, after the image cache entries it built are written (loaded only by commands that
    read data: ``tuner --help`` stays fast).
    """
    code = main()
    cache = sys.modules.get("tuner.data.cache")
    if cache is not None:
        cache.finish_writing()
    if not framework_loaded():
        sys.exit(code)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit code: 0, or the ``exit_code`` of the TunerError it raised."""
    args = parse_arguments(sys.argv[1:] if argv is None else list(argv))
    # Piped output (logs, CI) has no width to fit: do not squeeze the tables to 80 columns.
    # Bound to stdout now: a distributed chief silences keras-tuner's stray prints by swapping sys.stdout.
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200)
    if not getattr(args, "verbose", False):
        hide_gaussian_process_notes()
        hide_grpc_notes()
    show_tuner_warnings_in_one_line()
    try:
        return args.handler(args, console)
    except TunerError as error:
        print(f"tuner: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("tuner: interrupted", file=sys.stderr)
        return INTERRUPTED


def show_tuner_warnings_in_one_line() -> None:
    """``tuner: warning: ...`` on stderr for tuner's own warnings; other libraries' warnings as Python shows them."""
    python_style = warnings.showwarning

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, TunerWarning):
            print(f"tuner: warning: {message}", file=sys.stderr)
        else:
            python_style(message, category, *args, **kwargs)

    warnings.showwarning = show


if __name__ == "__main__":
    sys.exit(main())
