"""Suggestions while a query is typed: its last word completed from the archive's
vocabulary, and the titles of articles that match what has been typed.

The archive is read through a Whoosh searcher, or a Xapian database's
:class:`indexer.shards.translate.Searcher` (the same completions; titles in the order
of its own ranking).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from itertools import islice

from whoosh import query as wq
from whoosh.searching import Searcher

from .schema import EXACT

MAX_TEXT = 200  # longer input is not a query being typed: no suggestions
MIN_PREFIX = 2  # letters of the last word before it is completed
SCAN = 3000  # words under a prefix looked at, in alphabetical order
CANDIDATES = 20  # the most frequent of those, counted against the words before them
_TAIL = re.compile(r"(\w+)$")
_SYNTAX = re.compile(r"\w+:|\b(?:AND|OR|NOT|TO)\b")  # field names and operators


@dataclass
class Suggestion:
    """A completed query (``kind`` "query"), or the title of an article ("article")."""

    text: str
    kind: str
    id: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _words(text: str) -> list[str]:
    """The words of ``text`` as indexed, query syntax left out."""
    return [token.text for token in EXACT(_SYNTAX.sub(" ", text))]


def _context(words: list[str]):
    """The query for articles with all of ``words`` in the title or the body."""
    return wq.And([wq.Or([wq.Term("title_exact", w), wq.Term("body_exact", w)])
                   for w in words])


def _together(reader, word: str, frequency: int, docs: list[int]) -> int:
    """How many of the articles ``docs`` (ascending) have ``word``: by walking the
    shorter of the two lists, skipping through the other's postings."""
    postings = reader.postings("body_exact", word)
    if frequency <= len(docs):
        wanted = set(docs)
        return sum(1 for doc in postings.all_ids() if doc in wanted)
    count = 0
    for doc in docs:
        if postings.id() < doc:
            postings.skip_to(doc)
        if not postings.is_active():
            break
        count += postings.id() == doc
    return count


def _completions(searcher, head: str, context: list[str], prefix: str, limit: int):
    """``head`` followed by the words beginning ``prefix`` that the most articles have
    together with the ``context`` words."""
    reader = searcher.reader()
    scanned = islice(reader.iter_prefix("body_exact", prefix), SCAN)
    frequent = sorted(((info.doc_frequency(), text.decode("utf-8")) for text, info in scanned),
                      reverse=True)[:CANDIDATES]
    if context:
        frequent = sorted(zip(_counts_with(searcher, context, frequent),
                              [word for _, word in frequent]), reverse=True)
    return [(head + word, word) for count, word in frequent[:limit] if count]


def _counts_with(searcher, context: list[str], frequent) -> list[int]:
    """How many of the articles with all the ``context`` words have each word of
    ``frequent`` ((articles, word) pairs)."""
    if not isinstance(searcher, Searcher):  # a Xapian database's, which counts itself
        return [searcher.count(wq.And([_context(context), wq.Term("body_exact", word)]))
                for _, word in frequent]
    reader = searcher.reader()
    docs = sorted(searcher.docs_for_query(_context(context)))
    return [_together(reader, word, count, docs) for count, word in frequent]


def _titles(searcher, context: list[str], words: list[str], limit: int):
    """Titles (one of each) of the best articles whose title has the ``context`` words
    and, when there are ``words``, one of them."""
    terms = [wq.Term("title_exact", w) for w in context]
    if words:
        terms.append(wq.Or([wq.Term("title_exact", w) for w in words]))
    if not terms:
        return []
    seen, found = set(), []
    for hit in searcher.search(wq.And(terms), limit=limit * 4):
        title = hit.get("title", "")
        if title and title.casefold() not in seen:
            seen.add(title.casefold())
            found.append(Suggestion(title, "article", hit["id"]))
    return found[:limit]


def suggest(searcher, text: str, words: int = 6, titles: int = 4) -> list[Suggestion]:
    """Completions of the last word of ``text`` (unless it ends with a space), then
    titles of articles with the words before it and one of the completions."""
    if not text.strip() or len(text) > MAX_TEXT:
        return []
    tail = _TAIL.search(text)
    typed = _words(tail.group(1)) if tail else []
    prefix = typed[-1] if len(typed) == 1 and len(typed[0]) >= MIN_PREFIX else ""
    head = text[:tail.start()] if tail else text
    context = _words(head)
    if not prefix:
        return _titles(searcher, context, [], titles)
    completed = _completions(searcher, head, context, prefix, words)
    return ([Suggestion(query, "query") for query, _ in completed]
            + _titles(searcher, context, [word for _, word in completed], titles))
