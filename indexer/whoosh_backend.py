"""The read side of the embedded Whoosh index: one version of it, as a view that
:class:`indexer.search.Archive` asks for matches, rankings, stored fields, spellings and
related stories.

Every match is found at once as arrays (:mod:`indexer.matches`), counted and collapsed
into clusters of near-duplicates, and ranked as far as a page needs.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import numpy as np
from whoosh.scoring import BM25F

from . import matches, related, segments, spelling, suggest, vectors
from .deadline import Deadline, timed_search
from .query import bound_expansions, filtered
from .request import SearchRequest
from .store import live_generation, open_live

RANK_FIRST = 40  # results ranked at first for a page (more if near-duplicates hide some)


class Ranking:
    """The ordered results of one search, each cluster of near-duplicates once (unless
    the search is within one cluster). ``mask`` holds every matching article; they are
    ranked as far as a page needs, each one kept only if it is the first of its
    cluster."""

    notice = ""  # what the backend says of the search (nothing: it reads one index)

    def __init__(self, searcher, query, request: SearchRequest, deadline: Deadline):
        self.searcher, self.query = searcher, query
        self.request, self.deadline = request, deadline
        self.found = matches.Matcher(searcher, deadline)
        self.table = self.found.table
        self.mask = self.found.mask(filtered(query, request.filters))
        self.complete = self.found.complete  # False when the deadline cut the search short
        self.articles = int(self.mask.sum())
        if request.filter_values("cluster"):  # within a cluster, every article is a result
            self.key = np.arange(self.table.size)
        else:
            self.key = self.table.coded["cluster"].codes
        self.copies = np.bincount(self.key[self.mask], minlength=1)
        self.total = int(np.count_nonzero(self.copies))
        self.kept: list[tuple] = []  # (score or None, docnum) of each result so far
        self._order = self._scores = None  # the matches ranked so far, and their scores
        self._whole = False  # whether that is all of them
        self._next = 0  # the first of them not looked at for ``kept``
        self._seen: set = set()  # the keys of the clusters in ``kept``

    def items(self, start: int = 0, stop: int | None = None):
        """(score rounded, docnum, copies) of the results from start to stop."""
        if not self.articles:
            return
        self._rank(stop)
        for score, docnum in self.kept[start:stop]:
            yield (round(float(score), 4) if score is not None else None, docnum,
                   int(self.copies[self.key[docnum]]))

    def facet_counts(self, column: str) -> dict[str, int]:
        """How many matching articles have each value of the facet ``column``."""
        return self.table.counts(column, self.mask)

    def other_sources(self, docnum: int) -> list[str]:
        """The sources of the other articles in the cluster of ``docnum``."""
        return self.table.other_sources(docnum)

    def _rank(self, stop: int | None) -> None:
        """Rank the matches until ``stop`` results are kept (all of them for None): all
        at once by date, or by scores computed over arrays; failing that (a phrase with
        slop, a pattern), by Whoosh, the best few and then more as needed."""
        if self._order is None:
            docnums = np.flatnonzero(self.mask)
            if self.request.sort != "relevance":
                self._ordered(self.table.by_date(docnums, self.request.sort == "newest"))
            elif (scores := self.found.scores(matches.scoring(self.query))) is not None:
                scores = scores[docnums]
                order = np.lexsort((docnums, -scores))
                self._ordered(docnums[order], scores[order])
        limit = None if stop is None else max(2 * stop, RANK_FIRST)
        while True:
            self._keep(stop)
            if self._whole or (stop is not None and len(self.kept) >= stop):
                return
            results, complete = timed_search(
                self.searcher, matches.scoring(self.query), self.deadline, limit=limit,
                filter=matches.Allowed(self.mask))
            self.complete &= complete
            top = results.top_n
            self._ordered([docnum for _, docnum in top], [score for score, _ in top],
                          whole=not complete or limit is None or len(top) < limit)
            limit = limit and limit * 4

    def _ordered(self, docnums, scores=None, whole: bool = True) -> None:
        """Rank the matches as ``docnums``, with ``scores`` (None when sorted by date);
        ``whole`` when these are all the matches to rank."""
        self._order, self._scores, self._whole = docnums, scores, whole
        self.kept, self._next, self._seen = [], 0, set()

    def _keep(self, stop: int | None) -> None:
        """Keep the first of each cluster from the ranking, until there are ``stop``."""
        order, scores = self._order, self._scores
        if order is None:
            return
        while self._next < len(order) and (stop is None or len(self.kept) < stop):
            docnum = int(order[self._next])
            key = self.key[docnum]
            if key not in self._seen:
                self._seen.add(key)
                self.kept.append((None if scores is None else scores[self._next], docnum))
            self._next += 1


class View:
    """One version of the index, read through one Whoosh searcher."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.version = segments.version(searcher.reader())

    def doc_count(self) -> int:
        return self.searcher.doc_count()

    def expand(self, query, deadline: Deadline):
        """``query`` with its patterns bound to the words they stand for, and a notice."""
        return bound_expansions(query, self.searcher.reader(), deadline)

    def rank(self, query, request: SearchRequest, deadline: Deadline) -> Ranking:
        return Ranking(self.searcher, query, request, deadline)

    def count(self, query, request: SearchRequest, deadline: Deadline) -> int:
        """How many articles match ``query`` and the filters of ``request``."""
        found = matches.Matcher(self.searcher, deadline)
        return int(found.mask(filtered(query, request.filters)).sum())

    def stored(self, docnum: int) -> dict:
        return self.searcher.stored_fields(docnum)

    def document(self, doc_id: str) -> dict | None:
        return self.searcher.document(id=doc_id)

    def corrections(self, text: str, known: int):
        return spelling.corrections(self.searcher, text, known=known)

    def spelling(self, text: str) -> str | None:
        return spelling.suggest(self.searcher, text)

    def suggest(self, text: str):
        return suggest.suggest(self.searcher, text)

    def related(self, title: str, body: str, published: datetime | None,
                before: datetime | None, exclude: tuple[str, str], limit: int):
        return related.find(self.searcher, title, body, published, before, exclude, limit)


class WhooshIndex:
    """The index in ``index_dir``, reopened when a new version is live.

    Each thread keeps its own searcher, refreshed before each use when the index has
    changed on disk (a new commit, or a rebuild swapped in).
    """

    def __init__(self, index_dir: Path):
        self.index_dir = index_dir
        self._local = threading.local()

    def view(self) -> View:
        """An up-to-date view for this thread."""
        local = self._local
        generation = live_generation(self.index_dir)
        current = getattr(local, "view", None)
        if (current is not None and local.generation == generation
                and current.searcher.up_to_date()):
            return current
        # Opened anew, not refresh()ed: a refreshed searcher reuses the reader of a
        # segment that is still there, missing deletions committed to it since.
        if current is not None:
            current.searcher.close()
        local.view = View(open_live(self.index_dir).searcher(weighting=BM25F()))
        local.generation = generation
        return local.view

    def close(self) -> None:
        """Close this thread's searcher."""
        view = getattr(self._local, "view", None)
        if view is not None:
            view.searcher.close()
            del self._local.view

    def warm(self) -> None:
        """Read now what the first searches and related lists would read (columns,
        field lengths, vocabulary, term vectors)."""
        # A searcher of its own, closed after: what was read is copied out of the index,
        # and a server's processes inherit no open file of a generation since replaced.
        with open_live(self.index_dir).searcher(weighting=BM25F()) as searcher:
            matches.read_ahead(searcher)
            spelling.read_vocabulary(searcher.reader())
            vectors.matrix(searcher.reader())
