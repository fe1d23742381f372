"""Load test: many clients searching the web app at once, normal and abusive queries mixed.

    python -m bench.load [--index DIR] [--clients 16] [--seconds 60] [--max-requests N]

Starts ``morgue serve`` on a free loopback port over ``--index`` (or over an index it
builds of the sample archive and Reuters-21578 stories), times each request of the mix
(NORMAL and ABUSIVE queries and arguments, to the search page ``/`` and ``/api/search``)
alone, then sends the mix from ``--clients`` threads for ``--seconds`` (or until
``--max-requests``), and prints the status counts, requests per second and latency
percentiles, normal and abusive queries apart. Exits 1 on any 5xx or failed request.
:func:`run_load` is the load generator, for other benchmarks.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench import corpora
from bench.corpora import write_jsonl

ROOT = Path(__file__).resolve().parents[1]

NORMAL = ["oil prices", "cocoa", "japan security pact", '"interest rates"', "grain exports",
          "crude oil OR gasoline", "dollar -yen", "title:coffee", "bank~ rates",
          "date:1987-03 wheat", "tag:acq", "opec"]
# Leading wildcards, *, a 10,000-character query, 2,000 ORed words, deep parentheses,
# fuzzy words with huge expansions, word ranges that read the whole word list, absurd
# boosts and slops, operators alone, control characters and text of other attacks.
ABUSIVE = [
    "*", "?", "*a*", "*e", '*"[ANDNOTORNOT}', "?*?*?* OR *e* OR *a*", "title:*", "*:*",
    "a" * 10_000, "oil " * 400, " OR ".join(f"w{n}" for n in range(2000)),
    "(" * 500 + "oil" + ")" * 500, "(oil " * 333, "(a OR (b AND (c " * 70,
    "-(" * 300 + "oil", "title:(" * 140 + "oil", "NOT " * 250, '"a" ' * 250,
    "e~2 a~2 o~2", "ab~2 OR ba~2 OR st~2", "oil~2^3 " * 100, "oil~99", "oil~-1",
    "[a TO z]", "title:[a TO z] OR body:[0 TO 9]", "[a TO b] " * 100, "*zzq", "*q*z*",
    "a* b* c* d* e* f*", "oil^1000000", "oil^-1", "oil^nan", '"oil prices"~999999',
    "date:[0001 TO 9999]", "date:>9999", "date:[* TO *]", '"' * 99, "NOT NOT NOT",
    "AND OR NOT ( ) \" : * ~", "-*", "-oil", "NOT oil", "title:title:oil", "~", "^", ":",
    "title:", "(", ")", '""', "AND", "oil OR", "\n\t\r", "\x00oil\x00", "\u202eoil",
    "\U0001f6e2 oil", "oil" + "\u0301" * 500, "' OR 1=1 --", "<script>alert(1)</script>",
    "{{7*7}}", "%s%n%x",
]
# Arguments of their own that abuse the page and the API (some are 400s in the API).
ABUSIVE_ARGS = ["q=oil&page=1000000000", "q=oil&size=-5", "q=oil&size=1000000000000",
                "q=oil&frobnicate=1", "q=%ff%fe%fd", "q=oil%00prices", "sort=sideways&q=oil",
                "q=oil&page=abc"]


def mix() -> list[tuple[str, str]]:
    """(label, path) of each request of the mix: every query on the page and the API."""
    searches = [("normal", urllib.parse.urlencode(dict(q=q, **extra)))
                for q in NORMAL for extra in ({}, {"sort": "newest"}, {"page": "2"})]
    searches += [("abusive", urllib.parse.urlencode({"q": q})) for q in ABUSIVE]
    searches += [("abusive", args) for args in ABUSIVE_ARGS]
    return [(label, f"{path}?{args}") for label, args in searches
            for path in ("/", "/api/search")]


@dataclass
class LoadStats:
    """What a load run measured: statuses, failed requests, latencies (s) by label."""

    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)  # requests with no response
    latencies: dict[str, list[float]] = field(default_factory=dict)
    slowest: tuple[float, str] = (0.0, "")

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.failures.values())

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def percentiles(self, label: str | None = None) -> dict[str, float]:
        """p50, p95, p99 and max latency in ms, of one label or of all."""
        times = sorted(t for name, found in self.latencies.items()
                       if label in (None, name) for t in found)
        if not times:
            return {}
        cuts = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 \
            else times * 99
        return {"p50": cuts[49] * 1000, "p95": cuts[94] * 1000, "p99": cuts[98] * 1000,
                "max": times[-1] * 1000}

    def report(self) -> str:
        lines = [f"{self.requests} requests in {self.seconds:.1f} s "
                 f"({self.requests / max(self.seconds, 1e-9):.1f}/s); statuses "
                 + ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))]
        if self.failures:
            lines.append("failed: " + ", ".join(f"{k}: {n}" for k, n in self.failures.items()))
        for label in [None, *sorted(self.latencies)]:
            figures = self.percentiles(label)
            lines.append(f"latency {label or 'all':8} " + "  ".join(
                f"{name} {ms:7.1f} ms" for name, ms in figures.items()))
        lines.append(f"slowest: {self.slowest[0] * 1000:.0f} ms for {self.slowest[1][:100]}")
        lines.append(f"5xx responses: {self.server_errors}"
                     + (" (none)" if not self.server_errors else ""))
        return "\n".join(lines)


def _loopback(base_url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(base_url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "http" or not loopback:
        raise ValueError(f"the load test only runs against http on loopback, not {base_url}")
    return host, parts.port or 80


def run_load(base_url: str, paths, clients: int = 16, seconds: float = 60.0,
             max_requests: int = 100_000, timeout: float = 30.0) -> LoadStats:
    """Send GET requests for ``paths`` (strings, or (label, path) pairs) to ``base_url``
    (loopback only) from ``clients`` threads, each over a kept-alive connection and
    starting at another place in the list, until ``seconds`` have passed or
    ``max_requests`` were sent."""
    host, port = _loopback(base_url)
    labelled = [p if isinstance(p, tuple) else ("all", p) for p in paths]
    stats, lock = LoadStats(), threading.Lock()
    sent = [0]
    started = time.perf_counter()
    deadline = started + seconds

    def client(offset: int):
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        position = offset
        while time.perf_counter() < deadline:
            with lock:
                if sent[0] >= max_requests:
                    break
                sent[0] += 1
            label, path = labelled[position % len(labelled)]
            position += 1
            begun = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                status, failure = response.status, None
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                status, failure = None, type(error).__name__
                connection.close()
            took = time.perf_counter() - begun
            with lock:
                if failure:
                    stats.failures[failure] += 1
                else:
                    stats.statuses[status] += 1
                    stats.latencies.setdefault(label, []).append(took)
                if took > stats.slowest[0]:
                    stats.slowest = (took, path)
        connection.close()

    step = max(len(labelled) // clients, 1)
    threads = [threading.Thread(target=client, args=(n * step,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats.seconds = time.perf_counter() - started
    return stats


def probe(base_url: str, paths) -> LoadStats:
    """Each of ``paths`` requested once, alone: what each costs without contention."""
    return run_load(base_url, paths, clients=1, seconds=3600, max_requests=len(paths))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_listening(process: subprocess.Popen, port: int, seconds: float = 60,
                         name: str = "morgue serve") -> None:
    """Return once the server ``process`` (``name``) listens on the loopback ``port``;
    kill it and raise RuntimeError if it stops or does not listen within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{name} stopped: {process.stderr.read()}") from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{name} did not listen within {seconds:g} s")


class Server:
    """``morgue serve`` on a free loopback port, for a ``with`` block: ``workers``
    processes of ``threads`` threads (None: morgue's defaults), with ``environment``
    added to this process's (the backend's settings, for example)."""

    def __init__(self, index_dir: Path, threads: int | None = None, workers: int | None = None,
                 environment: dict[str, str] | None = None):
        self.index_dir, self.threads, self.workers = index_dir, threads, workers
        self.environment = {**os.environ, **(environment or {})}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Server":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "indexer.cli", "serve", "--index", str(self.index_dir),
             "--port", str(self.port),
             *(["--threads", str(self.threads)] if self.threads else []),
             *(["--workers", str(self.workers)] if self.workers else [])],
            cwd=ROOT, env=self.environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True)
        wait_until_listening(self.process, self.port)
        return self

    def __exit__(self, *exc_info):
        # SIGTERM: gunicorn finishes the requests under way, and kills what is still
        # running after its graceful timeout (30 s), so this waits a little longer.
        self.process.terminate()
        self.process.wait(timeout=45)


class ShardServers:
    """Each of the ``count`` shards of the sharded index in ``index_dir`` served by its
    own ``xapian-tcpsrv`` on a free loopback port (the command ``morgue shard-server
    --shard K`` runs), for a ``with`` block that stops them all, and the process each
    forks per connection (a process group per server), however the block ends (a
    server is killed with the thread that started it, should that thread be killed)."""

    def __init__(self, index_dir: Path, count: int):
        self.index_dir, self.count = Path(index_dir), count
        self.processes: list[subprocess.Popen] = []
        self.endpoints: list[tuple[str, int]] = []

    @property
    def settings(self):
        """The settings that search these shards (``settings.environment()`` for
        ``morgue serve``)."""
        from indexer.settings import Settings

        return Settings("xapian", tuple(self.endpoints))

    @property
    def pids(self) -> list[int]:
        """The servers' process ids (of their groups' leaders)."""
        return [process.pid for process in self.processes]

    def __enter__(self) -> "ShardServers":
        from indexer.shards.server import command, shard_directory, stop_with_parent

        try:
            for shard in range(self.count):
                port = free_port()
                self.processes.append(subprocess.Popen(
                    command(shard_directory(self.index_dir, shard), port, "127.0.0.1", False),
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE, text=True, start_new_session=True,
                    preexec_fn=stop_with_parent))
                self.endpoints.append(("127.0.0.1", port))
                wait_until_listening(self.processes[-1], port, name="xapian-tcpsrv")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info):
        from indexer.shards.server import signal_group

        for process in self.processes:
            signal_group(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            signal_group(process.pid, signal.SIGKILL)  # connections still answering
            process.wait()


class CpuTime:
    """The CPU time (s, ``seconds``) the processes ``pids`` and their descendants take
    during a ``with`` block, each sampled every ``interval`` s from a thread: a process
    that ends loses its last interval, as the time of a child its parent does not wait
    for (xapian-tcpsrv's connections) is nowhere else."""

    def __init__(self, pids, interval: float = 0.2):
        self.pids, self.interval = list(pids), interval
        self.seconds = 0.0
        self._start: dict[tuple, float] = {}  # (pid, created) -> CPU time when first seen
        self._last: dict[tuple, float] = {}
        self._stop = threading.Event()

    def _sample(self, first: bool = False) -> None:
        import psutil

        for pid in self.pids:
            try:
                root = psutil.Process(pid)
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for process in tree:
                try:
                    key, times = (process.pid, process.create_time()), process.cpu_times()
                except psutil.Error:
                    continue
                self._start.setdefault(key, times.user + times.system if first else 0.0)
                self._last[key] = times.user + times.system

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> "CpuTime":
        self._sample(first=True)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()
        self._sample()
        self.seconds = sum(self._last[key] - self._start[key] for key in self._last)


def build_index(directory: Path, stories: int) -> Path:
    """An index of the sample archive and the first ``stories`` Reuters-21578 stories."""
    from indexer.writing import index_paths

    sources = [ROOT / "data"]
    if corpora.REUTERS.exists() and stories:
        sources.append(write_jsonl(directory / "reuters.jsonl", corpora.reuters(stories)))
    index_paths(sources, directory / "index")
    return directory / "index"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, help="serve this index (default: build one)")
    parser.add_argument("--stories", type=int, default=5000,
                        help="Reuters stories in the index built when --index is not given")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--workers", type=int, help="server processes (default: morgue's)")
    parser.add_argument("--threads", type=int, help="threads per server process "
                                                    "(default: morgue's)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="morgue-load-") as scratch:
        index_dir = args.index
        if index_dir is None:
            print(f"building an index of {args.stories} Reuters stories...", flush=True)
            index_dir = build_index(Path(scratch), args.stories)
        with Server(index_dir, args.threads, args.workers) as server:
            paths = mix()
            alone = probe(server.url, paths)
            print(f"each of {len(paths)} requests alone: slowest "
                  f"{alone.slowest[0] * 1000:.0f} ms for {alone.slowest[1][:100]}; "
                  + ", ".join(f"{label} max {alone.percentiles(label)['max']:.0f} ms"
                              for label in sorted(alone.latencies)), flush=True)
            print(f"{args.clients} clients, {len(paths)} distinct requests, "
                  f"{args.seconds:g} s against {server.url}", flush=True)
            stats = run_load(server.url, paths, args.clients, args.seconds, args.max_requests)
    print(stats.report())
    failed = stats.server_errors or stats.failures or alone.server_errors or alone.failures
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
