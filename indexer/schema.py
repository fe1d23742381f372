"""How articles are analysed and laid out in the Whoosh index."""

from __future__ import annotations

from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from .analysis import exact_analyzer, stemming_analyzer

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
          "year": "year", "month": "month"}
# What a search can be narrowed by: the facets, and a cluster of near-duplicates.
FILTERS = {**FACETS, "cluster": "cluster"}


def _text(analyzer, **options):
    """A text field; a word the analyzer splits ("co-operation") is searched as a phrase
    of its parts."""
    return TEXT(analyzer=analyzer, multitoken_query="phrase", **options)


def _facet():
    return ID(sortable=True)


# Raised whenever the fields change: an index of another version is rebuilt, not read.
SCHEMA_VERSION = 3

SCHEMA = Schema(
    id=ID(stored=True, unique=True, sortable=True),
    title=_text(STEMMED, stored=True),
    body=_text(STEMMED, stored=True),
    title_exact=_text(EXACT),
    body_exact=_text(EXACT),
    byline=_text(EXACT, stored=True),
    section=_text(EXACT, stored=True),
    source=_text(EXACT, stored=True),
    tags=KEYWORD(stored=True, commas=True, lowercase=True, scorable=True),
    # The publication date as printed, in the article's own time zone: what ``date:``
    # queries and the year and month facets use.
    date=DATETIME(),
    # The exact instant in UTC: what sorting by date uses, after "dated" ("1" when there
    # is a date) puts undated articles last.
    published=DATETIME(sortable=True),
    dated=ID(sortable=True),
    published_iso=STORED,
    url=ID(stored=True),
    description=STORED,
    path=ID(stored=True, sortable=True),
    content_hash=ID(stored=True, sortable=True),
    # Near-duplicates (see indexer.duplicates): the id of the first article of the
    # cluster, and the MinHash signature of the body.
    cluster=ID(stored=True, sortable=True),
    minhash=COLUMN(VarBytesColumn()),
    **{name: _facet() for name in FACETS.values()},
)
