"""Indexing into Xapian shards: the store an indexing run writes through when
``MORGUE_BACKEND=xapian`` (see :class:`indexer.writing.WhooshStore` for the interface).

Reading, cleaning, the comparison with what is indexed and near-duplicate clusters are
:mod:`indexer.writing`'s, whatever the backend. Each article goes to the shard
:func:`~indexer.shards.layout.shard_of` names. A generation directory holds
``morgue.json`` (``schema_version``, ``backend: "xapian"``, ``shards``: the count, and
``endpoints`` for remote shards), ``sources.json`` and ``records.json`` (see
:func:`indexer.store.read_sources`), the catalog and, for local shards, the databases
``shard-0`` ... ``shard-{n-1}``.

The catalog (``catalog.sqlite``, SQLite) holds what a run compares with: each article's
id, shard, content hash, path, cluster and near-duplicate signature, so that a run reads
no document back from the shards (a network round trip each for remote ones). Each
shard's changes of a run are one transaction, committed at the end (a reader sees the
shard before the run or after it: Xapian's own commits every 10,000 changes wait for the
transaction's end), then the catalog, then ``sources.json`` and ``records.json``. A run
killed between the shards' commits and the catalog's leaves shards ahead of the catalog:
the next run with the same paths finds the same differences and applies them again,
which changes nothing more, as ``replace_document`` and ``delete_document`` by id term
are idempotent; and each run first makes the catalog agree with the ids the shards hold
(see :meth:`ShardStore._reconcile`), so that a next run of other paths loses nothing
either.

A rebuild, or a first build, writes a new generation swapped in whole by
:class:`~indexer.store.WriteSession`. Local shards are new databases in it; remote shards
(``MORGUE_SHARDS``) cannot be swapped, so each is rewritten in one transaction (what the
new build lacks is deleted, the rest replaced), and its readers see the old archive or
the new one. A remote shard whose connection fails is reconnected and sent its
uncommitted changes again, a few times, before the run stops with a
:class:`~indexer.shards.connect.ShardsUnavailable` (a :class:`ShardError` once it was
connected) naming it; what other shards committed stays. A shard server, though, applies
a transaction's changes on its own after ``XAPIAN_FLUSH_THRESHOLD`` changes (10,000
unless set in the server's environment): serve shards with a threshold above a run's
changes to a shard.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import xapian

from ..duplicates import Signed
from ..schema import SCHEMA_VERSION
from ..settings import SHARD_COUNT, Settings
from ..store import RECORDS, WriteSession, WrongBackend, generation_meta, read_sources
from ..writing import _here, spooled, stored_article
from .connect import ShardsUnavailable, open_writable
from .layout import (META_SCHEMA, META_SHARD, META_SHARDS, PREFIXES, document, shard_of,
                     stored, term)

CATALOG = "catalog.sqlite"
RETRIES = 3  # tries of a remote shard (to connect, or to resend after a lost connection)
BACKOFF = 0.25  # seconds before the second try, doubled before each next one


class ShardError(ShardsUnavailable):
    """A shard cannot be written: its connection lost and not regained, written by
    another writer, or not the database it should be. The message names the shard, in
    one line."""


def shard_dir(generation: Path, number: int) -> Path:
    """The directory of local shard ``number`` of ``generation``."""
    return generation / f"shard-{number}"


def open_catalog(generation: Path) -> sqlite3.Connection:
    """The catalog of ``generation``: table ``articles`` (id, shard, content_hash, path,
    cluster, signature), created empty when missing. Changes are committed explicitly."""
    catalog = sqlite3.connect(generation / CATALOG, isolation_level=None)
    catalog.execute("CREATE TABLE IF NOT EXISTS articles (id TEXT PRIMARY KEY, "
                    "shard INTEGER, content_hash TEXT, path TEXT, cluster TEXT, "
                    "signature BLOB)")
    return catalog


def _documents(spool: str, clusters: list[str | None], shards: int) -> list[tuple]:
    """The articles of ``spool`` to write (see :func:`indexer.writing.spooled`), as
    (shard, id term, serialised xapian.Document, catalog row) each."""
    written = []
    for article, values, _, cluster, _ in spooled(spool, clusters):
        shard = shard_of(article.id, shards)
        written.append((shard, term("id", article.id), document(article, cluster).serialise(),
                        (article.id, shard, article.content_hash, article.path, cluster,
                         values.tobytes() if values is not None else b"")))
    return written


class _Shard:
    """One shard a run writes: a local database, or one served at ``endpoint``.

    Its changes are kept in a log (``log``, a file) until committed, for a remote
    shard, so that they can be sent again after a lost connection."""

    def __init__(self, number: int, count: int, path: Path | None = None,
                 endpoint: tuple[str, int] | None = None, log: str | None = None):
        self.number, self.count, self.path, self.endpoint = number, count, path, endpoint
        self.name = (f"shard {number} at {endpoint[0]}:{endpoint[1]}" if endpoint
                     else f"shard {number} ({path})")
        self.db: xapian.WritableDatabase | None = None
        self.log_path = log
        self.log = None
        self.stale: set[str] = set()  # id terms to delete before committing (a rebuild's)

    def _open(self) -> xapian.WritableDatabase:
        if self.endpoint is None:
            try:
                return xapian.WritableDatabase(str(self.path), xapian.DB_CREATE_OR_OPEN)
            except xapian.DatabaseLockError:
                raise ShardError(f"{self.name} is being written by another writer; "
                                 "wait for it to finish") from None
        return open_writable(*self.endpoint, tries=RETRIES, backoff=BACKOFF)

    def _drop(self) -> None:
        if self.db is not None:
            try:
                self.db.close()
            except xapian.Error:
                pass
            self.db = None

    def call(self, action, replay: bool = False):
        """``action(db)``; a remote shard whose connection is lost is reconnected (and,
        with ``replay``, sent its logged changes again) up to RETRIES times."""
        for attempt in range(RETRIES):
            try:
                if self.db is None:
                    self.db = self._open()
                    if replay:
                        self._replay()
                return action(self.db)
            except xapian.NetworkError as error:
                self._drop()
                if self.endpoint is None or attempt == RETRIES - 1:
                    raise ShardError(f"{self.name} failed {attempt + 1} times, last: "
                                     f"{error.get_msg()}") from None
                time.sleep(BACKOFF * 2 ** attempt)

    def check(self, rebuild: bool) -> None:
        """ShardError unless the database is empty or says it is this shard (of this
        count, and of this schema unless this is a ``rebuild``)."""
        def meta(db):
            return (db.get_doccount(), *(db.get_metadata(key).decode() for key in
                                         (META_SHARD, META_SHARDS, META_SCHEMA)))
        docs, number, count, schema = self.call(meta)
        if not docs and not number:
            return
        expected = (str(self.number), str(self.count))
        if (number, count) != expected or (schema != str(SCHEMA_VERSION) and not rebuild):
            said = (f"shard {number} of {count or '?'} (schema {schema or '?'})" if number
                    else "no morgue shard")
            raise ShardError(f"{self.name} holds {said}, not shard {self.number} of "
                             f"{self.count} (schema {SCHEMA_VERSION}): serve the right "
                             "database, or an empty one and rebuild")

    def begin(self, deletions: list[str], new: bool) -> None:
        """Start the run's transaction with ``deletions`` (id terms); a ``new``
        generation's shard is to hold only what the run writes."""
        self._drop()  # a connection opened before may have been idle too long
        if self.endpoint is not None:
            self.log = open(self.log_path, "wb")
        if new:
            self.stale = self.call(lambda db: {item.term.decode() for item in
                                               db.allterms(PREFIXES["id"])})
        self.call(lambda db: db.begin_transaction())
        for id_term in deletions:
            self.delete(id_term)

    def _replay(self) -> None:
        """Begin the transaction again and send what the log holds."""
        self.db.begin_transaction()
        self.log.flush()
        with open(self.log_path, "rb") as log:
            while True:
                try:
                    id_term, data = pickle.load(log)
                except EOFError:
                    break
                if data is None:
                    self.db.delete_document(id_term)
                else:
                    self.db.replace_document(id_term, xapian.Document.unserialise(data))

    def _logged(self, id_term: str, data: bytes | None) -> None:
        if self.log is not None:
            pickle.dump((id_term, data), self.log, pickle.HIGHEST_PROTOCOL)

    def delete(self, id_term: str) -> None:
        self._logged(id_term, None)
        self.call(lambda db: db.delete_document(id_term), replay=True)

    def replace(self, id_term: str, data: bytes) -> None:
        self.stale.discard(id_term)
        self._logged(id_term, data)
        doc = xapian.Document.unserialise(data)
        self.call(lambda db: db.replace_document(id_term, doc), replay=True)

    def commit(self) -> int:
        """Delete what is stale, record which shard this is, commit; its articles."""
        for id_term in sorted(self.stale):
            self.delete(id_term)

        def commit(db):
            for key, value in ((META_SHARD, self.number), (META_SHARDS, self.count),
                               (META_SCHEMA, SCHEMA_VERSION)):
                if db.get_metadata(key).decode() != str(value):  # else no new revision
                    db.set_metadata(key, str(value))
            db.commit_transaction()
            return db.get_doccount()
        return self.call(commit, replay=True)

    def close(self) -> None:
        """Close, cancelling what was not committed."""
        self._drop()
        if self.log is not None:
            self.log.close()
            self.log = None


class ShardStore:
    """The shards a run writes into, and the catalog of what they hold (see the
    module's docstring); the interface is :class:`indexer.writing.WhooshStore`'s."""

    def __init__(self, session: WriteSession, rebuild: bool, configured: Settings):
        live = session.live_dir("xapian", rebuild)
        meta = generation_meta(live)
        endpoints = [f"{host}:{port}" for host, port in configured.shards]
        if live is not None and not rebuild and (
                bool(endpoints) != bool(meta.get("endpoints"))
                or endpoints and len(endpoints) != meta["shards"]):
            where = (f"{meta['shards']} shards at {', '.join(meta['endpoints'])}"
                     if meta.get("endpoints") else f"{meta['shards']} local shards")
            raise WrongBackend(f"the index in {session.index_dir} was built on {where}: "
                               "rebuild it with `morgue index --rebuild`")
        self.live = live
        self.live_count = meta.get("shards", 0) if live is not None else 0
        self.rebuild = live is not None and rebuild
        self.first = live is None
        # A rebuild may change the count of local shards; a run into the live index
        # keeps it.
        count = (len(endpoints) if endpoints else
                 configured.shard_count if configured.shard_count and (self.rebuild or
                                                                       self.first)
                 else meta["shards"] if live is not None and meta.get("shards")
                 else SHARD_COUNT)
        self.generation = (session.new_generation_dir(
            "xapian", shards=count, **({"endpoints": endpoints} if endpoints else {}))
            if self.rebuild or self.first else live)
        self.old_sources = read_sources(live) if live is not None else {}
        self.old_records = read_sources(live, RECORDS) if live is not None else {}
        self.spool_folder = tempfile.mkdtemp(prefix="spool-", suffix=".tmp",
                                             dir=session.index_dir)
        self.shards = [
            _Shard(n, count, endpoint=configured.shards[n],
                   log=os.path.join(self.spool_folder, f"shard-{n}.log")) if endpoints
            else _Shard(n, count, path=shard_dir(self.generation, n)) for n in range(count)]
        self.deletions: list[list[str]] = [[] for _ in range(count)]
        self.deleted: list[str] = []
        self._readers: dict[int, xapian.Database] = {}
        self.live_catalog = self.catalog = None
        try:
            for shard in self.shards:
                shard.check(self.rebuild or self.first)
            self.live_catalog = open_catalog(live) if live is not None else None
            self.catalog = (open_catalog(self.generation) if self.rebuild or self.first
                            else self.live_catalog)
            self.missing: set[str] = set()
            if live is not None:
                self._reconcile()
        except BaseException:
            self.cancel()
            self.close()
            raise

    def _read_live(self, number: int, action):
        """``action(db)`` on live shard ``number`` (of ``live_count``, which a rebuild
        of local shards may change)."""
        shard = self.shards[number]
        if shard.endpoint is not None:
            return shard.call(action)
        if number not in self._readers:
            self._readers[number] = xapian.Database(str(shard_dir(self.live, number)))
        return action(self._readers[number])

    def _reconcile(self) -> None:
        """Make what the run compares with agree with what the live shards hold, which
        a run killed between the shards' commits and the catalog's leaves ahead of the
        catalog (and an interrupted rebuild of remote shards, of other paths than the
        next run's): an article the catalog lists and its shard lacks counts as not
        indexed and its file is read again; one a shard holds and the catalog lacks is
        deleted (written again if its file is read: its record of the file is older)."""
        listed: dict[str, tuple[str, str]] = {}  # id term -> (id, path)
        for doc_id, path in self.live_catalog.execute("SELECT id, path FROM articles"):
            listed[term("id", doc_id)] = (doc_id, path)
        held = [self._read_live(number, lambda db: {
            item.term.decode() for item in db.allterms(PREFIXES["id"])})
            for number in range(self.live_count)]
        if not self.rebuild:  # a rebuild's new shards hold only what it writes
            for deletions, terms in zip(self.deletions, held):
                deletions.extend(terms - listed.keys())
        for id_term in listed.keys() - set().union(*held):
            doc_id, path = listed[id_term]
            self.missing.add(doc_id)
            self.old_sources.pop(path, None)
            self.deleted.append(doc_id)

    def indexed(self) -> list:
        rows = [] if self.live_catalog is None else [row for row in self.live_catalog.execute(
            "SELECT id, content_hash, path, cluster, signature FROM articles ORDER BY rowid")
            if row[0] not in self.missing]
        *columns, signatures = [list(column) for column in zip(*rows)] or [[] for _ in range(5)]
        return [*columns, Signed.of(signatures)]

    def article(self, doc_id: str):
        id_term = term("id", doc_id)

        def read(db):
            for posting in db.postlist(id_term):
                return stored_article(stored(db.get_document(posting.docid)))
        return self._read_live(shard_of(doc_id, self.live_count), read)

    def delete(self, doc_id: str) -> None:
        self.deletions[shard_of(doc_id, len(self.shards))].append(term("id", doc_id))
        self.deleted.append(doc_id)

    def write(self, spools, in_order=_here, jobs: int = 1) -> None:
        """Send the deletions and the spooled articles (analysed by ``in_order``'s
        workers) to their shards, each in one transaction, commit the shards, then the
        catalog."""
        new = self.rebuild or self.first
        catalog = self.catalog
        catalog.execute("BEGIN")
        catalog.executemany("DELETE FROM articles WHERE id = ?",
                            ((doc_id,) for doc_id in self.deleted))
        for shard, deletions in zip(self.shards, self.deletions):
            shard.begin(deletions, new)
        count = len(self.shards)
        for written in in_order(_documents, ((spool, clusters, count)
                                             for spool, clusters in spools)):
            for number, id_term, data, row in written:
                self.shards[number].replace(id_term, data)
            catalog.executemany("INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?)",
                                (row for *_, row in written))
        self.counts = [shard.commit() for shard in self.shards]
        catalog.execute("COMMIT")

    def totals(self) -> tuple[int, int, list[int]]:
        clusters, = self.catalog.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM articles GROUP BY cluster "
            "HAVING COUNT(*) > 1)").fetchone()
        return sum(self.counts), clusters, self.counts

    def cancel(self) -> None:
        """Leave the live index as it was: cancel the shards' transactions and the
        catalog's, and remove a new generation."""
        for shard in self.shards:
            shard.close()
        if self.catalog is not None and self.catalog.in_transaction:
            self.catalog.execute("ROLLBACK")
        if self.generation != self.live:
            shutil.rmtree(self.generation, ignore_errors=True)

    def close(self) -> None:
        for shard in self.shards:
            shard.close()
        for reader in self._readers.values():
            reader.close()
        for catalog in {self.catalog, self.live_catalog} - {None}:
            catalog.close()
        shutil.rmtree(self.spool_folder, ignore_errors=True)
