"""Term vectors: each article's weighted word counts, kept in a column when it is indexed
and read back as one matrix over the archive, for finding similar stories.

An article's vector holds its stemmed words (stop words left out), a word of the title
counting three times and one of the lead (first paragraph) twice. Words are kept as
32-bit hashes. In the matrix a word weighs (1 + log count) × idf; words no other article
has, and words in more than half the archive (of over 200 articles), weigh nothing; each
row has length 1, so the product of two rows is their cosine similarity.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, OrderedDict

import numpy as np
from whoosh.analysis import STOP_WORDS

from .analysis import folded_words, stem_word, term_hash, word_count

TITLE_WEIGHT, LEAD_WEIGHT = 3, 2
COMMON = 0.5  # a word in more than this share of the archive (and 100 articles) weighs nothing
_CACHED = 2  # matrices kept: the live version of an index, and one more
_cache: OrderedDict[tuple, "Matrix"] = OrderedDict()
_cache_lock = threading.Lock()


def words(text: str):
    """(stem, word as indexed) of each word of ``text`` that is not a stop word."""
    return _stems(folded_words(text))


def _stems(words: list[str]):
    for word in words:
        if len(word) >= 2 and word not in STOP_WORDS:
            yield stem_word(word), word


def term_counts(title: str, body: str, written: dict | None = None) -> Counter:
    """The weighted count of each stem of an article; ``written``, when given, gets how
    often each stem is written each way."""
    return word_counts(folded_words(title), folded_words(body), lead_length(body), written)


def lead_length(body: str) -> int:
    """The number of words of the first paragraph of ``body``, its lead."""
    return word_count(body.partition("\n\n")[0])


def word_counts(title: list[str], body: list[str], lead: int, written: dict | None = None
                ) -> Counter:
    """:func:`term_counts` of an article whose title and body have the folded words
    ``title`` and ``body``, the first ``lead`` of them in its lead."""
    counts: Counter = Counter()
    for words_, weight in ((title, TITLE_WEIGHT), (body[:lead], LEAD_WEIGHT), (body[lead:], 1)):
        for stem, word in _stems(words_):
            counts[stem] += weight
            if written is not None:
                written.setdefault(stem, Counter())[word] += 1
    return counts


def encoded_counts(lexicon, texts: list[tuple[np.ndarray, np.ndarray, int]]) -> list[bytes]:
    """The column value of the :func:`word_counts` of each of several articles, given
    as the term numbers of its title's and body's words in ``lexicon`` (an
    :class:`indexer.analysis.Lexicon`) and the number of body words in its lead: the
    stems' hashes, in the order they come, then their counts (b"" for none). Worked out
    for all the articles at once."""
    sizes = [(len(title), min(lead, len(body)), len(body)) for title, body, lead in texts]
    stems = lexicon.stems[np.concatenate([part for title, body, _ in texts
                                          for part in (title, body)] or [np.zeros(0, int)])]
    lengths = np.array([title + body for title, _, body in sizes], np.int64)
    starts = np.cumsum(lengths) - lengths
    # Each word weighs 1, plus 2 in the title and 1 in the lead: steps at their ends.
    steps = np.zeros(len(stems) + 1, np.int64)
    titles = np.array([title for title, _, _ in sizes], np.int64)
    leads = np.array([lead for _, lead, _ in sizes], np.int64)
    np.add.at(steps, starts, TITLE_WEIGHT - 1)
    np.add.at(steps, starts + titles, LEAD_WEIGHT - TITLE_WEIGHT)
    np.add.at(steps, starts + titles + leads, 1 - LEAD_WEIGHT)
    weights = 1 + np.cumsum(steps[:-1])
    owners = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    kept = stems >= 0
    keys = owners[kept] << 32 | stems[kept].astype(np.int64)
    found, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first)  # as word_counts, in the order the stems come
    counts = np.bincount(inverse, weights[kept])[order]
    found = found[order]
    hashes = np.frombuffer(lexicon.stem_hashes, np.uint32)[found & 0xFFFFFFFF]
    counts = np.minimum(counts, 65535).astype(np.uint16)
    bounds = np.searchsorted(found >> 32, np.arange(len(texts) + 1)).tolist()
    return [hashes[start:stop].tobytes() + counts[start:stop].tobytes()
            for start, stop in zip(bounds, bounds[1:])]


def _decode(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    n = len(data) // 6
    return (np.frombuffer(data, dtype=np.uint32, count=n),
            np.frombuffer(data, dtype=np.uint16, count=n, offset=4 * n))


class Matrix:
    """The term vectors of every live article of a reader, by document number, kept
    both by article (rows) and by term (columns) as compressed sparse arrays (SciPy's
    CSR and CSC)."""

    def __init__(self, reader):
        # Imported here: indexing imports this module, but has no use for SciPy (a tenth
        # of a second to import).
        from scipy.sparse import csr_matrix
        self.doc_count = reader.doc_count_all()
        # Publication times as the column keeps them; an undated article has the largest.
        self.published = np.fromiter(reader.column_reader("published", translate=False),
                                     dtype=np.uint64, count=self.doc_count) \
            if reader.has_column("published") else np.full(self.doc_count, np.iinfo(np.uint64).max)
        values = reader.column_reader("terms") if reader.has_column("terms") else ()
        deleted = reader.has_deletions()
        lengths = np.zeros(self.doc_count, dtype=np.int64)
        hashes, counts = [], []
        for docnum, data in enumerate(values):
            if data and not (deleted and reader.is_deleted(docnum)):
                h, c = _decode(data)
                lengths[docnum] = len(h)
                hashes.append(h)
                counts.append(c)
        self.articles = len(hashes)
        every = np.concatenate(hashes) if hashes else np.empty(0, np.uint32)
        self.hashes = np.unique(every)  # sorted, so a term's number is found by bisection
        terms = np.searchsorted(self.hashes, every)
        counts_ = np.concatenate(counts).astype(np.float32) if counts else np.empty(0)
        docs = np.repeat(np.arange(self.doc_count), lengths)
        self.df = np.bincount(terms, minlength=len(self.hashes))
        idf = self._idf(self.df, self.articles)
        weights = ((1 + np.log(np.maximum(counts_, 1))) * idf[terms]).astype(np.float32)
        norms = np.sqrt(np.bincount(docs, weights=weights ** 2, minlength=self.doc_count))
        weights /= np.where(norms > 0, norms, 1)[docs]
        rows = csr_matrix((weights, terms, np.concatenate([[0], np.cumsum(lengths)])),
                          shape=(self.doc_count, len(self.hashes)))
        rows.eliminate_zeros()
        columns = rows.tocsc()
        self.row_start, self.row_terms, self.row_weights = rows.indptr, rows.indices, rows.data
        self.term_start, self.term_docs, self.term_weights = (
            columns.indptr, columns.indices, columns.data)

    @staticmethod
    def _idf(df: np.ndarray, articles: int) -> np.ndarray:
        idf = np.log(1 + articles / np.maximum(df, 1))
        idf[(df < 2) | (df > max(articles * COMMON, 100))] = 0
        return idf

    def vector(self, counts: Counter, in_archive: bool) -> tuple[np.ndarray, np.ndarray]:
        """(term numbers, weights) of a text's ``term_counts``, as a row of the matrix
        would hold it; a text not in the archive counts as one more article."""
        extra = 0 if in_archive else 1
        hashes = np.fromiter((term_hash(s) for s in counts), dtype=np.uint32,
                             count=len(counts))
        where = np.minimum(np.searchsorted(self.hashes, hashes), max(len(self.hashes) - 1, 0))
        known = (self.hashes[where] == hashes) if len(self.hashes) else np.zeros(len(hashes), bool)
        terms = where[known]
        values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))[known]
        idf = self._idf(self.df[terms] + extra, self.articles + extra)
        weights = (1 + np.log(values)) * idf
        norm = math.sqrt(float(weights @ weights)) or 1.0
        keep = weights > 0
        return terms[keep], weights[keep] / norm

    def row(self, docnum: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.row_start[docnum], self.row_start[docnum + 1]
        return self.row_terms[start:end], self.row_weights[start:end]

    def scores(self, terms: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The product of every article's row with the vector (``terms``, ``weights``)."""
        starts, ends = self.term_start[terms], self.term_start[terms + 1]
        lengths = ends - starts
        if not lengths.sum():
            return np.zeros(self.doc_count)
        index = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + \
            np.arange(lengths.sum())
        return np.bincount(self.term_docs[index], minlength=self.doc_count,
                           weights=self.term_weights[index] * np.repeat(weights, lengths))

    def centroid(self, docnums) -> tuple[np.ndarray, np.ndarray]:
        """(term numbers, weights) of the mean of the rows ``docnums``."""
        parts = [self.row(d) for d in docnums]
        if not parts:
            return np.empty(0, np.int64), np.empty(0)
        terms = np.concatenate([t for t, _ in parts])
        total = np.bincount(terms, weights=np.concatenate([w for _, w in parts]))
        found = np.nonzero(total)[0]
        return found, total[found] / len(parts)


def matrix(reader) -> Matrix:
    """The Matrix of ``reader``'s articles, shared while its segments are unchanged."""
    segments = [leaf.segment() for leaf, _ in reader.leaf_readers()]
    if not any(segments):  # an index of no articles
        return Matrix(reader)
    key = tuple((segment.segment_id(), segment.deleted_count()) for segment in segments)
    with _cache_lock:
        found = _cache.pop(key, None) or Matrix(reader)
        _cache[key] = found
        while len(_cache) > _CACHED:
            _cache.popitem(last=False)
        return found
