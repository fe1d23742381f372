"""The read API over the index: search with highlighted results, and single articles.

The web app and the command line both use :class:`Archive`, so a search gives the same
answer on the page, in the JSON API and in the terminal.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from whoosh.scoring import BM25F

from . import highlight
from .query import parse_query
from .store import live_generation, open_live

MAX_PAGE_SIZE = 100
MAX_PAGE = 1000  # deepest page served: a deeper one means the search should be narrowed


@dataclass
class ArticleInfo:
    """What is shown of every article, wherever it is listed."""

    id: str
    title: str
    published: str
    byline: str
    source: str
    section: str
    url: str


@dataclass
class Hit(ArticleInfo):
    """One search result."""

    score: float
    title_html: str
    snippet_html: str


@dataclass
class ResultPage:
    """One page of the results of a search."""

    query: str
    page: int
    page_size: int
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    notice: str = ""
    elapsed_ms: float = 0.0

    @property
    def pages(self) -> int:
        return min(-(-self.total // self.page_size), MAX_PAGE)

    def to_dict(self) -> dict:
        return dict(asdict(self), pages=self.pages)


@dataclass
class ArticleView(ArticleInfo):
    """An article as shown on its page, paragraphs highlighted for a query."""

    description: str
    tags: list[str]
    body: str
    title_html: str
    paragraphs_html: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


def _metadata(stored: dict) -> dict:
    """The ArticleInfo fields, from an article's stored fields."""
    return dict(id=stored["id"], title=stored.get("title", ""),
                published=stored.get("published_iso", ""), byline=stored.get("byline", ""),
                source=stored.get("source", ""), section=stored.get("section", ""),
                url=stored.get("url", ""))


def bounded(value, low: int, high: int, default: int) -> int:
    """``value`` as an int clamped to [low, high]; ``default`` when it is not a number."""
    try:
        return max(low, min(int(value), high))
    except (TypeError, ValueError):
        return default


class Archive:
    """Searches the index in ``index_dir``, reopening it when a new version is live.

    Each thread keeps its own searcher, refreshed before each use when the index has
    changed on disk (a new commit, or a rebuild swapped in).
    """

    def __init__(self, index_dir):
        self.index_dir = Path(index_dir)
        self._local = threading.local()

    def searcher(self):
        """An up-to-date searcher for this thread (owned by the Archive: do not close)."""
        local = self._local
        generation = live_generation(self.index_dir)
        current = getattr(local, "searcher", None)
        if current is not None and local.generation == generation:
            refreshed = current.refresh()
        else:
            if current is not None:
                current.close()
            refreshed = open_live(self.index_dir).searcher(weighting=BM25F())
        local.searcher, local.generation = refreshed, generation
        return refreshed

    def count(self) -> int:
        return self.searcher().doc_count()

    def search(self, text: str, page=1, page_size=10) -> ResultPage:
        """One page of the ranked results for the query ``text``."""
        started = time.perf_counter()
        searcher = self.searcher()
        page = bounded(page, 1, 10**9, 1)
        page_size = bounded(page_size, 1, MAX_PAGE_SIZE, 10)
        parsed = parse_query(text)
        result = ResultPage(parsed.text, page, page_size, notice=parsed.notice)
        if parsed.empty:
            return result
        results = searcher.search(parsed.query, limit=min(page, MAX_PAGE) * page_size)
        result.total = len(results)
        if page > MAX_PAGE and result.total > MAX_PAGE * page_size:
            result.notice = (f"Only the first {MAX_PAGE} pages are shown; "
                             "add words or filters to narrow the search.")
        elif page <= MAX_PAGE:
            title_terms = highlight.QueryTerms(parsed.query, "title")
            body_terms = highlight.QueryTerms(parsed.query, "body")
            for hit in results[(page - 1) * page_size: page * page_size]:
                stored = hit.fields()
                result.hits.append(Hit(
                    **_metadata(stored), score=round(hit.score, 4),
                    title_html=highlight.mark_all(stored.get("title", ""), title_terms),
                    snippet_html=highlight.snippet(
                        stored.get("body") or stored.get("description", ""), body_terms)))
        result.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        return result

    def article(self, doc_id: str, text: str = "") -> ArticleView | None:
        """The article with id ``doc_id``, its words from query ``text`` highlighted."""
        stored = self.searcher().document(id=doc_id)
        if stored is None:
            return None
        parsed = parse_query(text) if text else None
        query = None if parsed is None or parsed.empty else parsed.query
        title_terms = highlight.QueryTerms(query, "title")
        body_terms = highlight.QueryTerms(query, "body")
        body = stored.get("body", "")
        return ArticleView(
            **_metadata(stored), description=stored.get("description", ""),
            tags=[t for t in stored.get("tags", "").split(",") if t], body=body,
            title_html=highlight.mark_all(stored.get("title", ""), title_terms),
            paragraphs_html=[highlight.mark_all(p, body_terms) for p in body.split("\n\n") if p])
