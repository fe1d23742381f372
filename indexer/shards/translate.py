"""A parsed query (the whoosh.query tree of :func:`indexer.query.parse_query`) as a
``xapian.Query`` over the terms and values of :mod:`indexer.shards.layout`, matching
the same articles as the Whoosh backend.

Patterns are expanded on the client, before translation, by
:func:`indexer.query.bound_expansions` over a database's :class:`~.words.Words` (a
remote shard would expand them on its own, with its own limits and frequencies). An
expanded pattern is the OR of its words, each weighed on its own, as Whoosh weighs them
in an index of more than one segment (in an index of one, Whoosh gives every match of
a pattern of several words the same score, 1); ``OP_SYNONYM``, weighing them as one
word, ranked further from Whoosh (bench/shards_ranking.py). Boosts (the default
fields' weights) scale weights; filters on unanalysed fields (facets, clusters) add no
weight.
"""

from __future__ import annotations

import xapian
from whoosh import query as wq

from . import layout
from .words import Words

Q = xapian.Query
# BM25's parameters. Whoosh's BM25F (k1 1.2, b 0.75) normalises each field by its own
# length; Xapian 1.4 only by the whole article's, which would let a long body drown a
# match in the title. A weaker normalisation brings the two rankings closer (top-10
# overlap 57.3% with b 0.75, 67.5% with b 0.3: 51 queries, 12,000 Reuters stories) and
# finds known items as well (bench/shards_ranking.py).
K1, B = 1.2, 0.3


def weighting() -> xapian.Weight:
    """The weighting scheme of searches (``Enquire.set_weighting_scheme``)."""
    return xapian.BM25Weight(K1, 0, 1, B, 0.5)


def to_xapian(query: wq.Query, db: xapian.Database) -> xapian.Query:
    """``query`` as a Xapian query. A pattern not yet expanded (see
    :func:`indexer.query.bound_expansions`) stands for all its words in ``db``."""
    return _Translation(db).query(query)


class _Translation:
    def __init__(self, db: xapian.Database):
        self.db = db

    def query(self, q: wq.Query) -> xapian.Query:
        return _scaled(self._unscaled(q), getattr(q, "boost", 1.0))

    def _unscaled(self, q: wq.Query) -> xapian.Query:
        if q is wq.NullQuery:
            return _nothing()
        if isinstance(q, wq.Every):
            return _everything()
        if isinstance(q, wq.DateRange):
            return _dates(q)
        if isinstance(q, (wq.Term, wq.MultiTerm, wq.Phrase)) and \
                q.fieldname not in layout.PREFIXES:
            return _nothing()  # a field the layout has no terms for
        if isinstance(q, wq.MultiTerm):  # a pattern, expanded or not: any of its words
            return Q(Q.OP_OR, [_term(q.fieldname, text)
                               for _, text in q.expanded_terms(Words(self.db))])
        if isinstance(q, wq.Term):
            found = Q(_term(q.fieldname, q.text))
            # A filter on an unanalysed column (facet, cluster, id) restricts, not ranks.
            return Q(Q.OP_SCALE_WEIGHT, found, 0) if q.fieldname in layout.BOOLEAN_FIELDS \
                else found
        if isinstance(q, wq.Phrase):
            return _phrase(q)
        if isinstance(q, wq.Not):
            return Q(Q.OP_AND_NOT, _everything(), self.query(q.query))
        if isinstance(q, wq.And):
            return self._and(q.subqueries)
        if isinstance(q, wq.Or):
            return Q(Q.OP_OR, [self.query(s) for s in q.subqueries])
        if isinstance(q, wq.AndNot):
            return Q(Q.OP_AND_NOT, self.query(q.a), self.query(q.b))
        if isinstance(q, wq.AndMaybe):
            return Q(Q.OP_AND_MAYBE, self.query(q.a), self.query(q.b))
        if isinstance(q, wq.Require):
            return Q(Q.OP_FILTER, self.query(q.a), self.query(q.b))
        raise TypeError(f"no Xapian query for {q!r}")

    def _and(self, subqueries) -> xapian.Query:
        """All of ``subqueries``: those under NOT are taken away from the others (or
        from every article), not matched one by one."""
        positive = [self.query(s) for s in subqueries if not isinstance(s, wq.Not)]
        negative = [self.query(s.query) for s in subqueries if isinstance(s, wq.Not)]
        found = Q(Q.OP_AND, positive) if positive else _everything()
        return Q(Q.OP_AND_NOT, found, Q(Q.OP_OR, negative)) if negative else found


# Built anew each time: Xapian's own MatchAll and MatchNothing are single objects whose
# reference counts are not atomic, so sharing them between threads crashes a server.
def _everything() -> xapian.Query:
    return Q("")


def _nothing() -> xapian.Query:
    return Q()


def _term(field: str, text) -> str:
    return layout.term(field, text.decode("utf-8") if isinstance(text, bytes) else text)


def _scaled(q: xapian.Query, boost: float) -> xapian.Query:
    return q if boost == 1.0 else Q(Q.OP_SCALE_WEIGHT, q, boost)


def _phrase(q: wq.Phrase) -> xapian.Query:
    """The words in order, each at most ``slop`` positions after the one before (as
    Whoosh's phrases): one window when that is exact (adjacent words, or two), else a
    window of the longest such run with each pair of neighbours in a window of their
    own, which adds no weight (rarely, more than Whoosh matches: the pairs are found
    anywhere in the article)."""
    terms = [_term(q.fieldname, w) for w in q.words]
    if len(terms) <= 1:
        return Q(Q.OP_AND, terms)
    if q.slop <= 1 or len(terms) == 2:
        return Q(Q.OP_PHRASE, terms, len(terms) + max(q.slop, 1) - 1)
    pairs = [Q(Q.OP_PHRASE, pair, q.slop + 1) for pair in zip(terms, terms[1:])]
    return Q(Q.OP_FILTER, Q(Q.OP_PHRASE, terms, (len(terms) - 1) * q.slop + 1),
             Q(Q.OP_AND, pairs))


def _dates(q: wq.DateRange) -> xapian.Query:
    """Articles printed from ``startdate`` to ``enddate``, both included (either open)."""
    low, high = (when.strftime(layout.DATE_FORMAT) if when else None
                 for when in (q.startdate, q.enddate))
    if low and high:
        return Q(Q.OP_VALUE_RANGE, layout.SLOT_DATE, low, high)
    if low:
        return Q(Q.OP_VALUE_GE, layout.SLOT_DATE, low)
    if high:
        return Q(Q.OP_VALUE_LE, layout.SLOT_DATE, high)
    return Q(Q.OP_VALUE_RANGE, layout.SLOT_DATED, "1", "1")  # every dated article


class Searcher(Words):
    """A Xapian database read as spelling corrections (:mod:`indexer.spelling`) and
    suggestions as you type (:mod:`indexer.suggest`) read a Whoosh searcher: its words
    (:class:`Words`), its best articles for a query and how many articles match one."""

    def _enquire(self, query: wq.Query) -> xapian.Enquire:
        enquire = xapian.Enquire(self.db)
        enquire.set_query(to_xapian(query, self.db))
        enquire.set_weighting_scheme(weighting())
        return enquire

    def search(self, query: wq.Query, limit: int = 10) -> list[dict]:
        """The stored fields of the ``limit`` best articles for ``query``, best first."""
        return [layout.stored(match.document)
                for match in self._enquire(query).get_mset(0, limit)]

    def count(self, query: wq.Query) -> int:
        """How many articles match ``query`` (counted, not weighed)."""
        enquire = self._enquire(query)
        enquire.set_weighting_scheme(xapian.BoolWeight())
        return enquire.get_mset(0, 0, self.db.get_doccount()).get_matches_estimated()
