"""Related stories over the shards, by Xapian's relevance feedback.

The text's words (:func:`indexer.vectors.term_counts`: the title counting three times,
the lead twice) find the most similar stories; Xapian's expand set over them (with
exact term frequencies across shards) adds the words those stories share, as in
Rocchio's method, and the widened query finds the candidates, one per cluster of
near-duplicates. They are checked, explained and re-ranked as on the Whoosh backend
(:mod:`indexer.related`): the same names and key words shared, nearness in time,
novelty.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

import xapian

from .. import vectors
from ..duplicates import JACCARD, signature
from ..related import (CANDIDATES, CHOICE, KEY_TERMS, RelatedList, _names, _rerank,
                       shared_with)
from . import layout
from .translate import weighting

Q = xapian.Query
QUERY_TERMS = 100  # the text's strongest words searched
FEEDBACK_DOCS = 10  # the most similar stories the expand set is drawn from
FEEDBACK_TERMS = 40  # words the expand set adds
FEEDBACK_WEIGHT = 0.5  # their weight, beside the text's own words
_STEMMED = layout.PREFIXES["body"].encode("utf-8")


class _BodyStems(xapian.ExpandDecider):
    """Only stemmed words of the body go into the expand set."""

    def __call__(self, term: bytes) -> bool:
        return term.startswith(_STEMMED) and term[len(_STEMMED):][:1].islower()


def _weighted(terms: dict[str, float]) -> xapian.Query:
    return Q(Q.OP_OR, [Q(Q.OP_SCALE_WEIGHT, Q(term), weight)
                       for term, weight in terms.items()])


def _allowed(query: xapian.Query, before: datetime | None,
             exclude: tuple[str, str]) -> xapian.Query:
    """``query`` restricted to what may be listed: published before ``before`` (when
    given), and neither the text itself nor in its cluster."""
    if before is not None:
        end = xapian.sortable_serialise(before.astimezone(timezone.utc).timestamp())
        query = Q(Q.OP_FILTER, query, Q(Q.OP_VALUE_RANGE, layout.SLOT_DATED, "1", "1"))
        query = Q(Q.OP_AND_NOT, query, Q(Q.OP_VALUE_GE, layout.SLOT_PUBLISHED, end))
    doc_id, cluster = exclude
    mine = [layout.term("id", doc_id)] if doc_id else []
    if cluster:
        mine.append(layout.term("cluster", cluster))
    return Q(Q.OP_AND_NOT, query, Q(Q.OP_OR, mine)) if mine else query


def find(db: xapian.Database, title: str, body: str, published: datetime | None = None,
         before: datetime | None = None, exclude: tuple[str, str] = ("", ""),
         limit: int = 10) -> RelatedList:
    """Stories of ``db`` related to the text (``title`` and ``body``), published before
    ``before`` when it is given; ``exclude`` names the (id, cluster) of the text itself
    when it is an article of the archive."""
    written: dict = {}
    counts = vectors.term_counts(title, body, written)
    total = db.get_doccount() or 1
    weights = {}
    for stem, count in counts.items():
        articles = db.get_termfreq(layout.term("body", stem))
        if 0 < articles <= total / 2 or total < 200:
            weights[stem] = (1 + math.log(count)) * math.log(1 + total / max(articles, 1))
    strongest = sorted(weights, key=lambda stem: -weights[stem])
    key = strongest[:KEY_TERMS]
    shown = {stem: written[stem].most_common(1)[0][0] for stem in key}
    names = _names(title, body)
    result = RelatedList(before=before.isoformat() if before else "",
                         terms=([f"“{name}”" for name in names] + list(shown.values()))[:12])
    if not strongest:
        return result
    top = weights[strongest[0]]
    own = {layout.term("body", stem): weights[stem] / top for stem in strongest[:QUERY_TERMS]}
    enquire = xapian.Enquire(db)
    enquire.set_weighting_scheme(weighting())
    enquire.set_query(_allowed(_weighted(own), before, exclude))
    feedback = xapian.RSet()
    for item in enquire.get_mset(0, FEEDBACK_DOCS):
        feedback.add_document(item.docid)
    widened = dict(own)
    if not feedback.empty():
        expand = enquire.get_eset(FEEDBACK_TERMS, feedback, xapian.Enquire.USE_EXACT_TERMFREQ,
                                  _BodyStems())
        best = max((item.weight for item in expand), default=1.0) or 1.0
        for item in expand:
            widened[item.term.decode("utf-8")] = (own.get(item.term.decode("utf-8"), 0)
                                                  + FEEDBACK_WEIGHT * item.weight / best)
    enquire.set_query(_allowed(_weighted(widened), before, exclude))
    enquire.set_collapse_key(layout.SLOT_CLUSTER)
    mine = signature(body or title)
    candidates = []
    for item in enquire.get_mset(0, CANDIDATES):
        if len(candidates) == CHOICE * limit:
            break
        stored = layout.stored(item.document)
        text = f"{stored.get('title', '')}\n{stored.get('body', '')}"
        theirs = signature(stored.get("body") or stored.get("title", ""))
        if mine is not None and theirs is not None and (mine == theirs).mean() >= JACCARD:
            continue  # the same story as the text, with small edits
        common = {stem for stem, _ in vectors.words(text)}
        reasons = shared_with(stored, names, [shown[stem] for stem in key if stem in common])
        if reasons:
            candidates.append(dict(stored=stored, score=item.weight,
                                   copies=item.collapse_count + 1, shared=reasons))
    result.stories = _rerank(candidates, published, limit)
    return result
