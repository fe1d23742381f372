""""Did you mean": spelling corrections drawn from the index's own vocabulary."""

from __future__ import annotations

import re

from .schema import EXACT, EXACT_TWIN

_WORD = re.compile(r"(?<![\w~*?-])([^\W\d_]{3,})(?![\w:~*?])")
_OPERATORS = {"AND", "OR", "NOT", "TO"}
_VOCABULARY = tuple(EXACT_TWIN.values())  # unstemmed words, as written in the articles
KNOWN = 3  # a word in this many articles is taken as spelt right
MORE_COMMON = 5  # a correction must be in this many times more articles than the word


def _frequency(reader, word: str) -> int:
    return sum(reader.doc_frequency(field, word) for field in _VOCABULARY)


def _correct(searcher, word: str) -> str | None:
    """The closest indexed word to a rare ``word`` (within two edits, first letter kept)
    that is in many more articles (or in any, when ``word`` is in none), or None."""
    folded = " ".join(token.text for token in EXACT(word))
    if not folded or " " in folded:
        return None
    reader = searcher.reader()
    seen = _frequency(reader, folded)
    if seen >= KNOWN:
        return None
    corrector = searcher.corrector("body_exact")
    # Whoosh ranks suggestions by frequency alone, so closer words are asked for first.
    for distance in (1, 2):
        for candidate in corrector.suggest(folded, limit=10, maxdist=distance, prefix=1):
            if _frequency(reader, candidate) >= (MORE_COMMON * seen or 1):
                return candidate
    return None


def suggest(searcher, text: str) -> str | None:
    """``text`` with its misspelt words corrected, or None when nothing changes.

    Field names, operators, patterns (``word*``, ``word~``) and numbers are left alone.
    """
    changed = False

    def replace(match):
        nonlocal changed
        word = match.group(1)
        if word in _OPERATORS:
            return word
        correction = _correct(searcher, word)
        if correction is None:
            return word
        changed = True
        return correction

    corrected = _WORD.sub(replace, text)
    return corrected if changed else None
