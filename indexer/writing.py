"""Writing articles from source files into the index, incrementally or as a rebuild.

Two stages, each shared by a pool of worker processes when the sources are large enough
to gain from it: reading a file, cleaning its articles and keeping them in spool files
with their words, near-duplicate signatures and term vectors; and writing the spooled
articles as new segments of the index, one per worker, each a contiguous run of them.
Between them the parent compares what was read with the index (by record digests and
content hashes, the articles staying in their spool files) and assigns near-duplicate
clusters, in the order of the sources, and at the end commits the new segments at once,
so that a parallel build holds the articles in the same order as a serial one."""

from __future__ import annotations

import hashlib
import os
import pickle
import signal
import threading
import time
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timezone
from itertools import groupby, islice
from multiprocessing import get_context
from operator import itemgetter
from pathlib import Path

import numpy as np
from whoosh.analysis import IDTokenizer
from whoosh.fields import ID
from whoosh.writing import SegmentWriter

from . import segments, vectors
from .analysis import Lexicon
from .article import Article, parse_date
from .codec import Codec
from .columns import Columns
from .duplicates import Clusters, Signed, hashes_signature, numbered_keys
from .pool import ArrayPool
from .schema import SCHEMA, ArticleText, Tokens
from .sources import Known, Skip, SourceError, SourceFile, find_sources, read_articles
from .settings import settings
from .store import RECORDS, WriteSession, open_index, read_sources, write_sources

POOL_BYTES = 4 << 20  # sources smaller than this in all are read in the indexing process
BATCH = 64  # articles to a spool file
SEGMENT_MIN = 500  # articles written before a run writes a second segment
AHEAD = 2  # tasks per worker submitted ahead of the one whose result is taken
READ_AHEAD = 64 << 20  # bytes of source files read ahead (see _read_ahead)
RECENT = 1 << 16  # values of fields other than texts whose postings a writer keeps
_SPOOLED = Lexicon()  # the words of the texts this process spools (see _spool)
# Each text field of the schema, and the Article attribute it indexes.
TEXT_SOURCES = {name: name.removesuffix("_exact") for name, kind in SCHEMA.items()
                if isinstance(kind, ArticleText)}
TEXTS = sorted(set(TEXT_SOURCES.values()))  # the attributes indexed as text


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
    shards: list[int] | None = None  # articles in each shard, for an index in shards

    def __str__(self) -> str:
        per_shard = "" if self.shards is None else " ({})".format(", ".join(
            f"shard {n}: {count}" for n, count in enumerate(self.shards)))
        return (f"added {self.added}, updated {self.updated}, deleted {self.deleted}, "
                f"unchanged {self.unchanged}, skipped {len(self.skipped)}; "
                f"{self.total} articles in the index{per_shard}, {self.clusters} groups of "
                "near-duplicates")


def text_words(article: Article, lexicon: Lexicon) -> dict[str, np.ndarray]:
    """The term number in ``lexicon`` of each word of each text of ``article``."""
    return {name: lexicon.words(getattr(article, name)) for name in TEXTS}


def term_vectors(articles: list[Article], words: list[dict[str, np.ndarray]],
                 lexicon: Lexicon) -> list[bytes]:
    """The term vector (see :func:`indexer.vectors.encoded_counts`) of each of
    ``articles``, whose texts' words have the term numbers ``words`` in ``lexicon``."""
    return vectors.encoded_counts(lexicon, [
        (numbers["title"], numbers["body"], vectors.lead_length(article.body))
        for article, numbers in zip(articles, words)])


def signature(article: Article, words: dict[str, np.ndarray],
              lexicon: Lexicon) -> np.ndarray | None:
    """The MinHash signature of the body of ``article`` (of its title when it has no
    body; None when empty), whose texts' words have the term numbers ``words`` in
    ``lexicon``."""
    return hashes_signature(lexicon.hashes[words["body" if article.body else "title"]])


def document(article: Article, words: dict[str, np.ndarray], vector: bytes,
             minhash: np.ndarray | None, cluster: str, lexicon: Lexicon) -> dict:
    """The Whoosh fields for ``article``, whose texts' words have the term numbers
    ``words`` in ``lexicon`` (one numbering for all the fields of a text), of term
    vector ``vector`` (see :func:`term_vectors`), near-duplicate signature ``minhash``
    and in ``cluster``."""
    published = article.published
    fields = dict(((name, SCHEMA[name].tokens(lexicon, words[source]))
                   for name, source in TEXT_SOURCES.items()), cluster=cluster,
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
    if minhash is not None:
        fields.update(minhash=minhash.tobytes())
    if vector:
        fields.update(terms=vector)
    if published:
        fields.update(date=published.replace(tzinfo=None, hour=0, minute=0, second=0,
                                             microsecond=0), dated="1",
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
    """What reading one source file gave: the digest of the record of each of its
    articles in order, the content hash of each, and the id of each read in this run
    (None for a record left unread as read before: a Known), and the spool files holding
    the articles read, BATCH to a file (named from ``spool``), each with their
    signatures; or no articles (``records`` None) when the file is unchanged since the
    last run (``digest`` as recorded) or cannot be read (``error``). Columns rather than
    an object per article, which would take longer to pass between processes."""

    source: SourceFile
    spool: str
    digest: str = ""
    records: list[str] | None = None
    hashes: list[str] = field(default_factory=list)
    ids: list[str | None] = field(default_factory=list)
    spools: list[tuple[str, list[np.ndarray | None]]] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    error: Skip | None = None

    @property
    def path(self) -> str:
        return str(self.source.path)


def _read(source: SourceFile | Skip, spool: str, old_digest: str | None = None,
          known: dict[str, str] | None = None) -> _Read | Skip:
    """Read, clean, sign and spool the articles of ``source`` unless its bytes hash to
    ``old_digest``, leaving unread the records whose digests ``known`` maps to the
    content hashes of their articles."""
    if isinstance(source, Skip):
        return source
    try:
        data = source.path.read_bytes()
    except OSError as error:
        return _Read(source, spool, error=Skip(str(source.path),
                                               f"cannot read ({error.strerror})"))
    digest = hashlib.sha1(data).hexdigest()
    if digest == old_digest:
        return _Read(source, spool, digest)
    try:
        articles, skips = read_articles(source, data, known)
    except SourceError as error:
        return _Read(source, spool, error=Skip(str(source.path), str(error)))
    read = [article for article in articles if type(article) is not Known]
    return _Read(source, spool, digest, [article.record for article in articles],
                 [article.content_hash for article in articles],
                 [None if type(article) is Known else article.id for article in articles],
                 _spools(read, spool), skips)


@dataclass
class _Words:
    """The words of the texts of a spool's articles (TEXTS of each in turn), numbered
    in a vocabulary of their own (folded words) that the writer numbers in its lexicon:
    a text is split into words once, when it is spooled."""

    vocabulary: list[str]
    numbers: np.ndarray  # of the words of every text, one text after another
    counts: list[int]  # of each text's words

    @classmethod
    def of(cls, words: list[dict[str, np.ndarray]], lexicon: Lexicon) -> "_Words":
        """The words of articles whose texts' words have the term numbers ``words``."""
        texts = [numbers[name] for numbers in words for name in TEXTS]
        used, numbers = np.unique(np.concatenate(texts), return_inverse=True)
        return cls([lexicon.folded[n] for n in used.tolist()], numbers.astype(np.int32),
                   [len(text) for text in texts])

    def numbered(self, lexicon: Lexicon) -> list[dict[str, np.ndarray]]:
        """For each article, the term numbers in ``lexicon`` of its texts' words."""
        texts = np.split(lexicon.numbers(self.vocabulary)[self.numbers],
                         np.cumsum(self.counts)[:-1])
        return [dict(zip(TEXTS, texts[start:start + len(TEXTS)]))
                for start in range(0, len(texts), len(TEXTS))]


def _spools(articles: list[Article], prefix: str) -> list[tuple[str, list]]:
    """Keep ``articles`` in spool files named from ``prefix``, BATCH to a file; each
    file's name and the signatures of its articles."""
    return [(f"{prefix}-{n}.pickle", _spool(batch, f"{prefix}-{n}.pickle"))
            for n, batch in enumerate(_batches(articles, BATCH))]


def _spool(articles: list[Article], spool: str) -> list[np.ndarray | None]:
    """Keep ``articles`` in the file ``spool``, with their signatures, term vectors and
    texts' words (see :class:`_Words`); the signatures."""
    words = [text_words(article, _SPOOLED) for article in articles]
    signatures = [signature(article, numbers, _SPOOLED)
                  for article, numbers in zip(articles, words)]
    with open(spool, "wb") as file:
        pickle.dump((articles, signatures, term_vectors(articles, words, _SPOOLED),
                     _Words.of(words, _SPOOLED)), file, pickle.HIGHEST_PROTOCOL)
    return signatures


class _SegmentWriter(SegmentWriter):
    """Whoosh's writer of a segment, keeping the postings as arrays
    (:class:`indexer.pool.ArrayPool`) and writing each term's postings at once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pool = ArrayPool(os.path.join(self._tempstorage.folder,
                                           f"postings-{self.newsegment.segment_id()}"))
        self.lexicon = Lexicon()  # what document() numbers the words of texts in
        self.recent: dict[tuple, tuple] = {}  # the postings of recent values of fields
        self.columns = Columns(self.perdocwriter)
        self.bands: list[np.ndarray] = []  # numbered band keys of the articles' signatures

    def add_articles(self, rows) -> None:
        """Add the spooled articles ``rows`` (see :func:`spooled`), keeping the band keys
        of their signatures numbered by document, to write beside the segment (see
        :func:`indexer.segments.band_run`)."""
        signed = [(docnum, values) for docnum, (_, values, *_) in enumerate(rows, self.docnum)
                  if values is not None]
        if signed:
            numbers, values = zip(*signed)
            self.bands.append(numbered_keys(np.stack(values), numbers))
        for article, values, vector, cluster, words in rows:
            self.add_document(**document(article, words, vector, values, cluster, self.lexicon))

    def add_document(self, **fields):
        """Whoosh's ``add_document`` for morgue's schema (no boosts, spellings or
        vectors): a text field's Tokens go to the pool at once, other fields' postings
        one at a time, each value analysed once while it recurs (dates, facets); columns
        and field lengths are kept to write at once (:class:`indexer.columns.Columns`)."""
        docnum, perdoc, schema, columns = self.docnum, self.perdocwriter, self.schema, self.columns
        perdoc.start_doc(docnum)
        stored_fields = perdoc._storedfields
        for name in sorted(name for name in fields if not name.startswith("_")):
            value, field, length = fields[name], schema[name], 0
            if isinstance(value, Tokens):
                self.pool.add_tokens(name, docnum, value, field.format.field_boost)
                length = len(value)
            elif field.indexed:
                postings, length = self.recent.get((name, value)) or self._index(name, value)
                for term, weight, encoded in postings:
                    self.pool.add((name, term, docnum, weight, encoded))
            stored = fields.get(f"_stored_{name}", value)
            if field.stored and stored is not None:
                stored_fields[name] = stored
            if length:
                columns.add_length(name, docnum, length)
            if field.column_type and stored is not None:
                columns.add(name, field.column_type, docnum, field.to_column_value(stored))
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1
        self.pool.save_if_full()

    def _index(self, name: str, value) -> tuple[list[tuple], int]:
        """The postings (term, weight, encoded value) of ``value`` in field ``name``, and
        its length there, kept for the next documents (the last RECENT values); an
        identifier's one term is its value, as Whoosh's ID field analyses it."""
        field, postings, length = self.schema[name], [], 0
        if type(field) is ID and type(field.analyzer) is IDTokenizer:
            return [(value.encode("utf-8"), field.format.field_boost, b"")], 0
        for term, frequency, weight, encoded in field.index(value):
            length += frequency if field.scorable else 0
            postings.append((term, weight, encoded))
        if len(self.recent) >= RECENT:
            self.recent.clear()
        self.recent[name, value] = postings, length
        return postings, length

    def _write_bands(self) -> None:
        """Write the band keys of the articles' signatures beside the segment, sorted;
        their memory is freed before the postings are written."""
        keys, self.bands = np.concatenate([np.empty(0, np.uint64), *self.bands]), []
        keys.sort()
        with self.storage.create_file(self.newsegment.make_filename(segments.BANDS)) as file:
            file.write(keys.data)

    def _flush_segment(self):
        self._write_bands()
        self.columns.write()
        self.perdocwriter.close()
        reader, writer = self.per_document_reader(), self.fieldwriter
        for fieldname, terms in groupby(self.pool.terms(), key=itemgetter(0)):
            lengths = segments.field_lengths(reader, fieldname, reader.doc_count_all())
            writer.start_field(fieldname, self.schema[fieldname])
            writer.add_terms((term[1:] for term in terms), lengths)
            writer.finish_field()
        writer.close()
        reader.close()


def spooled(spool: str, clusters: list[str | None], lexicon: Lexicon | None = None):
    """(article, signature, term vector, cluster, words) of each article of the file
    ``spool`` (see :func:`_spool`) to write, those whose cluster is not None: ``words``
    the term numbers of its texts' words in ``lexicon`` (None without one). The file is
    removed."""
    with open(spool, "rb") as file:
        articles, signatures, vectors_, words = pickle.load(file)
    os.remove(spool)
    numbered = words.numbered(lexicon) if lexicon else [None] * len(articles)
    return [row for row in zip(articles, signatures, vectors_, clusters, numbered)
            if row[3] is not None]


def _write_segment(folder: str, spools: list[tuple[str, list[str | None]]]):
    """Write the articles of ``spools`` (see :func:`spooled`) as one new segment of the
    index in ``folder``, unlocked (the indexing process holds the lock and commits
    it); the segment."""
    writer = _SegmentWriter(open_index(Path(folder)), _lk=False, compound=False, codec=Codec())
    for spool, clusters in spools:
        writer.add_articles(spooled(spool, clusters, writer.lexicon))
    return writer._finalize_segment()


def _batches(items, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _runs(items: list, parts: int) -> list[list]:
    """``items`` cut into ``parts`` contiguous runs of nearly equal length."""
    return [items[len(items) * i // parts:len(items) * (i + 1) // parts] for i in range(parts)]


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


def _here(function, calls, ahead: int | None = None):
    return (function(*arguments) for arguments in calls)


def _read_ahead(sources, jobs: int) -> int:
    """Files to read ahead of the one whose articles are taken: as many as hold
    READ_AHEAD bytes (AHEAD per worker at least), which the workers read while the
    indexing process reads the index."""
    total, count = 0, 0
    for source in sources:
        if isinstance(source, SourceFile) and source.path.is_file():
            total += source.path.stat().st_size
        if total > READ_AHEAD:
            break
        count += 1
    return max(AHEAD * jobs, count)


@contextmanager
def _pool(jobs: int):
    """``in_order(function, calls)``: ``function(*arguments)`` for each of ``calls``, in
    order; run by ``jobs`` worker processes (``ahead`` tasks, AHEAD per worker unless
    given, submitted at once and then kept waiting ahead of the one whose result is
    taken), or here when ``jobs`` is 1."""
    if jobs <= 1:
        yield _here
        return
    # Spawned, not forked: a worker inherits no open file (the write lock stays the
    # indexing process's alone) and is that process's child (see _worker_start).
    pool = ProcessPoolExecutor(jobs, mp_context=get_context("spawn"),
                               initializer=_worker_start, initargs=(os.getpid(),))
    for _ in range(jobs):  # a task each, so that all start now rather than when needed
        pool.submit(int)

    def in_order(function, calls, ahead: int | None = None):
        calls = iter(calls)
        waiting = deque(pool.submit(function, *arguments)
                        for arguments in islice(calls, ahead or AHEAD * jobs))

        def results():
            for arguments in calls:
                waiting.append(pool.submit(function, *arguments))
                yield waiting.popleft().result()
            while waiting:
                yield waiting.popleft().result()
        return results()

    try:
        yield in_order
    finally:
        pool.shutdown(cancel_futures=True)


def index_paths(paths, index_dir, rebuild: bool = False, progress=None,
                jobs: int | None = None) -> Summary:
    """Index the articles under ``paths`` into ``index_dir``, in the backend the
    settings name (:func:`indexer.settings.settings`).

    Incremental by default: files whose bytes are unchanged are not read again, nor
    records read before (:mod:`indexer.sources`), articles whose content hash is
    unchanged are not rewritten, and articles that vanished from the given paths are
    deleted. With ``rebuild`` a fresh index of just ``paths`` is built beside the live
    one and swapped in whole. Either way, a file that cannot be read keeps what was
    indexed from it, and the counts compare with the index before. ``progress``, if
    given, wraps the list of source files (a progress bar); ``jobs`` is the number of
    processes (see :func:`pool_size`).
    """
    configured = settings()
    with WriteSession(index_dir) as session:
        if configured.backend == "xapian":
            from .shards.writing import ShardStore
            store = ShardStore(session, rebuild, configured)
        else:
            store = WhooshStore(session, rebuild)
        try:
            found = list(find_sources(paths, exclude=Path(index_dir)))
            jobs = pool_size(found, jobs)
            with _pool(jobs) as in_order:  # its workers start while the run reads the index
                run = _Run(store, [Path(p).resolve() for p in paths])
                run.add(progress(found) if progress else found, in_order,
                        _read_ahead(found, jobs))
                run.delete_vanished()
                run.commit(in_order, jobs)
            run.summarise()
        except BaseException:
            store.cancel()
            raise
        finally:
            store.close()
        if store.rebuild or store.first:
            session.publish(store.generation)
    return run.summary


def _live_columns(reader, names, text=()) -> tuple[list[int], list[list]]:
    """The document numbers of the live articles, and the values of each of columns
    ``names`` for them (str for those named in ``text``, else bytes), each segment's
    columns read whole rather than an article at a time through the index's."""
    docnums, columns = [], [[] for _ in names]
    for leaf, offset in segments.leaves(reader):
        deleted = leaf.deleted_docs_set
        live = [n for n in range(leaf.doc_count_all()) if n not in deleted]
        docnums += [offset + n for n in live]
        for column, name in zip(columns, names):
            values = segments.column_bytes(leaf, name, name in text)
            column += [values[n] for n in live] if deleted else values
    return docnums, columns


class WhooshStore:
    """The Whoosh index a run writes into, and what it compares with: the live index
    (None when there is none), and the target (the live index, or a new generation for
    a rebuild or a first build). The interface of a store, which :class:`_Run` calls:

    - ``rebuild`` (a new generation, compared with a live one), ``first`` (a new
      generation with nothing live), ``generation`` (the target's directory), and
      ``old_sources`` and ``old_records`` (the files' and their records' digests as the
      live index recorded them, see :func:`indexer.store.read_sources`);
    - ``indexed()``: the ids, content hashes, paths and clusters of the live articles, as
      four lists, and their signatures (an :class:`indexer.duplicates.Signed`);
      ``article(id)``: a live article, to copy into a rebuild;
    - ``delete(id)`` (incremental runs only); ``spool_folder``: where the new articles
      are spooled; ``write(spools, in_order, jobs)``: write the spooled articles (each
      spool with the cluster of each of its articles) and commit them with the deletions;
    - ``totals()``: (articles, groups of near-duplicates, per-shard counts or None);
      ``cancel()`` after a failure, ``close()`` at the end.
    """

    def __init__(self, session: WriteSession, rebuild: bool):
        live = session.live(rebuild)
        self.target = session.new_generation() if rebuild or live is None else live
        self.rebuild = live is not None and self.target is not live
        self.first = live is None
        self.generation = Path(self.target.storage.folder)
        self.live = live
        folder = Path(live.storage.folder) if live is not None else None
        self.old_sources = read_sources(folder) if folder else {}
        self.old_records = read_sources(folder, RECORDS) if folder else {}
        self.searcher = live.searcher() if live is not None else None
        # Takes the lock, deletes replaced articles and commits; the new articles are
        # written by _write_segment, spooled in its temporary directory meanwhile.
        self.writer = self.target.writer(compound=False, codec=Codec())
        self.spool_folder = self.writer.temp_storage().folder
        self.docnums: dict[str, int] = {}  # of each live article, as indexed() reads them

    def indexed(self) -> list:
        names = ("id", "content_hash", "path", "cluster")
        reader = self.searcher.reader() if self.searcher else None
        docnums, columns = (_live_columns(reader, names, names) if reader else
                            ([], [[] for _ in names]))
        self.docnums = dict(zip(columns[0], docnums))
        if not docnums:
            return [*columns, Signed.of([])]
        place = np.full(reader.doc_count_all(), -1, np.int64)
        place[docnums] = np.arange(len(docnums))
        stored = reader.column_reader("minhash")
        return [*columns, Signed(
            [(segments.band_run(leaf), place[offset:offset + leaf.doc_count_all()])
             for leaf, offset in segments.leaves(reader)], lambda at: stored[docnums[at]])]

    def article(self, doc_id: str) -> Article:
        return stored_article(self.searcher.document(id=doc_id))

    def delete(self, doc_id: str) -> None:
        # The writer holds the segments the searcher read, in the same order.
        self.writer.delete_document(self.docnums[doc_id])

    def write(self, spools, in_order=_here, jobs: int = 1) -> None:
        """Write the spooled articles as new segments with ``in_order``, one per worker
        (one for a few articles), and commit them and the deletions at once."""
        count = sum(len(clusters) - clusters.count(None) for _, clusters in spools)
        parts = max(1, min(jobs, count // SEGMENT_MIN))
        written = list(in_order(_write_segment, ((str(self.generation), run) for run in
                                                 _runs(spools, parts) if run)))
        # Whoosh's default merge policy may merge small segments into the writer's own.
        writer = self.writer
        kept = writer._merge_segments(None, None, None)
        if writer._added:
            kept.append(writer._finalize_segment())
        else:
            writer._close_segment()
        writer._commit_toc(kept + written)
        writer._finish()

    def totals(self) -> tuple[int, int, None]:
        with self.target.reader() as reader:
            clusters = Counter(_live_columns(reader, ("cluster",))[1][0])
        return sum(clusters.values()), sum(1 for size in clusters.values() if size > 1), None

    def cancel(self) -> None:
        if not self.writer.is_closed:
            self.writer.cancel()

    def close(self) -> None:
        if self.live is not None:
            self.live.close()


class _Run:
    """One indexing run into ``store`` (see :class:`WhooshStore`): what is read is
    compared with what the store holds, whatever the backend; a rebuild is a run whose
    target is a new, empty generation."""

    def __init__(self, store, roots: list[Path]):
        self.summary = Summary()
        self.store = store
        self.rebuild = store.rebuild
        self.roots = roots
        self.indexed: dict[str, tuple[str, str]] = {}  # id -> (content hash, path)
        self.ids_by_path: dict[str, list[str]] = {}
        self.old_sources = store.old_sources
        self.old_records = store.old_records
        self.clusters = Clusters()
        # A rebuild keeps no record of files outside ``roots``: it indexes ``roots`` alone.
        self.sources, self.records = ({}, {}) if self.rebuild else (
            {p: h for p, h in self.old_sources.items() if not _covers(roots, p)},
            {p: r for p, r in self.old_records.items() if not _covers(roots, p)})
        self.seen: dict[str, str] = {}  # id -> path it was read from in this run
        self.spools: list[tuple[str, list[str | None]]] = []  # (spool file, clusters) in order

    def _read_index(self) -> None:
        """Read what the store holds of each article. Near-duplicates are looked for
        among them too, unless this is a rebuild (whose index starts empty)."""
        ids, hashes, paths, clusters, signed = self.store.indexed()
        self.indexed = dict(zip(ids, zip(hashes, paths)))
        for doc_id, path in zip(ids, paths):
            self.ids_by_path.setdefault(path, []).append(doc_id)
        if not self.rebuild:
            self.clusters.add_existing(ids, clusters, signed)

    def add(self, sources, in_order=_here, ahead: int | None = None) -> None:
        """Index the source files ``sources`` (recording the Skips among them), reading,
        analysing and spooling them with ``in_order`` (see :func:`_pool`), the first
        ``ahead`` at once, while the index is read."""
        folder = self.store.spool_folder
        reads = in_order(_read, (self._read_arguments(source, os.path.join(folder, f"spool-{n}"))
                                 for n, source in enumerate(sources)), ahead)
        self._read_index()
        for got in reads:
            if isinstance(got, Skip):
                self.summary.skipped.append(got)
                continue
            held = self._held_hashes(got.path)
            if got.error is None and not self._held(got, held):  # read again, trusting less
                for spool, _ in got.spools:
                    os.remove(spool)
                got = _read(got.source, got.spool + "-again", None, self._known(got.path, held))
            if got.records is None:
                self._keep(got.path, got.error)
            else:
                self.summary.skipped.extend(got.skips)
                self._add_read(got, held)
                self.sources[got.path] = got.digest

    def _read_arguments(self, source: SourceFile | Skip, spool: str) -> tuple:
        """The arguments of :func:`_read` for ``source``: the digest its file had, and
        the content hash of the article of each record it had (by its digest), as the
        last run recorded them; checked against the index when read (see _held)."""
        if self.rebuild or isinstance(source, Skip):
            return source, spool
        path = str(source.path)
        return source, spool, self.old_sources.get(path), self.old_records.get(path)

    def _held(self, got: _Read, held: dict[str, str]) -> bool:
        """Whether the index holds (``held``, see _held_hashes), from the file of ``got``,
        the article of each record left unread (as recorded; of every record it had, for
        a file left unread as unchanged). A file the index no longer holds all of as it
        was read (an article of it replaced by another file's of the same id, or
        records.json not written after a run's commit) is read again."""
        if got.records is None:
            return len(self._known(got.path, held)) == len(self.old_records.get(got.path, {}))
        return all(content_hash in held for doc_id, content_hash in zip(got.ids, got.hashes)
                   if doc_id is None)

    def _held_hashes(self, path: str) -> dict[str, str]:
        """The id of the article the index holds from ``path`` by its content hash."""
        return {self.indexed[doc_id][0]: doc_id for doc_id in self.ids_by_path.get(path, ())}

    def _known(self, path: str, held: dict[str, str]) -> dict[str, str]:
        """The records of ``path`` whose articles the index holds (``held``) as they
        were read."""
        return {digest: content_hash for digest, content_hash in
                self.old_records.get(path, {}).items() if content_hash in held}

    def _add_read(self, got: _Read, held: dict[str, str]) -> None:
        """Count the articles of a file read in this run, recording the digest of each of
        its records with the content hash of its article (a Known's article is the one
        the index holds, ``held``), and give each spooled article to write its cluster
        (None for the others)."""
        path = got.path
        self.records[path] = dict(zip(got.records, got.hashes))
        ids, written = [], []  # of each spooled article, and whether it is to be written
        for doc_id, content_hash in zip(got.ids, got.hashes):  # Knowns only in the live index
            if doc_id is None:  # a Known: held from this file as it is, unchanged
                self.summary.unchanged += self._first(held[content_hash], path)
            else:
                ids.append(doc_id)
                written.append(self._first(doc_id, path) and
                               self._counted(doc_id, content_hash, path))
        self._assign(got.spools, ids, written)

    def _assign(self, spools: list[tuple[str, list]], ids: list[str],
                written: list[bool] | None = None) -> None:
        """Record the articles of ``spools`` (each a spool file and the signatures of
        its articles, whose ids are ``ids``) to write (``written``: all if None) with
        their clusters, in order: assigned all at once."""
        written = written or [True] * len(ids)
        signatures = [values for _, spooled in spools for values in spooled]
        clusters = iter(self.clusters.assign_signatures(
            [doc_id for doc_id, new in zip(ids, written) if new],
            [values for values, new in zip(signatures, written) if new]))
        start = 0
        for spool, spooled in spools:
            wanted, start = written[start:start + len(spooled)], start + len(spooled)
            if any(wanted):
                self.spools.append((spool, [next(clusters) if new else None for new in wanted]))
            else:
                os.remove(spool)

    def _first(self, doc_id: str, path: str) -> bool:
        """Whether ``doc_id`` is seen first in this run, read from ``path`` (else it is
        skipped as a duplicate)."""
        if doc_id in self.seen:
            self.summary.skipped.append(Skip(path, f"duplicate id {doc_id!r} "
                                                   f"(first in {self.seen[doc_id]})"))
            return False
        self.seen[doc_id] = path
        return True

    def _counted(self, doc_id: str, content_hash: str, path: str) -> bool:
        """Count the article ``doc_id`` of ``content_hash`` read from ``path`` as added,
        updated or unchanged; True when it is to be written."""
        old = self.indexed.get(doc_id)
        if old == (content_hash, path):
            self.summary.unchanged += 1
            return self.rebuild
        if old:
            self.summary.updated += 1
            if not self.rebuild:
                self.store.delete(doc_id)
        else:
            self.summary.added += 1
        return True

    def _keep(self, path: str, skip: Skip | None = None) -> None:
        """Leave what was indexed from ``path`` as it was (spooling its articles here, to
        copy into a rebuild)."""
        if skip:
            self.summary.skipped.append(skip)
        kept = []
        for doc_id in self.ids_by_path.get(path, ()):
            if doc_id in self.seen:
                continue
            self.seen[doc_id] = path
            self.summary.unchanged += 1
            if self.rebuild:
                kept.append(self.store.article(doc_id))
        self._assign(_spools(kept, os.path.join(self.store.spool_folder,
                                                f"kept-{len(self.spools)}")),
                     [article.id for article in kept])
        if path in self.old_sources:
            self.sources[path] = self.old_sources[path]
        if path in self.old_records:
            self.records[path] = self.old_records[path]

    def delete_vanished(self) -> None:
        """Delete the articles of ``roots`` not seen in this run (a rebuild just leaves
        out every article not seen)."""
        for doc_id, (_, path) in self.indexed.items():
            if doc_id not in self.seen and (self.rebuild or _covers(self.roots, path)):
                if not self.rebuild:
                    self.store.delete(doc_id)
                self.summary.deleted += 1

    def commit(self, in_order=_here, jobs: int = 1) -> None:
        """Write the spooled articles and commit them with the deletions."""
        self.clusters = None  # done with: its memory is the workers' while they write
        self.store.write(self.spools, in_order, jobs)

    def summarise(self) -> None:
        """Record the files' hashes beside the index, and count its articles (per shard
        too, when it has shards) and clusters of near-duplicates."""
        write_sources(self.store.generation, self.sources)
        write_sources(self.store.generation, self.records, RECORDS)
        self.summary.total, self.summary.clusters, self.summary.shards = self.store.totals()
