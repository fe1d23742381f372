"""Serving a shard over TCP with Xapian's own ``xapian-tcpsrv`` (Debian's xapian-tools).

A thin wrapper: it finds the shard's directory, runs

    xapian-tcpsrv --quiet --interface ADDRESS --port PORT [--writable] DIRECTORY

in the foreground, and on SIGTERM or SIGINT stops it and the child it forks for each
connection. A shard of a local index is served through its ``current`` link
(``INDEX/current/shard-K``): the server opens the database for each connection, so a
new connection reads a generation swapped in by ``morgue index --rebuild``.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from ..store import CURRENT, live_generation

PR_SET_PDEATHSIG = 1  # prctl(2)
FLUSH_THRESHOLD = "10000000"  # changes a writable server keeps before committing itself


class ServerError(RuntimeError):
    """The shard cannot be served (the message says why, in one line)."""


def shard_directory(index_dir: Path, shard: int) -> Path:
    """The directory of shard ``shard`` of the live index in ``index_dir``, through its
    ``current`` link."""
    from .connect import shard_count  # Xapian's bindings, only where they are needed

    generation = live_generation(index_dir)
    if generation is None:
        raise ServerError(f"no index in {index_dir}: build one with `morgue index`")
    count = shard_count(generation)
    if not 0 <= shard < count:
        raise ServerError(f"the index in {index_dir} has no shard {shard}: it has "
                          + (f"shards 0 to {count - 1}" if count else "no shards"))
    return Path(index_dir) / CURRENT / f"shard-{shard}"


def command(database: Path, port: int, interface: str, writable: bool) -> list[str]:
    """The ``xapian-tcpsrv`` command serving ``database``."""
    program = shutil.which("xapian-tcpsrv")
    if program is None:
        raise ServerError("xapian-tcpsrv is not installed: it comes with Xapian's tools "
                          "(on Debian and Ubuntu: apt-get install xapian-tools)")
    if not writable and not Path(database).exists():
        raise ServerError(f"{database} does not exist (a writable server creates its "
                          "database)")
    return [program, "--quiet", "--interface", interface, "--port", str(port),
            *(["--writable"] if writable else []), str(database)]


def serve(arguments: list[str]) -> int:
    """Run the server ``arguments`` until it exits or this process is sent SIGTERM or
    SIGINT, which stop it with its connections; its exit status (0 when stopped)."""
    # A run's changes to a writable shard are one transaction, which the server would
    # commit by itself every 10,000 changes: it keeps them until the run commits.
    environment = {"XAPIAN_FLUSH_THRESHOLD": FLUSH_THRESHOLD, **os.environ}
    process = subprocess.Popen(arguments, stdin=subprocess.DEVNULL, start_new_session=True,
                               preexec_fn=stop_with_parent, env=environment)
    stopped = False

    def stop(signum, frame):
        nonlocal stopped
        stopped = True
        signal_group(process.pid, signal.SIGTERM)

    handlers = {signum: signal.signal(signum, stop)
                for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        status = process.wait()
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        signal_group(process.pid, signal.SIGKILL)  # connections outliving the server
    return 0 if stopped else status


def stop_with_parent() -> None:
    """For a child process, before it runs its program (``preexec_fn``): be killed when
    the thread that started it ends, as when its process is killed (Linux only), so that
    no server outlives what started it."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def signal_group(pgid: int, signum: int) -> None:
    """Send ``signum`` to the process group ``pgid``, if it is still there."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass
