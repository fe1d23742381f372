"""Related stories: the archive's coverage an editor should read or link, for an article
of the archive or for a draft that is not in it.

Stories are compared by their term vectors (:mod:`indexer.vectors`: each word weighted by
its count in the story, the title counting three times and the lead twice, and by its
rarity in the archive). The text's vector finds the most similar stories; their mean is
added to it (pseudo-relevance feedback, as in Rocchio's method) and the
``FEEDBACK_TERMS`` strongest words of the sum find the candidates, so that a story told
in other words is found too. Candidates are re-ranked: nearer in time ranks a little
higher, and a story whose title is too like one already listed gives way (maximal
marginal relevance), so the list is not five versions of one event. Near-duplicates of
the text itself are left out, and each cluster of near-duplicates is listed once. Each
story says why: the names (capitalised phrases) and key words it shares with the text.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import numpy as np
from whoosh.query import Or, Term

from . import vectors
from .duplicates import JACCARD, signature
from .schema import SCHEMA

FEEDBACK_DOCS = 40  # most similar stories whose mean is added to the text's vector
FEEDBACK_WEIGHT = 1.0
FEEDBACK_TERMS = 200
CANDIDATES = 100  # stories looked at, best first,
CHOICE = 3  # until there are this many times the stories to list
KEY_TERMS = 25  # the text's words shown as reasons
KEY_PHRASES = 8
MIN_SHARED = 2  # key words a related story has in common with the text, or one name
RECENCY_DAYS = 365  # nearness in time counts over about this span
DIVERSITY = 0.3  # weight of a story's likeness to those listed before it
MAX_TEXT_CHARS = 200_000
_NAME = re.compile(r"[A-Z][\w'’.-]*(?:\s+(?:(?:of|the|for|and|de|van|von|al)\s+)?"
                   r"[A-Z][\w'’.-]*)+")


class TextError(ValueError):
    """The text of a draft cannot be used (empty, or too long)."""


@dataclass
class RelatedStory:
    id: str
    title: str
    published: str
    source: str
    url: str
    score: float
    reason: str  # the key words and names it shares with the text
    copies: int = 1  # near-duplicates it stands for


@dataclass
class RelatedList:
    """Stories related to an article or a draft, best first. ``before`` is the ISO
    date they were all published before ("" when later stories are included)."""

    stories: list[RelatedStory] = field(default_factory=list)
    before: str = ""
    terms: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def check_text(text: str) -> str:
    """The text of a draft, or TextError saying why it cannot be used."""
    text = (text or "").strip()
    if not text:
        raise TextError("the text is empty: paste the draft's text")
    if len(text) > MAX_TEXT_CHARS:
        raise TextError(f"the text is {len(text):,} characters long; the limit is "
                        f"{MAX_TEXT_CHARS:,}")
    return text


def _names(title: str, body: str) -> list[str]:
    """The text's names, capitalised runs of two to four words, most used first (an
    all-capitals headline has none to tell)."""
    named = (body,) if title.isupper() else (title, body)
    names = Counter(name for text in named for name in _NAME.findall(text)
                    if len(name.split()) <= 4)
    return [name for name, _ in names.most_common(KEY_PHRASES)]


def _best(scores: np.ndarray, n: int) -> np.ndarray:
    """The positions of the ``n`` highest positive ``scores``, highest first."""
    n = min(n, int(np.count_nonzero(scores > 0)))
    if n == 0:
        return np.empty(0, dtype=np.int64)
    best = np.argpartition(-scores, n - 1)[:n]
    return best[np.argsort(-scores[best], kind="stable")]


def _allowed(searcher, matrix: vectors.Matrix, before: datetime | None,
             exclude: tuple[str, str]) -> np.ndarray:
    """Which articles may be listed: published before ``before`` (when given), and
    neither the text itself nor in its cluster."""
    allowed = np.ones(matrix.doc_count, dtype=bool)
    if before is not None:
        end = before.astimezone(timezone.utc).replace(tzinfo=None)
        allowed &= matrix.published < SCHEMA["published"].to_column_value(end)
    doc_id, cluster = exclude
    if doc_id:
        mine = Or([Term("id", doc_id)] + ([Term("cluster", cluster)] if cluster else []))
        allowed[list(searcher.docs_for_query(mine))] = False
    return allowed


def find(searcher, title: str, body: str, published: datetime | None = None,
         before: datetime | None = None, exclude: tuple[str, str] = ("", ""),
         limit: int = 10) -> RelatedList:
    """Stories related to the text (``title`` and ``body``), published before
    ``before`` when it is given; ``exclude`` names the (id, cluster) of the text itself
    when it is an article of the archive."""
    matrix = vectors.matrix(searcher.reader())
    written: dict[str, Counter] = {}
    counts = vectors.term_counts(title, body, written)
    terms, weights = matrix.vector(counts, in_archive=bool(exclude[0]))
    key = terms[np.argsort(-weights, kind="stable")[:KEY_TERMS]].tolist()
    by_hash = {vectors.term_hash(stem): forms for stem, forms in written.items()}
    shown = {term: by_hash[int(matrix.hashes[term])].most_common(1)[0][0] for term in key}
    names = _names(title, body)
    result = RelatedList(before=before.isoformat() if before else "",
                         terms=([f"“{name}”" for name in names] + list(shown.values()))[:12])
    if not len(terms):
        return result
    allowed = _allowed(searcher, matrix, before, exclude)
    first = matrix.scores(terms, weights) * allowed
    feedback_terms, feedback = matrix.centroid(_best(first, FEEDBACK_DOCS))
    total = np.zeros(len(matrix.hashes))
    total[terms] += weights
    total[feedback_terms] += FEEDBACK_WEIGHT * feedback
    strongest = _best(total, FEEDBACK_TERMS)
    scores = matrix.scores(strongest, total[strongest]) * allowed
    own = signature(body or title)
    signatures = searcher.reader().column_reader("minhash")
    candidates: dict[str, dict] = {}  # by cluster, best first
    for docnum in _best(scores, CANDIDATES).tolist():
        if len(candidates) == CHOICE * limit:
            break
        data = signatures[docnum]
        if own is not None and data and \
                np.mean(np.frombuffer(data, dtype=np.uint32) == own) >= JACCARD:
            continue  # the same story as the text, with small edits
        stored = searcher.stored_fields(docnum)
        cluster = stored.get("cluster") or stored["id"]
        if cluster in candidates:
            candidates[cluster]["copies"] += 1
            continue
        common = set(matrix.row(docnum)[0].tolist())
        reasons = shared_with(stored, names, [shown[term] for term in key if term in common])
        if reasons:
            candidates[cluster] = dict(stored=stored, score=float(scores[docnum]), copies=1,
                                       shared=reasons)
    result.stories = _rerank(list(candidates.values()), published, limit)
    return result


def shared_with(stored: dict, names: list[str], words: list[str]) -> list[str]:
    """What a candidate (its ``stored`` fields) shares with the text: those of its
    ``names`` it has, quoted, then the key ``words`` it has; none (it is no related
    story) when that is a single word, since one word in common is chance."""
    text = f"{stored.get('title', '')}\n{stored.get('body', '')}"
    shared = [f"“{name}”" for name in names if name in text]
    return shared + words if len(words) >= MIN_SHARED or shared else []


def _rerank(candidates: list[dict], published: datetime | None, limit: int):
    """Order by relevance, nearness in time and novelty (maximal marginal relevance)."""
    if not candidates:
        return []
    top = max(c["score"] for c in candidates)
    for candidate in candidates:
        relevance = candidate["score"] / top
        date = candidate["stored"].get("published_iso")
        if published and date:
            days = abs((datetime.fromisoformat(date) - published).total_seconds()) / 86400
            relevance *= 0.8 + 0.2 * math.exp(-days / RECENCY_DAYS)
        candidate["relevance"] = relevance
        candidate["title_words"] = {stem for stem, _ in vectors.words(
            candidate["stored"].get("title", ""))}
    listed: list[dict] = []
    while candidates and len(listed) < limit:
        def value(candidate):
            likeness = max((_jaccard(candidate["title_words"], other["title_words"])
                            for other in listed), default=0.0)
            return candidate["relevance"] - DIVERSITY * likeness

        best = max(candidates, key=value)
        candidates.remove(best)
        listed.append(best)
    return [RelatedStory(
        id=c["stored"]["id"], title=c["stored"].get("title", ""),
        published=c["stored"].get("published_iso", ""), source=c["stored"].get("source", ""),
        url=c["stored"].get("url", ""), score=round(c["relevance"], 4),
        reason="Shares " + ", ".join(c["shared"][:4]) if c["shared"] else "",
        copies=c["copies"]) for c in listed]


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0
