"""How articles are analysed and laid out in the Whoosh index."""

from __future__ import annotations

import numpy as np
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from .analysis import Lexicon, exact_analyzer, stemming_analyzer

STEMMED = stemming_analyzer()
EXACT = exact_analyzer()

# Fields searched when a query names none, with the weights of their scores. Each word is
# looked for stemmed and, weighing less, as written, so that the exact form ranks higher.
DEFAULT_FIELDS = {"title": 2.0, "body": 1.0, "title_exact": 1.0, "body_exact": 0.5}
# Quoted phrases, prefixes and fuzzy words in a stemmed field are matched in its
# unstemmed twin.
EXACT_TWIN = {"title": "title_exact", "body": "body_exact"}
# Facets, each counted over an unanalysed copy of a field (the value as written).
FACETS = {"source": "source_facet", "section": "section_facet", "byline": "byline_facet",
          "language": "language_facet", "year": "year", "month": "month"}
# What a search can be narrowed by: the facets, and a cluster of near-duplicates.
FILTERS = {**FACETS, "cluster": "cluster"}


class Tokens:
    """A text analysed for one field: the term number and position of each of its
    tokens, in order, and the encoded term of each number (a :class:`Lexicon`'s)."""

    __slots__ = ("numbers", "positions", "terms")

    def __init__(self, numbers: np.ndarray, positions: np.ndarray, terms: list[bytes]):
        self.numbers, self.positions, self.terms = numbers, positions, terms

    def __len__(self) -> int:
        return len(self.numbers)


class ArticleText(TEXT):
    """A text field, stemmed or exact; a word the analyzer splits ("co-operation") is
    searched as a phrase of its parts. Indexing takes the same terms as the analyzer
    from a :class:`indexer.analysis.Lexicon`, as Tokens."""

    def __init__(self, stemmed: bool, **options):
        super().__init__(analyzer=STEMMED if stemmed else EXACT, multitoken_query="phrase",
                         **options)
        self.stemmed = stemmed

    def tokens(self, lexicon: Lexicon, numbers: np.ndarray) -> Tokens:
        """The tokens of a text whose words have the term numbers ``numbers`` in
        ``lexicon``: all of them, or for a stemmed field the stems of those
        ``analysis.stemmed_words`` keeps, numbered on from the first."""
        if not self.stemmed:
            return Tokens(numbers, np.arange(len(numbers), dtype=np.int32), lexicon.exact)
        stems = lexicon.stems[numbers]
        kept = np.flatnonzero(stems >= 0).astype(np.int32)
        if len(kept):
            kept = kept[0] + np.arange(len(kept), dtype=np.int32)
        return Tokens(stems[stems >= 0], kept, lexicon.stemmed)

    def index(self, value, **kwargs):
        """(term, frequency, weight, encoded positions) of each term of ``value``, a
        text or its Tokens, as Whoosh's writers take them."""
        if not isinstance(value, Tokens):
            lexicon = Lexicon()
            value = self.tokens(lexicon, lexicon.words(value))
        positions: dict[int, list[int]] = {}
        for number, position in zip(value.numbers.tolist(), value.positions.tolist()):
            positions.setdefault(number, []).append(position)
        encode, boost = self.format.encode, self.format.field_boost
        return [(value.terms[number], len(found), len(found) * boost, encode(found))
                for number, found in positions.items()]


class ColumnDatetime(DATETIME):
    """A date and time kept as a column alone, to sort and compare by: it has no terms."""

    indexed = False


class ColumnID(ID):
    """An identifier stored and kept as a column alone, to compare by: it has no terms."""

    indexed = False


def _facet():
    return ID(sortable=True)


# Raised whenever the fields change: an index of another version is rebuilt, not read.
SCHEMA_VERSION = 7

SCHEMA = Schema(
    id=ID(stored=True, unique=True, sortable=True),
    title=ArticleText(stemmed=True, stored=True),
    body=ArticleText(stemmed=True, stored=True),
    title_exact=ArticleText(stemmed=False),
    body_exact=ArticleText(stemmed=False),
    byline=ArticleText(stemmed=False, stored=True),
    section=ArticleText(stemmed=False, stored=True),
    source=ArticleText(stemmed=False, stored=True),
    tags=KEYWORD(stored=True, commas=True, lowercase=True, scorable=True),
    # The day of publication as printed (its midnight), in the article's own time zone:
    # what ``date:`` queries use, which name whole days, as the year and month facets do.
    date=DATETIME(),
    # The exact instant in UTC: what sorting by date uses, after "dated" ("1" when there
    # is a date) puts undated articles last.
    published=ColumnDatetime(sortable=True),
    dated=ID(sortable=True),
    published_iso=STORED,
    url=ID(stored=True),
    description=STORED,
    language=STORED,
    path=ID(stored=True, sortable=True),
    content_hash=ColumnID(stored=True, sortable=True),
    # Near-duplicates (see indexer.duplicates): the id of the first article of the
    # cluster, and the MinHash signature of the body.
    cluster=ID(stored=True, sortable=True),
    minhash=COLUMN(VarBytesColumn()),
    # The article's weighted word counts, for related stories (indexer.vectors).
    terms=COLUMN(VarBytesColumn()),
    **{name: _facet() for name in FACETS.values()},
)
