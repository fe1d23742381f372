"""Related stories: the archive's coverage an editor should read or link, for an article
of the archive or for a draft that is not in it.

The query is made of the text's most distinctive words (their frequency in the text,
the title counting three times and the lead twice, times their rarity in the archive)
and of the names and other capitalised phrases it uses, kept together as phrases.
Candidates are ranked by BM25F, then re-ranked: nearer in time ranks a little higher,
and a story whose title is too like one already listed gives way (maximal marginal
relevance), so the list is not five versions of one event. Near-duplicates of the text
itself are left out, and each cluster of near-duplicates is listed once.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
from whoosh import query as wq
from whoosh.analysis import STOP_WORDS

from .analysis import stem_word
from .duplicates import JACCARD, signature
from .schema import EXACT

KEY_TERMS = 25
TITLE_TERMS = 8  # the key words also looked for in titles
KEY_PHRASES = 8
CANDIDATES = 100
COMMON = 0.05  # a word in more than this share of the archive (and 100 articles) is no key
TITLE_WEIGHT, LEAD_WEIGHT = 3, 2
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


def _words(text: str):
    """(stem, word as written) of each indexed word of ``text``."""
    for token in EXACT(text):
        if len(token.text) >= 2 and token.text not in STOP_WORDS:
            yield stem_word(token.text), token.text


def _query(searcher, title: str, body: str) -> tuple[wq.Query, dict[str, str], list[str]]:
    """The query of the text's key words and phrases, how each key (a stem, or the
    words of a phrase) is shown, and the keys as shown, names first."""
    lead, _, rest = body.partition("\n\n")
    counts: Counter = Counter()
    written: dict[str, Counter] = {}
    for text, weight in ((title, TITLE_WEIGHT), (lead, LEAD_WEIGHT), (rest, 1)):
        for stem, word in _words(text):
            counts[stem] += weight
            written.setdefault(stem, Counter())[word] += 1
    docs = max(searcher.doc_count(), 1)

    def rarity(stem: str) -> float:
        """The stem's idf; none for a stem in no article or in too many to tell."""
        found = searcher.doc_frequency("body", stem)
        return math.log(1 + docs / found) if 0 < found <= max(docs * COMMON, 100) else 0.0

    weights = {stem: (1 + math.log(count)) * rarity(stem) for stem, count in counts.items()}
    terms = [s for s in sorted(weights, key=weights.get, reverse=True)
             if weights[s] > 0 and any(c.isalpha() for c in s)][:KEY_TERMS]
    # Names are capitalised runs of words; an all-capitals headline has none to tell.
    named = (body,) if title.isupper() else (title, body)
    names = Counter(name for text in named for name in _NAME.findall(text)
                    if len(name.split()) <= 4)
    phrase_weights = {}
    for name, count in names.items():
        words = [token.text for token in EXACT(name)]
        stems = [stem_word(w) for w in words if w not in STOP_WORDS]
        if len(words) > 1 and stems:
            phrase_weights[tuple(words)] = (1 + math.log(count)) * sum(map(rarity, stems))
    phrases = sorted(phrase_weights, key=phrase_weights.get, reverse=True)[:KEY_PHRASES]
    top = max([weights[t] for t in terms] + [1e-9])
    clauses = [wq.Term("body", stem, boost=weights[stem] / top) for stem in terms]
    clauses += [wq.Term("title", stem, boost=2 * weights[stem] / top)
                for stem in terms[:TITLE_TERMS]]
    clauses += [wq.Phrase("body_exact", list(words), boost=phrase_weights[words] / top)
                for words in phrases]
    # What each key is shown as: names first, in quotes, then words as written.
    shown = {" ".join(words): f"“{' '.join(words)}”" for words in phrases}
    shown.update({stem: written[stem].most_common(1)[0][0] for stem in terms})
    return wq.Or(clauses), shown, list(shown.values())


def find(searcher, title: str, body: str, published: datetime | None = None,
         before: datetime | None = None, exclude: tuple[str, str] = ("", ""),
         limit: int = 10) -> RelatedList:
    """Stories related to the text (``title`` and ``body``), published before
    ``before`` when it is given; ``exclude`` names the (id, cluster) of the text itself
    when it is an article of the archive."""
    query, shown, order = _query(searcher, title, body)
    result = RelatedList(before=before.isoformat() if before else "", terms=order[:12])
    if not order:
        return result
    filter_ = None
    if before is not None:
        end = before.astimezone(timezone.utc).replace(tzinfo=None) - timedelta(microseconds=1)
        filter_ = wq.DateRange("published", None, end)
    hits = searcher.search(query, limit=CANDIDATES, filter=filter_, terms=True,
                           mask=wq.Or([wq.Term("id", exclude[0]),
                                       wq.Term("cluster", exclude[1])]) if exclude[0] else None)
    own = signature(body or title)
    signatures = searcher.reader().column_reader("minhash")
    candidates: dict[str, dict] = {}  # by cluster, best first
    for hit in hits:
        stored = hit.fields()
        data = signatures[hit.docnum]
        if own is not None and data and \
                np.mean(np.frombuffer(data, dtype=np.uint32) == own) >= JACCARD:
            continue  # the same story as the text, with small edits
        cluster = stored.get("cluster") or stored["id"]
        if cluster in candidates:
            candidates[cluster]["copies"] += 1
            continue
        matched = {text.decode() if isinstance(text, bytes) else text
                   for _, text in hit.matched_terms()}
        for words in (k for k in shown if " " in k):
            if set(words.split()) <= matched:
                matched.add(words)
        shared = [shown[key] for key in shown if key in matched]
        if len(shared) < MIN_SHARED and not any(" " in key for key in matched):
            continue  # one word in common is chance, not a relation
        candidates[cluster] = dict(stored=stored, score=hit.score, copies=1, shared=shared)
    result.stories = _rerank(list(candidates.values()), published, limit)
    return result


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
        candidate["title_words"] = {stem for stem, _ in _words(candidate["stored"].get(
            "title", ""))}
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
