"""Highlighting query terms in article text: escaped HTML with ``<mark>`` around matches.

A word is marked when its stem matches a term the query looked for in a stemmed field,
or its folded form matches one looked for in an exact (phrase) field. Everything else
in the text is HTML-escaped, so the result is safe to insert into a page.
"""

from __future__ import annotations

from html import escape

from whoosh import highlight

from .analysis import FoldingTokenizer, folded_words, stem_word
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
        return frozenset(w for w in set(folded_words(text))
                         if w in self.exact or stem_word(w) in self.stems)


def snippet(text: str, terms: QueryTerms, chars: int = SNIPPET_CHARS) -> str:
    """Up to two fragments of ``text`` around the query's words, in the order they
    come, as safe HTML on one line; the opening of the text when no word matches."""
    text = " ".join(text.split())
    if terms:
        fragmenter = highlight.ContextFragmenter(maxchars=chars, surround=chars // 3)
        found = highlight.highlight(text, terms.matching(text), WORDS, fragmenter,
                                    MarkFormatter(), top=SNIPPET_FRAGMENTS)
        if found:
            return found
    opening = text[:chars].rsplit(" ", 1)[0] if len(text) > chars else text
    return escape(opening, quote=False) + (" …" if len(text) > chars else "")


def mark_all(text: str, terms: QueryTerms) -> str:
    """All of ``text`` as safe HTML, every matched word in ``<mark>``."""
    if terms:
        found = highlight.highlight(text, terms.matching(text), WORDS,
                                    highlight.WholeFragmenter(), MarkFormatter())
        if found:
            return found
    return escape(text, quote=False)
