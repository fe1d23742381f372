"""Every match of a search at once, as NumPy arrays.

Whoosh collects matches one document at a time in Python, microseconds each: right for
the ten results of a page, but a result page also counts every match, per facet and per
cluster of near-duplicates, which for a common word is much of the archive. Here the
matches of a query are a mask over the index's documents: each term's postings are read
a block at a time and combined with NumPy's boolean operations, and scored with
Whoosh's own BM25F formula over whole arrays. Facet values, clusters and dates are
arrays read once from each segment's columns (a segment never changes), so counting a
facet is one ``bincount`` and sorting by date or score one ``lexsort``. Blocks are read
as arrays through morgue's codec (:mod:`indexer.codec`), field lengths from Whoosh's
columns below its public API (whoosh-reloaded 2.7); tests/test_matches.py checks every
figure and order against Whoosh's own.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.idsets import DocIdSet
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.scoring import BM25F

from . import segments
from .codec import BlockMatcher
from .deadline import Deadline
from .schema import DEFAULT_FIELDS, FACETS

CODED = (*FACETS.values(), "cluster")  # columns read as codes into a list of values
CHECK_EVERY = 256  # matches of a phrase checked between two looks at the clock
TABLES = 2  # indexes whose tables are kept: the live one, and the one being replaced
POSTINGS = 8_000_000  # postings kept read (about 64 MB), the least recently used dropped


@dataclass
class Coded:
    """A column as ``values[codes[docnum]]``; code 0 is the empty value."""

    values: list[str]
    codes: np.ndarray


class Table:
    """The columns of every document of an index, by global document number, and which
    documents are live (not deleted)."""

    def __init__(self, reader):
        leaves = segments.leaves(reader)
        self.size = reader.doc_count_all()
        self.live = np.ones(self.size, dtype=bool)
        for leaf, offset in leaves:
            self.live[[offset + n for n in leaf.deleted_docs_set]] = False
        columns = [_segment_columns(leaf) for leaf, _ in leaves]
        self.coded = {name: _joined([c[name] for c in columns]) for name in CODED}
        self.dated = _concatenate([c["dated"] for c in columns], bool)
        self.published = _concatenate([c["published"] for c in columns], np.uint64)
        clusters = self.coded["cluster"].codes
        self.cluster_sizes = np.bincount(clusters[self.live], minlength=len(clusters) and 1)

    def counts(self, name: str, mask: np.ndarray) -> dict[str, int]:
        """How many documents in ``mask`` have each value of column ``name``."""
        column = self.coded[name]
        counts = np.bincount(column.codes[mask], minlength=len(column.values))
        return {column.values[code]: int(counts[code]) for code in np.flatnonzero(counts)
                if code}

    def other_sources(self, docnum: int) -> list[str]:
        """The sources, other than its own, of the articles in the cluster of
        ``docnum``."""
        clusters, sources = self.coded["cluster"].codes, self.coded["source_facet"]
        cluster = clusters[docnum]
        if cluster >= len(self.cluster_sizes) or self.cluster_sizes[cluster] < 2:
            return []
        members = np.flatnonzero((clusters == cluster) & self.live)
        return sorted({sources.values[code] for code in sources.codes[members]}
                      - {sources.values[sources.codes[docnum]], ""})

    def by_date(self, docnums: np.ndarray, newest: bool) -> np.ndarray:
        """``docnums`` dated first, oldest (or ``newest``) first, then in index order."""
        published = self.published[docnums]
        if newest:
            published = np.iinfo(np.uint64).max - published
        return docnums[np.lexsort((docnums, published, ~self.dated[docnums]))]


def _concatenate(arrays, dtype) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype) if arrays else np.zeros(0, dtype)


def _joined(columns: list[Coded]) -> Coded:
    """One Coded column of segments' columns, one after the other."""
    index = {"": 0}
    parts = []
    for column in columns:
        recode = np.fromiter((index.setdefault(v, len(index)) for v in column.values),
                             np.int32, count=len(column.values))
        parts.append(recode[column.codes])
    return Coded(list(index), _concatenate(parts, np.int32))


_segments = segments.Kept()
_tables = segments.Kept(TABLES)


def _segment_columns(leaf) -> dict:
    """The columns of one segment."""
    def read():
        columns = {}
        for name in CODED:
            index = {"": 0}
            values = (v.decode("utf-8") for v in _column(leaf, name, b""))
            codes = np.fromiter((index.setdefault(v, len(index)) for v in values), np.int32,
                                count=leaf.doc_count_all())
            columns[name] = Coded(list(index), codes)
        columns["dated"] = np.array([v == b"1" for v in _column(leaf, "dated", b"")], bool)
        columns["published"] = np.array(list(_column(leaf, "published", 0)), np.uint64)
        return columns
    return _segments.get(segments.key(leaf), read)


def _column(leaf, name: str, empty):
    """Every value of column ``name`` of a segment (``empty`` for each document if the
    segment has no such column, as when no article has a date)."""
    if leaf.has_column(name):
        return leaf.column_reader(name, translate=False)
    return [empty] * leaf.doc_count_all()


def table(searcher) -> Table:
    """The Table of the index ``searcher`` reads, shared by every thread."""
    reader = searcher.reader()
    return _tables.get(segments.version(reader), lambda: Table(reader))


def read_ahead(searcher) -> None:
    """Read the columns of ``searcher``'s index, and the lengths of the fields a search
    scores by default, before a search needs them."""
    table(searcher)
    for leaf, _ in segments.leaves(searcher.reader()):
        for fieldname in DEFAULT_FIELDS:
            _lengths(leaf, fieldname)


class Matcher:
    """The documents matching Whoosh queries in the index of ``searcher``, as masks; a
    phrase's matches are collected until ``deadline``, after which ``complete`` is
    False and the mask holds those found."""

    def __init__(self, searcher, deadline: Deadline | None = None):
        self.searcher, self.deadline = searcher, deadline
        self.table = table(searcher)
        self.complete = True
        self._phrases: dict[tuple, np.ndarray] = {}  # the matches of each phrase met

    def mask(self, query) -> np.ndarray:
        """The live documents matching ``query``."""
        return self._mask(query) & self.table.live

    def _mask(self, q) -> np.ndarray:
        if q is wq.NullQuery:
            return np.zeros(self.table.size, bool)
        if isinstance(q, wq.Every):
            return self.table.live.copy()
        if isinstance(q, wq.Term):
            return self._term(q.fieldname, q.text)
        if isinstance(q, wq.And) or isinstance(q, wq.Require):
            return _combined(np.logical_and, [self._mask(s) for s in q.children()],
                             self.table.live)
        if isinstance(q, (wq.Or, wq.DisjunctionMax)) and getattr(q, "minmatch", 0) <= 1:
            return _combined(np.logical_or, [self._mask(s) for s in q.children()],
                             np.zeros(self.table.size, bool))
        if isinstance(q, wq.Not):
            return ~self._mask(q.query)
        if isinstance(q, wq.AndNot):
            return self._mask(q.a) & ~self._mask(q.b)
        if isinstance(q, wq.AndMaybe):
            return self._mask(q.a)
        if isinstance(q, wq.MultiTerm):  # a pattern with its words, or a date range
            mask = np.zeros(self.table.size, bool)
            for fieldname, text in q.expanded_terms(self.searcher.reader()):
                mask |= self._term(fieldname, text)
            return mask
        if isinstance(q, wq.Phrase) and q.slop == 1:
            return self._phrase(q)
        if isinstance(q, wq.NumericRange):  # a date range: the terms of its periods
            return self._mask(q.simplify(self.searcher.reader()))
        if isinstance(q, wq.WrappingQuery):
            return self._mask(q.child)
        return self._collected(q)

    def _term(self, fieldname: str, text) -> np.ndarray:
        mask = np.zeros(self.table.size, bool)
        for leaf, offset in segments.leaves(self.searcher.reader()):
            mask[_postings(leaf, fieldname, text)[0] + offset] = True
        return mask

    def _phrase(self, q: wq.Phrase) -> np.ndarray:
        """The documents where the phrase's words follow one another: the positions of
        each word are read in the documents that have all of them."""
        key = (q.fieldname, tuple(q.words))
        if key not in self._phrases:
            self._phrases[key] = self._read_phrase(q)
        return self._phrases[key]

    def _read_phrase(self, q: wq.Phrase) -> np.ndarray:
        mask = self._mask(wq.And([wq.Term(q.fieldname, word) for word in q.words]))
        if not q.words:
            return mask
        ends = None  # where the phrase so far ends, as docnum << 32 | position
        for word in q.words:
            if ends is not None:  # only the articles where the phrase so far is
                mask = np.zeros(self.table.size, bool)
                mask[ends >> 32] = True
            found = []
            for leaf, offset in segments.leaves(self.searcher.reader()):
                btext = _to_bytes(leaf, q.fieldname, word)
                wanted = mask[offset:offset + leaf.doc_count_all()]
                if btext is not None and wanted.any():
                    found.append(_positions(leaf, q.fieldname, btext, wanted,
                                            self.deadline) + (offset << 32))
            keys = np.concatenate(found) if found else np.zeros(0, np.int64)
            ends = keys if ends is None else np.intersect1d(ends + 1, keys,
                                                            assume_unique=True)
        if self.deadline is not None and self.deadline.passed:
            self.complete = False
        mask = np.zeros(self.table.size, bool)
        mask[ends >> 32] = True
        return mask

    def scores(self, q) -> np.ndarray | None:
        """Each document's BM25F score for ``q`` (0 where it does not match), as Whoosh
        computes it, or None when ``q`` has a part scored otherwise (a phrase with
        slop, a pattern, a coordination bonus): Whoosh then ranks the matches itself."""
        weighting = self.searcher.weighting
        if not isinstance(weighting, BM25F):
            return None
        if isinstance(q, wq.Term):
            found = self._term_scores(q.fieldname, q.text, weighting)
        elif isinstance(q, wq.Phrase) and q.slop == 1:  # Whoosh: its words' scores added
            found = _combined(np.add, [self._term_scores(q.fieldname, word, weighting)
                                       for word in q.words], np.zeros(self.table.size))
            found[~self._phrase(q)] = 0
        elif isinstance(q, (wq.And, wq.Or, wq.AndMaybe)) and not getattr(q, "scale", None):
            parts = [self.scores(s) for s in q.children()]
            if any(part is None for part in parts):
                return None
            found = _combined(np.add, parts, np.zeros(self.table.size))
        elif isinstance(q, wq.AndNot):
            found = self.scores(q.a)
        else:
            return None
        return found * q.boost if found is not None and q.boost != 1 else found

    def _term_scores(self, fieldname: str, text, weighting: BM25F) -> np.ndarray:
        scores = np.zeros(self.table.size)
        field = self.searcher.schema[fieldname] if fieldname in self.searcher.schema else None
        if field is None:
            return scores
        try:
            btext = text if isinstance(text, bytes) else field.to_bytes(text)
        except ValueError:
            return scores
        idf = self.searcher.idf(fieldname, btext)
        avgfl = self.searcher.avg_field_length(fieldname) or 1
        B, K1 = weighting._field_B.get(fieldname, weighting.B), weighting.K1
        for leaf, offset in segments.leaves(self.searcher.reader()):
            ids, weights = _postings(leaf, fieldname, btext)
            tf = weights.astype(np.float64)
            if field.scorable:  # Whoosh's bm25(), operation for operation
                length = _lengths(leaf, fieldname)[ids]
                tf = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * length / avgfl)))
            scores[ids + offset] = tf
        return scores

    def _collected(self, q) -> np.ndarray:
        """The matches of any other query (a phrase with slop), one at a time as Whoosh
        finds them, until the deadline."""
        mask = np.zeros(self.table.size, bool)
        for count, docnum in enumerate(q.docs(self.searcher)):
            if count % CHECK_EVERY == 0 and self.deadline and self.deadline.passed:
                self.complete = False
                break
            mask[docnum] = True
        return mask


def _combined(operation: np.ufunc, arrays: list[np.ndarray], empty: np.ndarray
              ) -> np.ndarray:
    """``arrays`` (of the same length) combined by ``operation`` one after another, into
    a new array (``operation.reduce`` would first copy them all into one two-dimensional
    array); ``empty`` when there are none. The arrays given are left as they are."""
    if len(arrays) < 2:
        return arrays[0] if arrays else empty
    result = operation(arrays[0], arrays[1])
    for array in arrays[2:]:
        operation(result, array, out=result)
    return result


def _to_bytes(leaf, fieldname: str, text) -> bytes | None:
    """A term's text as the index holds it (None when the field cannot hold it)."""
    try:
        return text if isinstance(text, bytes) else leaf.schema[fieldname].to_bytes(text)
    except (KeyError, ValueError):  # no such field, or no such value in it
        return None


def _blocks(leaf, fieldname: str, btext: bytes, values: bool = False):
    """(document numbers, weights, encoded values or None) of each block of a term's
    postings in one segment, deleted documents included (the live mask removes them)."""
    try:
        postings = leaf.postings(fieldname, btext)
    except TermNotFound:
        return
    if isinstance(postings, FilterMatcher):  # the segment's deletions left out
        postings = postings.child
    if isinstance(postings, BlockMatcher):
        while postings.is_active():
            yield (*postings.arrays(), postings.block_values() if values else None)
            postings._next_block()
    else:  # a term of one posting, kept inline
        while postings.is_active():
            yield (np.array([postings.id()], np.int32),
                   np.array([postings.weight()], np.float32),
                   [postings.value()] if values else None)
            postings.next()


def _postings(leaf, fieldname: str, text) -> tuple[np.ndarray, np.ndarray]:
    """The document numbers and weights of a term's postings in one segment, kept
    while often used."""
    btext = _to_bytes(leaf, fieldname, text)
    if btext is None:
        return _NO_POSTINGS

    def read():
        blocks = list(_blocks(leaf, fieldname, btext))
        if not blocks:
            return _NO_POSTINGS
        return (np.concatenate([ids for ids, _, _ in blocks]),
                np.concatenate([weights for _, weights, _ in blocks]))
    return _kept_postings.get((*segments.key(leaf), fieldname, btext), read)


def _positions(leaf, fieldname: str, btext: bytes, wanted: np.ndarray,
               deadline: Deadline | None) -> np.ndarray:
    """``docnum << 32 | position`` of each occurrence of a term in the documents of a
    segment that ``wanted`` (a mask over them) holds, in order; those read by
    ``deadline``."""
    docnums, deltas = [], []
    for ids, _, values in _blocks(leaf, fieldname, btext, values=True):
        if deadline is not None and deadline.passed:
            break
        for n in np.flatnonzero(wanted[ids]):
            docnums.append(ids[n])
            deltas.append(pickle.loads(values[n][4:]))  # Whoosh's Positions: a pickle
    if not docnums:
        return np.zeros(0, np.int64)
    lengths = np.fromiter(map(len, deltas), np.int64, count=len(deltas))
    steps = np.fromiter((d for found in deltas for d in found), np.int64, count=lengths.sum())
    # Positions are stored as steps from the one before: add them up in each document.
    totals = np.cumsum(steps)
    firsts = np.cumsum(lengths) - lengths
    starts = np.repeat(totals[firsts] - steps[firsts], lengths)
    docnums = np.repeat(np.array(docnums, np.int64), lengths)
    return (docnums << 32) | (totals - starts)


_NO_POSTINGS = (np.zeros(0, np.int32), np.zeros(0, np.float32))
_kept_postings = segments.Kept(POSTINGS, weight=lambda postings: len(postings[0]) + 1)
_kept_lengths = segments.Kept()


def _lengths(leaf, fieldname: str) -> np.ndarray:
    """The length of field ``fieldname`` in each document of a segment, as Whoosh's
    scorers read it (1 where it is empty)."""
    def read():
        # Whoosh's segment reader keeps its per-document reader as _perdoc.
        lengths = segments.field_lengths(leaf._perdoc, fieldname, leaf.doc_count_all())
        return np.where(lengths > 0, lengths, 1).astype(np.float64)
    return _kept_lengths.get((*segments.key(leaf), fieldname), read)


class Allowed(DocIdSet):
    """The documents of a mask, as the filter of a Whoosh search (which only asks
    whether each match is in it)."""

    def __init__(self, mask: np.ndarray):
        self.mask = mask

    def __contains__(self, docnum) -> bool:
        return bool(self.mask[docnum])

    def __iter__(self):
        return iter(np.flatnonzero(self.mask).tolist())

    def __len__(self) -> int:
        return int(self.mask.sum())


def scoring(query):
    """The part of ``query`` that scores its matches, without what only restricts them
    (dates, NOT, every article), which a search's mask applies instead: the same order,
    without Whoosh stepping through the restrictions' matches one by one."""
    if isinstance(query, wq.And):
        kept = [scoring(q) for q in query.subqueries if not _restricts(q)]
        return wq.And(kept, boost=query.boost).normalize() if kept else wq.Every()
    if isinstance(query, wq.AndNot):
        return scoring(query.a)
    return wq.Every() if _restricts(query) else query


def _restricts(query) -> bool:
    return isinstance(query, (wq.NumericRange, wq.Not, wq.Every))
