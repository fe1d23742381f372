"""Analysis: how text becomes index terms, for both articles and queries."""

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
