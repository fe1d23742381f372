"""Writing articles from source files into the index, incrementally or as a rebuild.

Reading and cleaning files and analysing articles (terms for every text field and the
near-duplicate signature, in one pass over each text) are shared by a pool of worker
processes when the sources are large enough to gain from it; the parent compares with
the index, assigns near-duplicate clusters and writes, in the order of the sources, so
that a parallel build is the same as a serial one.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timezone
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from . import vectors
from .analysis import folded_words
from .article import Article, parse_date
from .duplicates import Clusters, words_signature
from .schema import SCHEMA, ArticleText, Postings
from .sources import Skip, SourceError, SourceFile, find_sources, read_articles
from .store import WriteSession, read_sources, write_sources

POOL_BYTES = 4 << 20  # sources smaller than this in all are read in the indexing process
BATCH = 64  # articles analysed by one task of the pool
AHEAD = 2  # tasks per worker submitted ahead of the one being written
# Each text field of the schema, and the Article attribute it indexes.
TEXT_SOURCES = {name: name.removesuffix("_exact") for name, kind in SCHEMA.items()
                if isinstance(kind, ArticleText)}


@dataclass
class Summary:
    """What one indexing run did."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: list[Skip] = field(default_factory=list)
    total: int = 0
    clusters: int = 0  # groups of two or more near-duplicate articles

    def __str__(self) -> str:
        return (f"added {self.added}, updated {self.updated}, deleted {self.deleted}, "
                f"unchanged {self.unchanged}, skipped {len(self.skipped)}; "
                f"{self.total} articles in the index, {self.clusters} groups of "
                "near-duplicates")


@dataclass
class Prepared:
    """An article analysed for writing: the terms of each text field, the MinHash
    signature of its body (of its title when it has no body; None when empty), and its
    term vector for related stories."""

    article: Article
    terms: dict[str, Postings]
    signature: np.ndarray | None
    vector: bytes


def prepare(article: Article) -> Prepared:
    """Analyse ``article``, each text once for all the fields and the signature."""
    words = {name: folded_words(getattr(article, name)) for name in set(TEXT_SOURCES.values())}
    terms = {name: SCHEMA[name].postings(words[source]) for name, source in TEXT_SOURCES.items()}
    return Prepared(article, terms,
                    words_signature(words["body"] if article.body else words["title"]),
                    vectors.encode(vectors.term_counts(article.title, article.body)))


def document(prepared: Prepared, cluster: str, signature: bytes) -> dict:
    """The Whoosh fields for one article in near-duplicate ``cluster``."""
    article = prepared.article
    published = article.published
    fields = dict(prepared.terms, cluster=cluster,
        id=article.id, tags=",".join(article.tags),
        published_iso=published.isoformat() if published else "",
        url=article.url, description=article.description, path=article.path,
        language=article.language,
        content_hash=article.content_hash,
    )
    fields.update((f"_stored_{name}", getattr(article, source))
                  for name, source in TEXT_SOURCES.items() if SCHEMA[name].stored)
    facets = dict(source_facet=article.source, section_facet=article.section,
                  byline_facet=article.byline, language_facet=article.language)
    fields.update((name, value) for name, value in facets.items() if value)
    if signature:
        fields.update(minhash=signature)
    if prepared.vector:
        fields.update(terms=prepared.vector)
    if published:
        fields.update(date=published.replace(tzinfo=None), dated="1",
                      published=published.astimezone(timezone.utc).replace(tzinfo=None),
                      year=f"{published.year:04d}", month=f"{published:%Y-%m}")
    return fields


def stored_article(stored: dict) -> Article:
    """The article again, from the fields the index stores of it."""
    return Article(
        id=stored["id"], title=stored.get("title", ""), body=stored.get("body", ""),
        published=parse_date(stored.get("published_iso")), byline=stored.get("byline", ""),
        section=stored.get("section", ""), source=stored.get("source", ""),
        tags=stored.get("tags", "").split(","), url=stored.get("url", ""),
        description=stored.get("description", ""), path=stored.get("path", ""),
        language=stored.get("language", ""))


def _covers(roots: list[Path], path: str) -> bool:
    return any(path == str(root) or path.startswith(str(root) + "/") for root in roots)


@dataclass
class _Read:
    """What reading one source file gave: its articles, or None when the file is
    unchanged since the last run (``digest`` as recorded) or cannot be read (``error``)."""

    path: str
    digest: str = ""
    articles: list[Article] | None = None
    skips: list[Skip] = field(default_factory=list)
    error: Skip | None = None


def _read(source: SourceFile | Skip, old_digest: str | None) -> _Read | Skip:
    """Read and clean the articles of ``source`` unless its bytes hash to ``old_digest``."""
    if isinstance(source, Skip):
        return source
    path = str(source.path)
    try:
        data = source.path.read_bytes()
    except OSError as error:
        return _Read(path, error=Skip(path, f"cannot read ({error.strerror})"))
    digest = hashlib.sha1(data).hexdigest()
    if digest == old_digest:
        return _Read(path, digest)
    try:
        articles, skips = read_articles(source, data)
    except SourceError as error:
        return _Read(path, error=Skip(path, str(error)))
    return _Read(path, digest, articles, skips)


def _prepare_all(articles: list[Article]) -> list[Prepared]:
    return [prepare(article) for article in articles]


def _batches(items, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield (batch,)
            batch = []
    if batch:
        yield (batch,)


def pool_size(sources, jobs: int | None = None) -> int:
    """Processes to index ``sources`` with: ``jobs`` if given, else ``$MORGUE_JOBS`` (a
    positive number), else one per CPU when the files hold POOL_BYTES or more, else 1."""
    setting = os.environ.get("MORGUE_JOBS", "")
    if jobs:
        return jobs
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    size = sum(s.path.stat().st_size for s in sources
               if isinstance(s, SourceFile) and s.path.is_file())
    return (os.cpu_count() or 1) if size >= POOL_BYTES else 1


def _worker_start(parent: int) -> None:
    """In each worker: leave Ctrl-C to the indexing process ``parent``, and exit as
    soon as it is gone (killed: the worker is then adopted by another process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _here(function, calls):
    return (function(*arguments) for arguments in calls)


@contextmanager
def _pool(jobs: int):
    """``in_order(function, calls)``: ``function(*arguments)`` for each of ``calls``, in
    order; run by ``jobs`` worker processes (a few tasks each waiting ahead of the one
    whose result is taken), or here when ``jobs`` is 1."""
    if jobs <= 1:
        yield _here
        return
    # Spawned, not forked: a worker inherits no open file (the write lock stays the
    # indexing process's alone) and is that process's child (see _worker_start).
    pool = ProcessPoolExecutor(jobs, mp_context=get_context("spawn"),
                               initializer=_worker_start, initargs=(os.getpid(),))

    def in_order(function, calls):
        waiting = deque()
        for arguments in calls:
            waiting.append(pool.submit(function, *arguments))
            if len(waiting) > AHEAD * jobs:
                yield waiting.popleft().result()
        while waiting:
            yield waiting.popleft().result()

    try:
        yield in_order
    finally:
        pool.shutdown(cancel_futures=True)


def index_paths(paths, index_dir, rebuild: bool = False, progress=None,
                jobs: int | None = None) -> Summary:
    """Index the articles under ``paths`` into ``index_dir``.

    Incremental by default: files whose bytes are unchanged are not read again, articles
    whose content hash is unchanged are not rewritten, and articles that vanished from
    the given paths are deleted. With ``rebuild`` a fresh index of just ``paths`` is
    built beside the live one and swapped in whole. Either way, a file that cannot be
    read keeps what was indexed from it, and the counts compare with the index before.
    ``progress``, if given, wraps the list of source files (a progress bar); ``jobs``
    is the number of processes (see :func:`pool_size`).
    """
    with WriteSession(index_dir) as session:
        live = session.live()
        target = session.new_generation() if rebuild or live is None else live
        try:
            run = _Run(live, target, [Path(p).resolve() for p in paths])
            try:
                found = list(find_sources(paths, exclude=Path(index_dir)))
                with _pool(pool_size(found, jobs)) as in_order:
                    run.add(progress(found) if progress else found, in_order)
                run.delete_vanished()
            except BaseException:
                run.writer.cancel()
                raise
            run.commit()
        finally:
            if live is not None:
                live.close()
        if target is not live:
            session.publish(target)
    return run.summary


class _Run:
    """One indexing run: writes into ``target``, comparing with ``live`` (the index as it
    was, or None); a rebuild is a run whose target is a new, empty generation."""

    def __init__(self, live, target, roots: list[Path]):
        self.summary = Summary()
        self.rebuild = live is not None and target is not live
        self.roots = roots
        self.indexed: dict[str, tuple[str, str]] = {}  # id -> (content hash, path)
        self.ids_by_path: dict[str, list[str]] = {}
        self.old_sources = read_sources(live) if live is not None else {}
        self.live = live.searcher() if live is not None else None
        # Near-duplicates are looked for among the articles already in the index too,
        # unless this is a rebuild (whose index starts empty).
        self.clusters = Clusters()
        if self.live is not None and self.live.doc_count_all():
            reader = self.live.reader()
            ids, hashes, paths, clusters, signatures = (
                reader.column_reader(name)
                for name in ("id", "content_hash", "path", "cluster", "minhash"))
            for n in reader.all_doc_ids():
                self.indexed[ids[n]] = (hashes[n], paths[n])
                self.ids_by_path.setdefault(paths[n], []).append(ids[n])
                if not self.rebuild:
                    self.clusters.add_existing(ids[n], clusters[n], signatures[n])
        # A rebuild keeps no record of files outside ``roots``: it indexes ``roots`` alone.
        self.sources = {} if self.rebuild else {
            p: h for p, h in self.old_sources.items() if not _covers(roots, p)}
        self.seen: dict[str, str] = {}  # id -> path it was read from in this run
        self.target = target
        self.writer = target.writer(limitmb=512, compound=False)
        # In a new generation every id is new: no need to look for one to replace.
        self.put = self.writer.update_document if target is live else \
            self.writer.add_document

    def add(self, sources, in_order=_here) -> None:
        """Index the source files ``sources`` (recording the Skips among them), reading
        and analysing them with ``in_order`` (see :func:`_pool`)."""
        calls = ((source, None if self.rebuild or isinstance(source, Skip)
                  else self.old_sources.get(str(source.path))) for source in sources)
        articles = self._articles(in_order(_read, calls))
        for prepared in in_order(_prepare_all, _batches(articles, BATCH)):
            for one in prepared:
                self._write(one)

    def _articles(self, reads):
        """The articles to write, from what was read of each file."""
        for got in reads:
            if isinstance(got, Skip):
                self.summary.skipped.append(got)
            elif got.articles is None:
                yield from self._keep(got.path, got.error)
            else:
                self.summary.skipped.extend(got.skips)
                for article in got.articles:
                    if self._counted(article, got.path):
                        yield article
                self.sources[got.path] = got.digest

    def _counted(self, article: Article, path: str) -> bool:
        """Count ``article`` as added, updated or unchanged (or skip a duplicate id);
        True when it is to be written."""
        if article.id in self.seen:
            self.summary.skipped.append(Skip(path, f"duplicate id {article.id!r} "
                                                   f"(first in {self.seen[article.id]})"))
            return False
        self.seen[article.id] = path
        old = self.indexed.get(article.id)
        if old == (article.content_hash, path):
            self.summary.unchanged += 1
            return self.rebuild
        if old:
            self.summary.updated += 1
        else:
            self.summary.added += 1
        return True

    def _write(self, prepared: Prepared) -> None:
        cluster, signature = self.clusters.assign_signature(prepared.article.id,
                                                            prepared.signature)
        self.put(**document(prepared, cluster, signature))

    def _keep(self, path: str, skip: Skip | None = None):
        """Leave what was indexed from ``path`` as it was (yielding its articles to copy
        into a rebuild)."""
        if skip:
            self.summary.skipped.append(skip)
        for doc_id in self.ids_by_path.get(path, ()):
            if doc_id in self.seen:
                continue
            self.seen[doc_id] = path
            self.summary.unchanged += 1
            if self.rebuild:
                yield stored_article(self.live.document(id=doc_id))
        if path in self.old_sources:
            self.sources[path] = self.old_sources[path]

    def delete_vanished(self) -> None:
        """Delete the articles of ``roots`` not seen in this run (a rebuild just leaves
        out every article not seen)."""
        for doc_id, (_, path) in self.indexed.items():
            if doc_id not in self.seen and (self.rebuild or _covers(self.roots, path)):
                if not self.rebuild:
                    self.writer.delete_by_term("id", doc_id)
                self.summary.deleted += 1

    def commit(self) -> None:
        """Commit, and record the files' hashes beside the index."""
        self.writer.commit(optimize=self.rebuild)
        write_sources(self.target, self.sources)
        with self.target.reader() as reader:
            self.summary.total = reader.doc_count()
            # An index of no articles (nothing indexed yet) has no columns.
            cluster = reader.column_reader("cluster") if reader.has_column("cluster") else {}
            clusters = Counter(cluster[n] for n in reader.all_doc_ids())
        self.summary.clusters = sum(1 for size in clusters.values() if size > 1)
