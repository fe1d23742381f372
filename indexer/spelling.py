""""Did you mean": spelling corrections drawn from the index's own vocabulary.

The index is read through a Whoosh searcher, or a Xapian database's
:class:`indexer.shards.translate.Searcher`, which lists the same words with the same
frequencies: both give the same corrections.
"""

from __future__ import annotations

import re
from itertools import islice, product

from rapidfuzz import process
from rapidfuzz.distance import OSA
from whoosh.reading import IndexReader

from . import segments
from .schema import EXACT, EXACT_TWIN

_WORD = re.compile(r"(?<![\w~*?-])([^\W\d_]{3,})(?![\w:~*?])")
_OPERATORS = {"AND", "OR", "NOT", "TO"}
_VOCABULARY = tuple(EXACT_TWIN.values())  # unstemmed words, as written in the articles
KNOWN = 3  # a word in this many articles is taken as spelt right
MORE_COMMON = 5  # a correction must be in this many times more articles than the word
CANDIDATES = 5  # corrections considered per word
NEAREST = 20  # words within two edits looked at per word, the most frequent
MAX_EDITS = 2

_vocabularies = segments.Kept()


def _vocabulary(leaf) -> dict[str, list[str]]:
    """The words of a segment's article text as written, by their first letter."""
    def read():
        words: dict[str, list[str]] = {}
        for word in leaf.lexicon("body_exact"):
            word = word.decode("utf-8")
            words.setdefault(word[0], []).append(word)
        return words
    return _vocabularies.get(segments.key(leaf), read)


def read_vocabulary(reader) -> None:
    """Read the vocabulary of every segment of ``reader`` now, rather than when the
    first correction is looked for."""
    for leaf, _ in segments.leaves(reader):
        _vocabulary(leaf)


def _word_lists(reader, letter: str) -> list:
    """Lists of the words of the articles beginning with ``letter``: one per segment of
    a Whoosh index (kept from one search to the next), or one of a Xapian database's."""
    if isinstance(reader, IndexReader):
        return [_vocabulary(leaf).get(letter, ()) for leaf, _ in segments.leaves(reader)]
    return [reader.vocabulary(letter)]


def _nearest(reader, word: str) -> list[str]:
    """The NEAREST most frequent words of the articles within MAX_EDITS of ``word`` (a
    swap of neighbours counting as one), with the same first letter."""
    found = set()
    for words in _word_lists(reader, word[0]):
        found.update(match for match, _, _ in process.extract_iter(
            word, words, scorer=OSA.distance, score_cutoff=MAX_EDITS))
    found.discard(word)
    return sorted(found, key=lambda w: (-reader.frequency("body_exact", w), w))[:NEAREST]


def _frequency(reader, word: str) -> int:
    return sum(reader.doc_frequency(field, word) for field in _VOCABULARY)


def _candidates(searcher, word: str, known: int) -> list[tuple[str, float]]:
    """(correction, edits) for ``word`` if it is in fewer than ``known`` articles:
    indexed words within two edits (a swap of neighbours counting as one, a correction
    shorter than the word half an edit more; first letter kept) that are in many more
    articles than ``word`` (or in any, when it is in none); the fewest edits first, then
    the most frequent."""
    folded = " ".join(token.text for token in EXACT(word))
    if not folded or " " in folded or word in _OPERATORS:
        return []
    reader = searcher.reader()
    seen = _frequency(reader, folded)
    if seen >= known:
        return []
    found = {}
    for candidate in _nearest(reader, folded):
        frequency = _frequency(reader, candidate)
        if frequency >= (MORE_COMMON * seen or 1):
            # A letter typed too many is rarer than one left out: it costs more.
            edits = OSA.distance(folded, candidate) + 0.5 * (len(candidate) < len(folded))
            found[candidate] = (edits, -frequency)
    return [(c, found[c][0]) for c in sorted(found, key=found.get)[:CANDIDATES]]


def corrections(searcher, text: str, known: int = KNOWN,
                limit: int = 10) -> list[tuple[str, float]]:
    """(``text`` with its misspelt words corrected, edits made), the fewest edits first,
    at most ``limit``. A word in ``known`` articles or more is taken as spelt right;
    field names, operators, patterns (``word*``, ``word~``) and numbers are left alone."""
    matches = list(_WORD.finditer(text))
    options = [_candidates(searcher, m.group(1), known) or [(m.group(1), 0)] for m in matches]
    if not any(edits for option in options for _, edits in option):
        return []
    found = []
    for choice in islice(product(*options), limit * 4):
        parts, end = [], 0
        for match, (word, _) in zip(matches, choice):
            parts += [text[end:match.start(1)], word]
            end = match.end(1)
        found.append(("".join(parts) + text[end:], sum(edits for _, edits in choice)))
    return sorted(found, key=lambda item: item[1])[:limit]


def suggest(searcher, text: str) -> str | None:
    """The likeliest correction of ``text``, or None."""
    found = corrections(searcher, text)
    return found[0][0] if found else None
