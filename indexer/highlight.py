"""Highlighting query terms in article text: escaped HTML with ``<mark>`` around matches.

A word is marked when its stem matches a term the query looked for in a stemmed field,
or its folded form matches one looked for in an exact (phrase) field. Everything else
in the text is HTML-escaped, so the result is safe to insert into a page.
"""

from __future__ import annotations

from html import escape

import numpy as np
from whoosh import highlight
from whoosh.analysis import Token

from .analysis import FoldingTokenizer, folded_words, stem_word, word_spans
from .schema import EXACT_TWIN

SNIPPET_CHARS = 130  # words per fragment, counted in characters (spaces not included)
SNIPPET_FRAGMENTS = 2
WORDS = FoldingTokenizer()  # the words of a text, as the exact fields index them


class MarkFormatter(highlight.Formatter):
    """Escaped text with ``<mark>`` around each matched word."""

    between = " … "

    def _text(self, text):
        return escape(text, quote=False)

    def format_token(self, text, token, replace=False):
        return "<mark>" + escape(highlight.get_text(text, token, replace), quote=False) + "</mark>"


class QueryTerms:
    """The words of a query, as stems and as exact forms, for one stored field."""

    def __init__(self, query, fieldname: str):
        terms = query.iter_all_terms(phrases=True) if query is not None else ()
        twin = EXACT_TWIN.get(fieldname)
        self.stems, self.exact = set(), set()
        for field, text in terms:
            text = text.decode("utf-8") if isinstance(text, bytes) else text
            if field == fieldname:
                self.stems.add(text)
            elif field == twin:
                self.exact.add(text)

    def __bool__(self) -> bool:
        return bool(self.stems or self.exact)

    def matching(self, text: str) -> frozenset[str]:
        """The folded words of ``text`` that the query looks for."""
        return self.matching_words(set(folded_words(text)))

    def matching_words(self, words: set[str]) -> frozenset[str]:
        """Those of the folded ``words`` that the query looks for."""
        return frozenset(w for w in words if w in self.exact or stem_word(w) in self.stems)


def snippet(text: str, terms: QueryTerms, chars: int = SNIPPET_CHARS) -> str:
    """Up to two fragments of ``text`` around the query's words, in the order they
    come, as safe HTML on one line; the opening of the text when no word matches."""
    text = " ".join(text.split())
    if terms:
        found = _fragments(text, terms, highlight.ContextFragmenter(maxchars=chars,
                                                                  surround=chars // 3))
        if found:
            return found
    opening = text[:chars].rsplit(" ", 1)[0] if len(text) > chars else text
    return escape(opening, quote=False) + (" …" if len(text) > chars else "")


def _fragments(text: str, terms: QueryTerms, fragmenter: highlight.ContextFragmenter
               ) -> str:
    """What Whoosh's ``highlight`` makes of ``text`` with ``fragmenter``, given only the
    words that can be in one of its fragments: each matched word, the words before it
    that can open its fragment, and those after it that can be counted in it (the
    tests check that the fragments are the same as from every word)."""
    words, starts, ends = word_spans(text)
    wanted = terms.matching_words(set(words))
    if not wanted:
        return ""
    matched = np.fromiter((word in wanted for word in words), bool, len(words))
    starts, ends = np.array(starts, np.int64), np.array(ends, np.int64)
    tokens = [Token(text=words[n], startchar=int(starts[n]), endchar=int(ends[n]))
              for n in np.flatnonzero(_in_reach(starts, ends, matched, fragmenter.surround))]
    return highlight.highlight(text, wanted, lambda _text, **_: iter(tokens), fragmenter,
                               MarkFormatter(), top=SNIPPET_FRAGMENTS)


def _in_reach(starts, ends, matched, surround: int) -> np.ndarray:
    """Which words a ContextFragmenter can use: a matched word; the word just before
    it (which, longer than ``surround``, empties the context kept) and those starting at
    most ``surround`` characters before that one ends (the context it keeps before a
    match); the words after a matched one while the lengths of the words in between add
    up to less than twice ``surround`` (the most it counts down after a match)."""
    index = np.arange(len(starts))
    hits = np.flatnonzero(matched)
    # The first matched word at or after each word, and the last at or before it.
    following = hits[np.minimum(np.searchsorted(hits, index), len(hits) - 1)]
    previous = hits[np.maximum(np.searchsorted(hits, index, side="right") - 1, 0)]
    before = (following >= index) & (starts >= ends[np.maximum(following - 1, 0)] - surround)
    before[np.maximum(hits - 1, 0)] = True
    counted = np.cumsum(ends - starts)  # the lengths of the words up to each one
    after = (previous < index) & (counted[index - 1] - counted[previous] < 2 * surround)
    return before | after | matched


def mark_all(text: str, terms: QueryTerms) -> str:
    """All of ``text`` as safe HTML, every matched word in ``<mark>``."""
    if terms:
        found = highlight.highlight(text, terms.matching(text), WORDS,
                                    highlight.WholeFragmenter(), MarkFormatter())
        if found:
            return found
    return escape(text, quote=False)
