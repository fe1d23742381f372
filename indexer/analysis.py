"""Analysis: how text becomes index terms, for both articles and queries.

The analyzers below are what queries, highlighting and related stories use; indexing
gets the same terms faster from :func:`folded_words` and :func:`stemmed_words`, one pass
over a text shared by its stemmed and exact fields and its near-duplicate signature.
"""

from __future__ import annotations

import re
from functools import lru_cache

from whoosh.analysis import CharsetFilter, Filter, LowercaseFilter, RegexTokenizer, StopFilter
from whoosh.lang.porter import stem
from whoosh.support.charset import accent_map

# Words are runs of letters and digits, joined by inner apostrophes or dots as in
# "Japan's" or "U.S."; hyphens separate words ("Japan-U.S." is "japan", "u.s").
TOKEN_PATTERN = r"\w+(?:[.'’]\w+)*"
_POSSESSIVE = re.compile(r"['’]s$")
_TOKEN = re.compile(TOKEN_PATTERN)
_STOP = StopFilter()


@lru_cache(maxsize=200_000)
def stem_word(word: str) -> str:
    """The Porter stem of a folded word; abbreviations and numbers with inner dots
    ("u.s", "3.5") are left as they are, since the stemmer would mangle them."""
    return word if "." in word else stem(word)


class PossessiveFilter(Filter):
    """Drop a possessive ending: "japan's" is indexed as "japan"."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = _POSSESSIVE.sub("", token.text)
            yield token


class StemWords(Filter):
    """Replace each word by its stem (see :func:`stem_word`)."""

    is_morph = True

    def __call__(self, tokens):
        for token in tokens:
            if not token.stopped:
                token.text = stem_word(token.text)
            yield token


def exact_analyzer():
    """Case- and accent-folded words, unstemmed and with stop words kept: for phrases."""
    return (RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | CharsetFilter(accent_map)
            | PossessiveFilter())


def stemming_analyzer():
    """Folded words with English stop words removed and the rest stemmed: for ranking."""
    return exact_analyzer() | StopFilter() | StemWords()


def _fold(word: str) -> str:
    word = word.lower() if word.isascii() else word.lower().translate(accent_map)
    return word[:-2] if word.endswith(("'s", "’s")) else word


class FoldingTokenizer(RegexTokenizer):
    """:func:`exact_analyzer` in one stage: the same tokens, sooner (for highlighting)."""

    def __init__(self):
        super().__init__(TOKEN_PATTERN)

    def __call__(self, value, **options):
        for token in super().__call__(value, **options):
            token.text = _fold(token.text)
            yield token


def folded_words(text: str) -> list[str]:
    """The words of ``text`` as :func:`exact_analyzer` gives them, in order (a word's
    position is its index)."""
    return [_fold(word) for word in _TOKEN.findall(text)]


def word_count(text: str) -> int:
    """The number of words :func:`folded_words` finds in ``text``."""
    return len(_TOKEN.findall(text))


def word_spans(text: str) -> tuple[list[str], list[int], list[int]]:
    """The words of ``text`` as :func:`folded_words` gives them, and where each starts
    and ends in it."""
    found = list(_TOKEN.finditer(text))
    return ([_fold(match.group()) for match in found], [match.start() for match in found],
            [match.end() for match in found])


def stemmed_words(words: list[str]) -> list[tuple[int, str]]:
    """(position, term) of each word of ``folded_words`` that :func:`stemming_analyzer`
    keeps: stop words and one-letter words dropped, the rest stemmed and numbered on from
    the first one kept."""
    kept = [(i, stem_word(w)) for i, w in enumerate(words)
            if len(w) >= _STOP.min and w not in _STOP.stops]
    return [(kept[0][0] + n, term) for n, (_, term) in enumerate(kept)]
