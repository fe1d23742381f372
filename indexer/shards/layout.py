"""How an article is laid out in a Xapian shard.

Each field of the Whoosh schema is a term prefix, holding the very terms morgue's own
analysis gives that field (so a query parsed by :mod:`indexer.query` means the same on
both backends); unanalysed fields (ids, facets, clusters) are boolean terms. Value slots
hold what is sorted, ranged, counted and collapsed on, and the document's data holds the
stored fields as JSON, the same dict a Whoosh searcher's ``stored_fields`` gives.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timezone

import xapian

from ..analysis import folded_words, stemmed_words
from ..article import Article
from ..schema import FACETS, SCHEMA, ArticleText

# The prefix of each field's terms. Analysed words are lower case, so "XT" + "early"
# and "XTE" + "arly" never meet; unanalysed values follow a colon.
PREFIXES = {
    "title": "XT", "body": "XB", "title_exact": "XTE", "body_exact": "XBE",
    "byline": "XA", "section": "XS", "source": "XO", "tags": "K",
    "id": "Q", "url": "U:", "path": "XP:", "cluster": "XC:", "copy": "XD",
    "source_facet": "XFO:", "section_facet": "XFS:", "byline_facet": "XFA:",
    "language_facet": "XFL:", "year": "XFY:", "month": "XFM:",
}
TEXT_FIELDS = [name for name, kind in SCHEMA.items() if isinstance(kind, ArticleText)]
BOOLEAN_FIELDS = ["id", "url", "path", "cluster", *FACETS.values()]

# Value slots. SLOT_DATE holds the date as printed ("%Y%m%d%H%M%S%f", what ``date:``
# ranges compare), SLOT_DATED "1" when there is one, SLOT_PUBLISHED the instant
# (sortable_serialise of the UTC timestamp; nothing when undated, so that undated
# articles come last newest first) and SLOT_OLDEST the same but UNDATED for undated
# articles (last oldest first): remote shards sort on one slot, not on a key maker.
# SLOT_CLUSTER holds the near-duplicate cluster results are collapsed on, and
# SLOT_CLUSTER_SOURCE the cluster and the source (CLUSTER_SOURCE), counted to list the
# other sources of a cluster.
SLOT_DATE, SLOT_PUBLISHED, SLOT_DATED, SLOT_CLUSTER, SLOT_OLDEST, SLOT_CLUSTER_SOURCE = \
    range(6)
FACET_SLOTS = {column: 6 + n for n, column in enumerate(FACETS.values())}
CLUSTER_SOURCE = "{cluster}\n{source}"
DATE_FORMAT = "%Y%m%d%H%M%S%f"
UNDATED = b"\xff" * 10  # after every sortable_serialise value (at most 9 bytes)

MAX_TERM_BYTES = 240  # Xapian's limit is 245 bytes; longer terms are hashed to fit
# Each shard's own metadata: which shard of how many, of which schema.
META_SHARD, META_SHARDS, META_SCHEMA = "morgue.shard", "morgue.shards", "morgue.schema_version"


def term(field: str, text: str) -> str:
    """The term for ``text`` in ``field``; one too long for Xapian stands as a hash."""
    whole = PREFIXES[field] + text
    if len(whole.encode("utf-8")) <= MAX_TERM_BYTES:
        return whole
    return PREFIXES[field] + "#" + hashlib.blake2b(text.encode("utf-8"),
                                                   digest_size=16).hexdigest()


def shard_of(doc_id: str, shards: int) -> int:
    """The shard of the article ``doc_id``: a stable hash of its id (the same in every
    process, machine and Python version) modulo the number of shards."""
    digest = hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def stored_fields(article: Article, cluster: str) -> dict:
    """What is stored of ``article``: the keys a Whoosh searcher's stored fields have."""
    published = article.published
    return dict(id=article.id, title=article.title, body=article.body,
                byline=article.byline, section=article.section, source=article.source,
                tags=",".join(article.tags),
                published_iso=published.isoformat() if published else "", url=article.url,
                description=article.description, language=article.language,
                path=article.path, content_hash=article.content_hash, cluster=cluster)


def document(article: Article, cluster: str) -> xapian.Document:
    """The Xapian document of ``article`` in ``cluster``."""
    doc = xapian.Document()
    words = {source: folded_words(getattr(article, source))
             for source in {name.removesuffix("_exact") for name in TEXT_FIELDS}}
    for name in TEXT_FIELDS:
        source = words[name.removesuffix("_exact")]
        positions = (stemmed_words(source) if SCHEMA[name].stemmed
                     else enumerate(source)) if source else ()
        for position, word in positions:
            doc.add_posting(term(name, word), position + 1)
    for tag in {tag.strip().lower() for tag in article.tags} - {""}:
        doc.add_term(term("tags", tag))
    published = article.published
    facets = dict(source_facet=article.source, section_facet=article.section,
                  byline_facet=article.byline, language_facet=article.language)
    doc.add_value(SLOT_OLDEST, UNDATED)
    if published:
        instant = xapian.sortable_serialise(published.astimezone(timezone.utc).timestamp())
        doc.add_value(SLOT_DATE, published.replace(tzinfo=None).strftime(DATE_FORMAT))
        doc.add_value(SLOT_PUBLISHED, instant)
        doc.add_value(SLOT_OLDEST, instant)
        doc.add_value(SLOT_DATED, "1")
        facets.update(year=f"{published.year:04d}", month=f"{published:%Y-%m}")
    for column, value in dict(id=article.id, url=article.url, path=article.path,
                              cluster=cluster, **facets).items():
        if value:
            doc.add_boolean_term(term(column, value))
    for column, value in facets.items():
        if value:
            doc.add_value(FACET_SLOTS[column], value)
    doc.add_value(SLOT_CLUSTER, cluster or article.id)
    doc.add_value(SLOT_CLUSTER_SOURCE, CLUSTER_SOURCE.format(cluster=cluster or article.id,
                                                             source=article.source))
    if cluster and cluster != article.id:  # a near-duplicate of an earlier article
        doc.add_boolean_term(PREFIXES["copy"])
    doc.set_data(json.dumps(stored_fields(article, cluster), ensure_ascii=False))
    return doc


def stored(doc: xapian.Document) -> dict:
    """The stored fields of a document written by :func:`document`."""
    return json.loads(doc.get_data())
