"""``tuner report --serve``: the run directory over HTTP on this machine only, so a live report can be watched.

The standard library's file server, bound to 127.0.0.1: another machine reaching the results needs an SSH
tunnel (``ssh -L PORT:127.0.0.1:PORT host``), never an open port. Requests are not logged; Ctrl-C stops it.
"""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tuner.errors import AddressInUseError

LOOPBACK = "127.0.0.1"


class _QuietHandler(SimpleHTTPRequestHandler):
    """The file server without a line on stderr per request."""

    def log_message(self, format: str, *args: Any) -> None:
        return None


def report_server(run_dir: Path, port: int) -> ThreadingHTTPServer:
    """A server of ``run_dir`` on 127.0.0.1:``port`` (0: any free port), bound but not yet serving."""
    handler = functools.partial(_QuietHandler, directory=str(run_dir))
    try:
        return ThreadingHTTPServer((LOOPBACK, port), handler)
    except OSError as error:
        raise AddressInUseError(f"cannot serve on {LOOPBACK}:{port} ({error.strerror}); pass another --port") from None
