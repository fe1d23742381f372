"""How articles are analysed and laid out in the Whoosh index."""

from __future__ import annotations

from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from .analysis import exact_analyzer, stemming_analyzer

STEMMED = stemming_analyzer()
EXACT = exact_analyzer()

# A word the analyzer splits ("co-operation") is searched as a phrase of its parts.
# Fields searched when a query names none, with their BM25F weights.
DEFAULT_FIELDS = {"title": 2.0, "body": 1.0}
# A quoted phrase in a stemmed field is matched in its unstemmed twin.
EXACT_TWIN = {"title": "title_exact", "body": "body_exact"}

SCHEMA = Schema(
    id=ID(stored=True, unique=True, sortable=True),
    title=TEXT(analyzer=STEMMED, stored=True, field_boost=DEFAULT_FIELDS["title"],
               multitoken_query="phrase"),
    body=TEXT(analyzer=STEMMED, stored=True, multitoken_query="phrase"),
    title_exact=TEXT(analyzer=EXACT, field_boost=DEFAULT_FIELDS["title"],
                     multitoken_query="phrase"),
    body_exact=TEXT(analyzer=EXACT, multitoken_query="phrase"),
    byline=TEXT(analyzer=EXACT, stored=True),
    section=ID(stored=True, sortable=True),
    source=ID(stored=True, sortable=True),
    tags=KEYWORD(stored=True, commas=True, lowercase=True, scorable=True),
    published=DATETIME(sortable=True),
    published_iso=STORED,
    url=ID(stored=True),
    description=STORED,
    path=ID(stored=True, sortable=True),
    content_hash=ID(stored=True, sortable=True),
)
