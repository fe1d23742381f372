"""The vocabulary of a Xapian database (one shard or many combined), read as morgue reads
a Whoosh index's: the words of a field in order, with how many articles have each.

:class:`Words` has the few methods of a Whoosh index reader that looking up the words
of a pattern (:func:`indexer.query.bound_expansions`) and spelling corrections
(:mod:`indexer.spelling`) call, so that the same code serves both backends. Words come
from ``allterms()``, whose frequencies a combined database sums over its shards:
Xapian's own wildcards and spelling table are not used, as a remote shard expands a
wildcard on its own (with its own limit and frequencies) and serves no spelling table.
"""

from __future__ import annotations

from dataclasses import dataclass

import xapian
from rapidfuzz.distance import OSA
from whoosh.reading import IndexReader

from ..schema import SCHEMA
from ..segments import Kept
from . import layout

VOCABULARIES = 200  # word lists kept (one per first letter and version)


@dataclass(frozen=True)
class TermInfo:
    """What Whoosh's ``iter_prefix`` gives of a word besides its text."""

    articles: int

    def doc_frequency(self) -> int:
        return self.articles


_vocabularies = Kept(VOCABULARIES)  # the words beginning with each letter, by version


class Words:
    """The words of the fields of ``db``, as a Whoosh reader lists them; ``version``,
    when given, names what ``db`` holds (see :meth:`ShardSet.version`), so that word
    lists read from it are kept for the next search of the same version."""

    schema = SCHEMA

    def __init__(self, db: xapian.Database, version=None):
        self.db, self.version = db, version

    def vocabulary(self, letter: str) -> list[str]:
        """The words of the articles beginning with ``letter``, as written: read from
        every shard once per version (each search offering a spelling would read them
        over the network otherwise)."""
        def read():
            return [word.decode("utf-8") for word in self.expand_prefix("body_exact", letter)]
        return read() if self.version is None else _vocabularies.get((self.version, letter),
                                                                     read)

    def read_vocabulary(self) -> None:
        """Read every first letter's word list now, in one pass over the shards' words,
        rather than each when a correction first needs it."""
        by_letter: dict[str, list[str]] = {}
        for word in self.expand_prefix("body_exact", ""):
            word = word.decode("utf-8")
            by_letter.setdefault(word[0], []).append(word)
        for letter, words in by_letter.items():
            _vocabularies.keep((self.version, letter), words)

    def reader(self) -> "Words":
        """Itself: what spelling reads of a Whoosh searcher is its reader."""
        return self

    def _items(self, fieldname: str, start: bytes):
        """(word, articles) of the words of ``fieldname`` from ``start`` on, in order."""
        prefix = layout.PREFIXES.get(fieldname)
        if prefix is None:
            return
        prefix = prefix.encode("utf-8")
        terms = self.db.allterms(prefix)

        def skip_to(term):  # the first term from ``term`` on, or None
            try:
                return terms.skip_to(term)
            except StopIteration:
                return None

        item = skip_to(prefix + start) if start else next(terms, None)
        while item is not None:
            word = item.term[len(prefix):]
            # Another field's prefix goes on with a capital ("XT", "XTE"): skip it.
            if word[:1].isupper():
                item = skip_to(prefix + bytes([word[0] + 1]))
                continue
            yield word, item.termfreq
            item = next(terms, None)

    def terms_from(self, fieldname: str, start: bytes):
        for word, _ in self._items(fieldname, start):
            yield fieldname, word

    def iter_prefix(self, fieldname: str, prefix: str):
        prefix = prefix.encode("utf-8")
        for word, articles in self._items(fieldname, prefix):
            if not word.startswith(prefix):
                return
            yield word, TermInfo(articles)

    def doc_frequency(self, fieldname: str, text: str) -> int:
        """How many articles have the word ``text`` in ``fieldname``."""
        return self.db.get_termfreq(layout.term(fieldname, text))

    def frequency(self, fieldname: str, text: str) -> int:
        """How many times ``text`` is in ``fieldname``, all articles together."""
        return self.db.get_collection_freq(layout.term(fieldname, text))

    def terms_within(self, fieldname: str, text: str, maxdist: int, prefix: int = 0):
        """The words of ``fieldname`` within ``maxdist`` edits of ``text`` (a swap of
        neighbours counting as one, as Whoosh counts them in an index of several
        segments) that begin as its first ``prefix`` letters do."""
        for word in self.expand_prefix(fieldname, text[:prefix]):
            word = word.decode("utf-8")
            if OSA.distance(text, word, score_cutoff=maxdist) <= maxdist:
                yield word

    # Whoosh's own list methods, reading through terms_from above.
    _text_to_bytes = IndexReader._text_to_bytes
    expand_prefix = IndexReader.expand_prefix
    lexicon = IndexReader.lexicon
