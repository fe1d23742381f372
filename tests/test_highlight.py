"""Snippets are Whoosh's own: the fragments morgue makes from the words near the
matched ones are those Whoosh's highlighter makes from every word of the text."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import highlight as whoosh_highlight

from conftest import reuters_records
from indexer.analysis import FoldingTokenizer, folded_words
from indexer.highlight import (SNIPPET_CHARS, SNIPPET_FRAGMENTS, MarkFormatter, QueryTerms,
                               _fragments)
from indexer.query import parse_query


def whooshs_own(text: str, terms: QueryTerms, chars: int) -> str:
    return whoosh_highlight.highlight(
        text, terms.matching(text), FoldingTokenizer(), _fragmenter(chars), MarkFormatter(),
        top=SNIPPET_FRAGMENTS)


def _fragmenter(chars: int):
    return whoosh_highlight.ContextFragmenter(maxchars=chars, surround=chars // 3)


def _same(text: str, query: str, chars: int = SNIPPET_CHARS) -> None:
    text = " ".join(text.split())
    terms = QueryTerms(parse_query(query).query, "body")
    assert _fragments(text, terms, _fragmenter(chars)) == whooshs_own(text, terms, chars), \
        (query, text[:200])


def test_real_stories_for_their_own_words_common_and_rare():
    pick = random.Random(5)
    stories = [r["body"] for r in reuters_records(400)]
    for body in stories:
        words = sorted(set(folded_words(body)))
        if not words:
            continue
        for count in (1, 2, 3, 6):
            _same(body, " OR ".join(pick.sample(words, min(count, len(words)))))
        _same(body, "the OR said OR mln")  # words found all over a story
    _same(" ".join(stories[:20]), "oil OR price OR rate")  # a long text


def test_a_long_word_after_a_fragment_clears_the_context_before_the_next_match():
    _same("a oil" + " a" * 12 + " " + "x" * 50 + " oil a", "oil", chars=20)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["oil", "Oil's", "price", "a", "of", "the", "x" * 50,
                                 "U.S.", "1.5", "-", "...", "—", ",", ". ", "!!", " " * 3,
                                 "é", "word"]), max_size=120),
       st.sets(st.sampled_from(["oil", "price", "us", "word", "the", "u.s"]), min_size=1),
       st.sampled_from([SNIPPET_CHARS, 20, 7]))
def test_any_text_of_any_words_at_any_width(pieces, words, chars):
    _same(" ".join(pieces), " OR ".join(sorted(words)), chars)
