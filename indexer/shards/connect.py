"""Opening the archive's shards to search them as one, leaving out those that fail.

A :class:`ShardSet` reads the shards of the live generation of an index directory
(``shard-0`` ... of its ``morgue.json``), or the remote shards of the settings
(``host:port``, each served by ``xapian-tcpsrv``), as one combined ``xapian.Database``.
Xapian 1.4 fails a combined search as a whole when one shard fails, and leaves the other
shards' connections unusable; so on a failure every connection is dropped, the shards
are reopened in parallel, those that fail are left out (named, with the reason), and the
search runs again. A shard that failed stays out for ``retry_after`` seconds, so that a
hung one costs its timeout once, not on every search. A shard server opens its database
per connection, so remote shards are connected to anew every ``reconnect_after`` seconds
to see a generation swapped in on the shard's host (and before the server closes an
idle connection, after 60 s by default).

Xapian's objects are not thread-safe: a ShardSet belongs to one thread.
"""

from __future__ import annotations

import itertools
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, TypeVar

import xapian

from ..settings import BackendError, Settings
from ..store import VERSION, IndexMissing, live_generation
from .layout import META_SHARD, META_SHARDS

RETRY_AFTER = 30.0  # seconds a failed shard is left out before it is tried again
RECONNECT_AFTER = 10.0  # seconds before remote shards are connected to anew
ATTEMPTS = 3  # runs of a search function, the first included
WRITE_TIMEOUT = 60.0  # seconds a writer waits for a remote shard (a commit can be long)

T = TypeVar("T")


class ShardsUnavailable(BackendError):
    """No shard could be read (or written): the message names each and why."""


def _reason(error: xapian.Error, timeout: float) -> str:
    """Why a shard failed, in a few words: "connection refused", "timed out after 1 s"."""
    if isinstance(error, xapian.NetworkTimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(error, xapian.DatabaseNotFoundError):
        return "no database"
    if isinstance(error, xapian.DatabaseLockError):
        return "locked by another writer"
    if isinstance(error, xapian.NetworkError):
        detail = error.get_error_string().decode("utf-8", "replace")
        return (detail or error.get_msg()).lower()
    return f"{type(error).__name__}: {error.get_msg()}"


def shard_count(generation: Path) -> int:
    """The number of shards of a generation: its ``morgue.json`` says, or else its
    ``shard-*`` directories are counted."""
    try:
        count = json.loads((generation / VERSION).read_text("utf-8")).get("shards")
    except (OSError, ValueError, AttributeError):
        count = None
    if isinstance(count, int) and count > 0:
        return count
    return sum(1 for path in generation.glob("shard-*") if path.is_dir())


def open_writable(host: str, port: int, *, timeout: float = WRITE_TIMEOUT,
                  tries: int = 3, backoff: float = 0.5) -> xapian.WritableDatabase:
    """The remote shard at ``host:port`` (``xapian-tcpsrv --writable``), opened for
    writing; ``tries`` attempts, ``backoff``, twice that, ... seconds apart, then
    ShardsUnavailable naming the shard and the last reason."""
    milliseconds = round(timeout * 1000)
    for attempt in range(tries):
        try:
            return xapian.remote_open_writable(host, port, milliseconds, milliseconds)
        except (xapian.NetworkError, xapian.DatabaseLockError) as error:
            reason = _reason(error, timeout)
            if attempt + 1 < tries:
                time.sleep(backoff * 2 ** attempt)
    raise ShardsUnavailable(f"shard {host}:{port} cannot be written: {reason} "
                            f"({tries} tr{'ies' if tries != 1 else 'y'})")


class ShardSet:
    """The shards of ``index_dir`` (local) or of ``settings.shards`` (remote), searched
    as one database; a shard waits up to ``settings.shard_timeout`` seconds for a
    reply."""

    def __init__(self, index_dir: Path, settings: Settings, *,
                 retry_after: float = RETRY_AFTER, attempts: int = ATTEMPTS,
                 reconnect_after: float = RECONNECT_AFTER):
        self.index_dir, self.settings = Path(index_dir), settings
        self.timeout = settings.shard_timeout
        self.retry_after, self.attempts = retry_after, attempts
        self.reconnect_after = reconnect_after
        self._connected = 0.0  # when the first of the open shards was opened
        self._listed = False
        self._generation: Path | None = None  # the live generation of the list below
        self._openers: dict[str, Callable[[], xapian.Database]] = {}
        self._open: dict[str, xapian.Database] = {}
        self._down: dict[str, tuple[float, str]] = {}  # name -> (when it failed, why)
        self._db: xapian.Database | None = None
        self._list()

    @property
    def names(self) -> list[str]:
        """The shards' names, in order: ``shard-0`` ... (of the live generation) or
        ``host:port``."""
        self._list()
        return list(self._openers)

    @property
    def missing(self) -> dict[str, str]:
        """Each shard left out of the searches, and why."""
        return {name: why for name, (_, why) in self._down.items()}

    def version(self) -> tuple:
        """What is read, as a hashable value, equal in every ShardSet reading the same:
        the live generation, and the revision of each shard read (for a remote shard,
        its uuid, number of documents, last document id and total length: a commit
        that changes none of them, such as an edit of one word for another, goes
        unseen). Reopens the shards first; a round trip per remote shard."""
        self._list()
        if self.settings.remote and time.monotonic() - self._connected > self.reconnect_after:
            self.close()
        if self._db is not None:
            try:
                self._db.reopen()
            except (xapian.NetworkError, xapian.DatabaseError) as error:
                self._reset(error)
        self._connect()
        try:
            return str(self._generation), tuple(
                (name, self._revision(self._open[name])) for name in self._openers
                if name in self._open)
        except xapian.Error as error:  # lost since the reopen: the search will say
            self._reset(error)
            return str(self._generation), ()

    def _revision(self, shard: xapian.Database):
        if self.settings.remote:
            return (shard.get_uuid(), shard.get_doccount(), shard.get_lastdocid(),
                    shard.get_total_length())
        return shard.get_revision()

    def run(self, function: Callable[[xapian.Database], T]) -> tuple[T, dict[str, str]]:
        """``function(db)`` over the reachable shards combined, and the shards left out
        (name: reason). Everything that reads a shard (matching, documents, terms)
        belongs in ``function``: it is run again without a shard that fails during it,
        at most ``attempts`` times, none started later than twice the timeout after
        the first. ShardsUnavailable when no shard answers; IndexMissing when there
        is no local index."""
        give_up = time.monotonic() + 2 * self.timeout
        self._list()
        if not self._openers:
            raise IndexMissing(f"no index in {self.index_dir}: build one with "
                               "`morgue index`")
        for attempt in itertools.count(1):
            db = self._connect()
            if db is None:
                raise ShardsUnavailable(f"no archive shard answered ({self._reasons()})")
            try:
                return function(db), self.missing
            except xapian.DatabaseModifiedError as error:
                failure = error  # a local shard committed twice under the search
                self._reopen()
            except (xapian.NetworkError, xapian.DatabaseError) as error:
                failure = error
                self._reset(error)
            if attempt >= self.attempts or time.monotonic() > give_up:
                raise ShardsUnavailable(
                    f"the search failed {attempt} time{'s' if attempt > 1 else ''}, last: "
                    f"{_reason(failure, self.timeout)}"
                    + (f"; left out: {self._reasons()}" if self._down else ""))

    def close(self) -> None:
        """Close every connection (a later search opens them again)."""
        for shard in self._open.values():
            try:
                shard.close()
            except xapian.Error:
                pass
        self._open.clear()
        self._db = None

    # -- what the shards are ---------------------------------------------------------

    def _list(self) -> None:
        """List the shards of the live generation, anew when it changed."""
        generation = live_generation(self.index_dir)
        if self._listed and generation == self._generation:
            return
        if self.settings.remote:
            openers = {f"{host}:{port}": self._remote(host, port)
                       for host, port in self.settings.shards}
        elif generation is None:
            openers = {}
        else:  # the generation's own directory: reopen() through the swapped link of
            # "current" would mix the old generation's tables with the new one's
            openers = {f"shard-{k}": self._local(generation / f"shard-{k}")
                       for k in range(shard_count(generation))}
        self.close()
        if generation != self._generation:
            self._down.clear()
        self._listed, self._generation, self._openers = True, generation, openers

    def _remote(self, host: str, port: int) -> Callable[[], xapian.Database]:
        milliseconds = round(self.timeout * 1000)
        return lambda: xapian.remote_open(host, port, milliseconds, milliseconds)

    @staticmethod
    def _local(path: Path) -> Callable[[], xapian.Database]:
        return lambda: xapian.Database(str(path))

    # -- connections -----------------------------------------------------------------

    def _connect(self) -> xapian.Database | None:
        """The combined database of the open shards, after opening (in parallel) those
        not open whose time out is over; None when none is open."""
        self._list()
        now = time.monotonic()
        wanted = [name for name in self._openers if name not in self._open and
                  (name not in self._down or now - self._down[name][0] >= self.retry_after)]
        if wanted:
            with ThreadPoolExecutor(len(wanted)) as pool:
                opened = list(pool.map(self._try_open, wanted))
            if not self._open:
                self._connected = time.monotonic()
            for name, (shard, why) in zip(wanted, opened):
                if shard is None:
                    self._down[name] = (time.monotonic(), why)
                else:
                    self._open[name] = shard
                    self._down.pop(name, None)
                    self._db = None
        if self._db is None and self._open:
            self._db = xapian.Database()
            for name in self._openers:  # in order, so that document ids are stable
                if name in self._open:
                    self._db.add_database(self._open[name])
        return self._db

    def _try_open(self, name: str) -> tuple[xapian.Database | None, str]:
        try:
            shard = self._openers[name]()
            wrong = self._misplaced(name, shard)
        except xapian.Error as error:
            return None, _reason(error, self.timeout)
        if wrong:
            shard.close()
        return (None, wrong) if wrong else (shard, "")

    def _misplaced(self, name: str, shard: xapian.Database) -> str:
        """Why the shard opened as ``name`` is not the one its place in the list wants
        (a server listed in the wrong order, or a list of too few or too many), or ""."""
        number, count = (shard.get_metadata(key).decode() for key in (META_SHARD, META_SHARDS))
        place, listed = list(self._openers).index(name), len(self._openers)
        if not number or (number, count) == (str(place), str(listed)):
            return ""  # written as this shard, or not yet written at all
        return f"holds shard {number} of {count}, not shard {place} of {listed}"

    def _reset(self, error: xapian.Error) -> None:
        """Drop every connection after ``error``; a shard it names as timed out is left
        out at once (reopening it would cost another timeout)."""
        self.close()
        if isinstance(error, xapian.NetworkTimeoutError):
            context = error.get_context()
            for name in self._openers:
                if context.endswith(f"({name})"):
                    self._down[name] = (time.monotonic(), _reason(error, self.timeout))
        elif isinstance(error, xapian.DatabaseError):
            self._listed = False  # a generation replaced under the search: list anew

    def _reopen(self) -> None:
        try:
            self._db.reopen()
        except xapian.Error as error:
            self._reset(error)

    def _reasons(self) -> str:
        return "; ".join(f"{name} {why}" for name, why in self.missing.items())
