"""Real ``xapian-tcpsrv`` shard servers for tests, on free loopback ports.

    from shardservers import ShardServers

    with ShardServers() as servers:
        shard = servers.serve(path)             # or servers.serve(path, writable=True)
        xapian.remote_open(*shard.endpoint, 1000)
        shard.kill(); shard.restart()           # the same port again
        shard.hang(); shard.resume()

A server runs in a process group of its own, because it forks a child per connection:
killing, hanging and stopping act on the whole group. It is killed when the thread that
started it ends, so a test run that is itself killed leaves no server behind. A server
counts as started when it says it is listening (its output goes to a temporary file),
not when a probe connects, because a probe's connection would hold a writable
database's lock for a moment.
Without ``xapian-tcpsrv`` (Debian's ``xapian-tools``) the calling test is skipped.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from indexer.shards.server import stop_with_parent

HOST = "127.0.0.1"
START_TIMEOUT = 10.0


def tcpsrv() -> str:
    """The path of ``xapian-tcpsrv``; skips the calling test when it is not installed."""
    path = shutil.which("xapian-tcpsrv")
    if path is None:
        pytest.skip("xapian-tcpsrv is not installed (Debian's xapian-tools; tests/run "
                    "installs it)")
    return path


def free_port() -> int:
    """A loopback port free at the moment of asking."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _group_alive(pgid: int) -> bool:
    """True while a process of the group ``pgid`` is alive (zombies aside)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()  # state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


class ShardServer:
    """One ``xapian-tcpsrv`` serving the database directory ``path`` on loopback."""

    def __init__(self, path: Path | str, *, writable: bool = False, port: int = 0):
        self.path, self.writable, self.port = Path(path), writable, port
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def endpoint(self) -> tuple[str, int]:
        """``(host, port)``, as ``xapian.remote_open`` takes them."""
        return HOST, self.port

    @property
    def address(self) -> str:
        """``host:port``, as ``MORGUE_SHARDS`` lists it."""
        return f"{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> "ShardServer":
        """Start serving (on a free port the first time, on the same port after) and
        return once the server listens; RuntimeError with its output if it cannot."""
        command = tcpsrv()
        fixed = bool(self.port)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            self.port = self.port or free_port()
            output = self._spawn(command)
            if output is None:
                return self
            self.process = None
            self._log.close()
            if "already in use" not in output or time.monotonic() > deadline:
                raise RuntimeError(f"xapian-tcpsrv on {self.address} for {self.path} did "
                                   f"not start: {output.strip() or 'no output'}")
            if not fixed:
                self.port = 0  # another process took it: try another port
            time.sleep(0.1)

    def _spawn(self, command: str) -> str | None:
        """Run the server; None once it listens, else what it printed before exiting."""
        self._log = tempfile.TemporaryFile()
        args = [command, "--interface", HOST, "--port", str(self.port)]
        self.process = subprocess.Popen(
            args + (["--writable"] if self.writable else []) + [str(self.path)],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=stop_with_parent)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if b"Listening..." in os.pread(self._log.fileno(), 4096, 0):
                return None
            if self.process.poll() is not None:
                return os.pread(self._log.fileno(), 4096, 0).decode(errors="replace")
            time.sleep(0.01)
        self.kill()
        return f"no answer within {START_TIMEOUT:.0f} s"

    def _signal_group(self, signum: int) -> None:
        if self.running:
            os.killpg(self.process.pid, signum)

    def hang(self) -> None:
        """Freeze the server and its connections (SIGSTOP): clients time out."""
        self._signal_group(signal.SIGSTOP)

    def resume(self) -> None:
        """Undo :meth:`hang` (SIGCONT)."""
        self._signal_group(signal.SIGCONT)

    def kill(self) -> None:
        """Kill the server and its connections at once (SIGKILL), as a crash would."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        """Stop the server and its connections (SIGTERM, SIGKILL after 5 s)."""
        self._end(signal.SIGTERM)

    def _end(self, signum: int) -> None:
        if not self.running:
            return
        pgid = self.process.pid
        os.killpg(pgid, signum)
        os.killpg(pgid, signal.SIGCONT)  # a hung server acts on the signal
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.process.wait()
        deadline = time.monotonic() + 5
        while _group_alive(pgid) and time.monotonic() < deadline:  # the children too
            time.sleep(0.01)
        self._log.close()

    def restart(self) -> "ShardServer":
        """Stop the server if it runs and start it again on the same port."""
        self.stop()
        return self.start()


class ShardServers:
    """The shard servers of a test: ``with ShardServers() as servers:`` stops them all
    (and their connections) at the end, however the test ends."""

    def __init__(self):
        self.servers: list[ShardServer] = []

    def serve(self, path: Path | str, *, writable: bool = False) -> ShardServer:
        """A started server of ``path`` on a free loopback port."""
        server = ShardServer(path, writable=writable)
        self.servers.append(server)
        return server.start()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def __enter__(self) -> "ShardServers":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
