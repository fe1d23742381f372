"""Analysis: how text becomes index terms, for both articles and queries.

The analyzers below are what queries, highlighting and related stories use; indexing
gets the same terms faster as numbers from a :class:`Lexicon`, one pass over a text
shared by its stemmed and exact fields, its term vector and its near-duplicate signature
(the sharded backend from :func:`folded_words` and :func:`stemmed_words`).
"""

from __future__ import annotations

import re
import zlib
from array import array
from functools import lru_cache

import numpy as np
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


def term_hash(term: str) -> int:
    """A term's 32-bit hash, the CRC-32 of its UTF-8: what term vectors keep of a stem,
    and near-duplicate signatures of a word."""
    return zlib.crc32(term.encode("utf-8"))


class _Numbers(dict):
    """Numbers of words, each given ``number(word)`` on first sight."""

    def __init__(self, number):
        super().__init__()
        self.number = number

    def __missing__(self, word: str) -> int:
        number = self[word] = self.number(word)
        return number


class Lexicon:
    """The terms one indexing process has met, numbered: :meth:`words` gives the term
    number of each word of a text, as :func:`folded_words` would give the word,
    :attr:`stems` the number of the stemmed term of each (-1 for a word
    :func:`stemmed_words` drops), and :attr:`hashes` its :func:`term_hash`
    (:attr:`stem_hashes` of each stem). Each distinct word is folded, stemmed and hashed
    once; the words of a text are numbered at the speed of a dictionary lookup."""

    def __init__(self):
        self.words_as_written = _Numbers(lambda written: self.number(_fold(written)))
        self.folded: list[str] = []  # each term number's folded word
        self.exact: list[bytes] = []  # the same, encoded
        self.stemmed: list[bytes] = []  # each stem number's stem, encoded
        self._exact_numbers = _Numbers(self._new)
        self._stem_numbers: dict[str, int] = {}
        self._stems = np.empty(1024, np.int32)
        self._hashes = np.empty(1024, np.uint32)
        self.stem_hashes = array("I")

    @property
    def stems(self) -> np.ndarray:
        """The stem number of each term number (-1 for a stop or one-letter word)."""
        return self._stems[:len(self.exact)]

    @property
    def hashes(self) -> np.ndarray:
        """The :func:`term_hash` of each term number's folded word."""
        return self._hashes[:len(self.exact)]

    def number(self, word: str) -> int:
        """The term number of the folded ``word``, numbering it if new."""
        return self._exact_numbers[word]

    def numbers(self, words: list[str]) -> np.ndarray:
        """The term number of each folded word, numbering those new."""
        return np.fromiter(map(self._exact_numbers.__getitem__, words), np.int32, len(words))

    def _new(self, word: str) -> int:
        number = len(self.exact)
        self.folded.append(word)
        self.exact.append(word.encode("utf-8"))
        if number == len(self._stems):
            self._stems, self._hashes = (np.concatenate([a, np.empty_like(a)])
                                         for a in (self._stems, self._hashes))
        self._hashes[number] = term_hash(word)
        self._stems[number] = (-1 if len(word) < _STOP.min or word in _STOP.stops
                               else self._stem_number(stem_word(word)))
        return number

    def _stem_number(self, stem: str) -> int:
        number = self._stem_numbers.get(stem)
        if number is None:
            number = self._stem_numbers[stem] = len(self.stemmed)
            self.stemmed.append(stem.encode("utf-8"))
            self.stem_hashes.append(term_hash(stem))
        return number

    def words(self, text: str) -> np.ndarray:
        """The term number of each word of ``text``, in order."""
        found = _TOKEN.findall(text)
        return np.fromiter(map(self.words_as_written.__getitem__, found), np.int32, len(found))
