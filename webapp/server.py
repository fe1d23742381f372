"""The production server of ``morgue serve``: gunicorn, with processes that each answer
requests from a pool of threads.

The app is loaded once, before the processes are forked, and reads what the first
searches would read (``Archive.warm``: columns, field lengths, vocabulary, term vectors),
so the processes share its code and that memory; each process opens its own searchers,
which read the index through memory maps shared by all of them
(``indexer.store.MappedStorage``). Each connection answers one request: a
kept-alive connection stays with the process that accepted it, so under steady load one
process could serve most clients while another idles; a new connection goes to whichever
process accepts it first, an idle one. SIGTERM stops gracefully (requests under way are
finished, for up to 30 s), SIGINT (Ctrl-C) at once.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from gunicorn.app.base import BaseApplication

from . import create_app


def default_workers() -> int:
    """One process per CPU this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count() or 1


def bind_address(host: str, port: int) -> str:
    """``host:port`` as gunicorn reads it, an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def check_address(host: str, port: int) -> None:
    """Raise OSError when ``host:port`` cannot be listened on (in use, no such address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
        probe.bind((host, port))


class _Server(BaseApplication):
    """gunicorn serving ``create_app(index_dir)`` with the settings in ``options``."""

    def __init__(self, index_dir: Path, options: dict):
        self.index_dir, self.options = index_dir, options
        super().__init__()

    def load_config(self):
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        app = create_app(self.index_dir)
        app.extensions["archive"].warm()  # read once, before forking: the processes share it
        return app


def serve(index_dir: Path, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the index in ``index_dir`` on ``host:port`` until stopped by a signal."""
    _Server(index_dir, {
        "bind": [bind_address(host, port)], "workers": workers, "threads": threads,
        "worker_class": "gthread", "preload_app": True, "keepalive": 0, "graceful_timeout": 30,
        # An address of up to 8190 bytes (gunicorn's most) holds any query morgue reads
        # (the first 1,000 characters); a longer one is answered 414, not read: reading
        # a request line takes time that grows with the square of its length.
        "limit_request_line": 8190,
        "loglevel": "warning",  # problems only: morgue serve says itself where it listens
    }).run()
