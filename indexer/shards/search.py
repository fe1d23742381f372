"""The read side of the sharded backend: a view of the archive's shards, searched as one
Xapian database, that :class:`indexer.search.Archive` asks for rankings, stored fields,
spellings and related stories, as it asks the Whoosh index's.

Everything that reads the shards runs through :meth:`ShardSet.run`, which runs it again
without a shard that fails; the shards left out are named in a notice. Xapian matches,
counts facets (value-count match spies), collapses near-duplicates (the cluster's value
slot) and sorts by date (value slots); clusters are counted exactly from the copies
among the matches (:meth:`Ranking._clusters`), so that the count costs what the
near-duplicates cost, not the matches. A result's reference is its stored fields,
fetched with the match, since document numbers change when a shard is left out.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import xapian

from .. import spelling, suggest
from ..deadline import Deadline
from ..query import bound_expansions, filtered
from ..request import SearchRequest
from ..settings import Settings
from . import layout, related
from .connect import ShardSet
from .translate import Searcher, to_xapian, weighting
from .words import Words


def missing_notice(missing: dict[str, str]) -> str:
    """What a search answered without some shards says of them."""
    if not missing:
        return ""
    shards = "; ".join(f"{name} ({why})" for name, why in missing.items())
    return (f"Partial results: {len(missing)} archive shard{'s' if len(missing) > 1 else ''}"
            f" did not answer: {shards}.")


def _values(spy: xapian.ValueCountMatchSpy) -> dict[str, int]:
    return {item.term.decode("utf-8"): item.termfreq for item in spy.values()}


def _spied(db: xapian.Database, query: xapian.Query,
           slot: int = layout.SLOT_CLUSTER) -> dict[str, int]:
    """How many articles matching ``query`` have each value of ``slot`` (by default,
    each cluster)."""
    enquire = xapian.Enquire(db)
    enquire.set_query(query)
    enquire.set_weighting_scheme(xapian.BoolWeight())
    spy = xapian.ValueCountMatchSpy(slot)
    enquire.add_matchspy(spy)
    enquire.get_mset(0, 0, db.get_doccount())
    return _values(spy)


class Ranking:
    """The results of one search over the shards, each cluster of near-duplicates once
    (unless the search is within one cluster), counted and faceted at once; the page
    ``request`` asks for is fetched with them, other ranges when asked."""

    def __init__(self, shards: ShardSet, query, request: SearchRequest, deadline: Deadline):
        self.shards, self.query, self.request = shards, filtered(query, request.filters), request
        self.deadline = deadline
        self.within_cluster = bool(request.filter_values("cluster"))
        start = (request.page - 1) * request.size
        self._range = (start, start + request.size)
        (self.total, self.articles, self._counts, self._copies, self._items,
         self.complete), missing = shards.run(
            lambda db: self._match(db, *self._range, spies=True))
        self.notice = missing_notice(missing)
        self._sources = None  # the sources of each cluster of the page, when asked

    def _match(self, db: xapian.Database, start: int, stop: int | None, spies: bool):
        """(results, articles, facet counts, copies, [(score, stored fields, copies)] from
        start to stop, complete) of the search over ``db``; ``copies`` is what
        :meth:`_clusters` gives (kept for other ranges of results)."""
        query = to_xapian(self.query, db)
        enquire = xapian.Enquire(db)
        enquire.set_query(query)
        enquire.set_weighting_scheme(weighting())
        enquire.set_docid_order(xapian.Enquire.ASCENDING)
        if not self.within_cluster:
            enquire.set_collapse_key(layout.SLOT_CLUSTER)
        if self.request.sort == "newest":
            enquire.set_sort_by_value(layout.SLOT_PUBLISHED, True)
        elif self.request.sort == "oldest":
            enquire.set_sort_by_value(layout.SLOT_OLDEST, False)
        counters = {column: xapian.ValueCountMatchSpy(slot)
                    for column, slot in layout.FACET_SLOTS.items()} if spies else {}
        for spy in counters.values():
            enquire.add_matchspy(spy)
        limit = self.deadline.remaining
        began = time.monotonic()
        enquire.set_time_limit(max(limit, 0.001))
        everything = db.get_doccount()
        size = everything if stop is None else min(stop - start, everything)
        mset = enquire.get_mset(min(start, everything), size, everything)
        complete = time.monotonic() - began < limit
        counts = {column: _values(spy) for column, spy in counters.items()}
        articles = counters["source_facet"].get_total() if spies else self.articles
        copies, results = (self._clusters(db, query, articles) if spies else
                           (self._copies, self.total))
        items = [(None if self.request.sort != "relevance" else round(item.weight, 4),
                  stored, copies(stored))
                 for item in mset for stored in [layout.stored(item.document)]]
        return results, articles, counts, copies, items, complete

    def _clusters(self, db: xapian.Database, query: xapian.Query, articles: int):
        """(copies, results): a function giving how many of the ``articles`` matching
        ``query`` are in the cluster of an article (its stored fields), and how many
        clusters they make. Xapian's counts of collapsed matches are estimates, so the
        copies (articles marked as near-duplicates of an earlier one) are counted by
        cluster, and so are the clusters' first articles among the matches; the rest
        of the matches are clusters of one article each."""
        if self.within_cluster:
            return (lambda stored: 1), articles
        copy = xapian.Query(layout.PREFIXES["copy"])
        matched = _spied(db, xapian.Query(xapian.Query.OP_FILTER, query, copy))
        firsts = set(_spied(db, xapian.Query(
            xapian.Query.OP_FILTER, xapian.Query(xapian.Query.OP_AND_NOT, query, copy),
            xapian.Query(xapian.Query.OP_OR, [layout.term("id", cluster)
                                              for cluster in matched])))) if matched else set()

        def copies(stored: dict) -> int:
            cluster = stored["cluster"] or stored["id"]
            return matched.get(cluster, 0) + (cluster in firsts or cluster not in matched)

        singles = articles - sum(matched.values())
        return copies, singles + len(matched.keys() - firsts)

    def items(self, start: int = 0, stop: int | None = None):
        """(score rounded, stored fields, copies) of the results from start to stop."""
        if (start, stop) == self._range:
            yield from self._items
            return
        (*_, items, complete), _ = self.shards.run(
            lambda db: self._match(db, start, stop, spies=False))
        self.complete &= complete
        yield from items

    def facet_counts(self, column: str) -> dict[str, int]:
        """How many matching articles have each value of the facet ``column``."""
        return self._counts[column]

    def other_sources(self, stored: dict) -> list[str]:
        """The sources, other than its own, of the articles in the cluster of the
        article whose stored fields are ``stored`` (a result of this page: those of the
        whole page are read at once)."""
        if self._sources is None:
            clusters = {found["cluster"] or found["id"] for _, found, _ in self._items}
            clusters.add(stored["cluster"] or stored["id"])
            query = xapian.Query(xapian.Query.OP_OR, [layout.term("cluster", cluster)
                                                      for cluster in clusters])
            self._sources = {}
            for pair in self.shards.run(lambda db: _spied(
                    db, query, layout.SLOT_CLUSTER_SOURCE))[0]:
                cluster, _, source = pair.partition("\n")
                self._sources.setdefault(cluster, set()).add(source)
        found = self._sources.get(stored["cluster"] or stored["id"], set())
        return sorted(found - {stored.get("source", ""), ""})


class View:
    """The archive's shards as they are now, for one thread."""

    def __init__(self, shards: ShardSet):
        self.shards = shards
        self.version = shards.version()

    def _run(self, function):
        return self.shards.run(function)[0]

    def doc_count(self) -> int:
        return self._run(lambda db: db.get_doccount())

    def expand(self, query, deadline: Deadline):
        """``query`` with its patterns bound to the words they stand for, and a notice."""
        return self._run(lambda db: bound_expansions(query, Words(db), deadline))

    def rank(self, query, request: SearchRequest, deadline: Deadline) -> Ranking:
        return Ranking(self.shards, query, request, deadline)

    def count(self, query, request: SearchRequest, deadline: Deadline) -> int:
        """How many articles match ``query`` and the filters of ``request``."""
        return self._run(lambda db: Searcher(db).count(filtered(query, request.filters)))

    @staticmethod
    def stored(stored: dict) -> dict:
        return stored

    def document(self, doc_id: str) -> dict | None:
        def find(db):
            for posting in db.postlist(layout.term("id", doc_id)):
                return layout.stored(db.get_document(posting.docid))
            return None
        return self._run(find)

    def corrections(self, text: str, known: int):
        return self._run(lambda db: spelling.corrections(Words(db, self.version), text,
                                                         known=known))

    def spelling(self, text: str) -> str | None:
        return self._run(lambda db: spelling.suggest(Words(db, self.version), text))

    def suggest(self, text: str):
        return self._run(lambda db: suggest.suggest(Searcher(db), text))

    def related(self, title, body, published, before, exclude, limit):
        return self._run(lambda db: related.find(db, title, body, published, before,
                                                 exclude, limit))


class ShardedIndex:
    """The archive in the shards of ``index_dir`` or of ``settings``, each thread
    reading them through its own connections."""

    def __init__(self, index_dir: Path, settings: Settings):
        self.index_dir, self.settings = index_dir, settings
        self._local = threading.local()

    def view(self) -> View:
        shards = getattr(self._local, "shards", None)
        if shards is None:
            shards = self._local.shards = ShardSet(self.index_dir, self.settings)
        return View(shards)

    def close(self) -> None:
        """Close this thread's connections to the shards."""
        shards = getattr(self._local, "shards", None)
        if shards is not None:
            shards.close()

    def warm(self) -> None:
        """Read now the word lists spelling corrections read (the shards' servers keep
        the rest), through connections of its own, closed after: a server does this
        before it forks its workers, which inherit no connection."""
        shards = ShardSet(self.index_dir, self.settings)
        try:
            version = shards.version()
            shards.run(lambda db: Words(db, version).read_vocabulary())
        finally:
            shards.close()
