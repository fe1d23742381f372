"""The read API over the index: search with highlighted results, and single articles.

The web app and the command line both use :class:`Archive`, so a search gives the same
answer on the page, in the JSON API and in the terminal.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Iterator

from whoosh import query as wq

from . import highlight, related, segments
from .article import clean_line, parse_date
from .deadline import Deadline
from .query import parse_query
from .request import MAX_PAGE, SearchRequest
from .schema import FACETS
from .related import RelatedList
from .settings import Settings, settings as environment

FACET_VALUES = 10  # values listed per facet, the most frequent first
SUGGEST_BELOW = 5  # results under which a spelling correction is looked for
MAX_RELATED = 50
SEARCH_SECONDS = 1.0  # a search stops looking for more results after this long
EXPORT_SECONDS = 30.0  # as long for an export, which wants every result
SPELL_WORDS, SPELL_CHARS = 12, 40  # longer queries, or words, are not spelling mistakes
TOO_SLOW = "The query took too long; showing partial results."
PAGES_KEPT = 512  # result pages kept for the same request while the index is unchanged
SNIPPET_FROM_CHARS = 50_000  # a snippet comes from the opening of a longer text
_HALF_CHARACTERS = re.compile("[\ud800-\udfff]")


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
    """One search result, standing for the ``copies`` results in its cluster of
    near-duplicates (itself included); ``also_published_by`` names the other sources of
    that cluster in the archive. ``score`` is None when sorted by date."""

    score: float | None
    title_html: str
    snippet_html: str
    cluster: str = ""
    copies: int = 1
    also_published_by: list[str] = field(default_factory=list)


@dataclass
class FacetValue:
    value: str
    count: int
    active: bool = False


@dataclass
class ResultPage:
    """One page of the results of a search, with facet counts over all of them."""

    request: SearchRequest
    total: int = 0  # results, each cluster of near-duplicates counted once
    articles: int = 0  # matching articles, near-duplicates included (what facets count)
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    notice: str = ""
    suggestion: str = ""  # the query spelt as the archive spells it, when that finds more
    suggestion_total: int = 0
    elapsed_ms: float = 0.0

    @property
    def pages(self) -> int:
        return min(-(-self.total // self.request.size), MAX_PAGE)

    def to_dict(self) -> dict:
        request = self.request
        return dict(
            query=request.q, filters={name: request.filter_values(name)
                                      for name, _ in request.filters},
            sort=request.sort, page=request.page, page_size=request.size, pages=self.pages,
            total=self.total, articles=self.articles, notice=self.notice,
            suggestion=self.suggestion, suggestion_total=self.suggestion_total,
            elapsed_ms=self.elapsed_ms,
            facets={name: [asdict(v) for v in values] for name, values in self.facets.items()},
            hits=[asdict(hit) for hit in self.hits])


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


def _sentences(*notices: str) -> str:
    return " ".join(filter(None, notices))


@dataclass
class _Found:
    """What one reading of a query found in one version of the archive (``view``): the
    backend's ``ranking`` of its matches (None when the query is empty), the query as
    searched, its notice, and the spelling searched instead of the query's, if one was."""

    view: object
    query: object
    notice: str
    ranking: object = None
    corrected: str = ""

    @property
    def total(self) -> int:
        return self.ranking.total if self.ranking else 0


def _facet_values(ranking, request: SearchRequest) -> dict[str, list[FacetValue]]:
    """The most frequent values of each facet; of the date facets, months when all
    results fall in one year, else years, in date order."""
    facets = {}
    for name, column in FACETS.items():
        counts = ranking.facet_counts(column)
        if name in ("year", "month"):
            ordered = sorted(counts.items())
        else:
            ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            ordered = ordered[:FACET_VALUES]
        active = set(request.filter_values(name))
        facets[name] = [FacetValue(value, count, value in active) for value, count in ordered]
    single_year = len(facets["year"]) == 1
    del facets["year" if single_year else "month"]
    return facets


def open_backend(index_dir: Path, chosen: Settings):
    """The backend ``chosen`` over the archive in ``index_dir``."""
    if chosen.backend == "xapian":
        from .shards.search import ShardedIndex  # Xapian is an optional dependency
        return ShardedIndex(index_dir, chosen)
    from .whoosh_backend import WhooshIndex
    return WhooshIndex(index_dir)


class Archive:
    """Searches the archive in ``index_dir``, always its latest version, through the
    backend the settings (by default, the environment's) choose.

    A search stops looking for results after ``search_seconds`` (an export after
    ``export_seconds``) and shows those it found, with a notice. The last
    ``pages_kept`` result pages are kept for the same request to the same version of
    the archive.
    """

    def __init__(self, index_dir, search_seconds: float = SEARCH_SECONDS,
                 export_seconds: float = EXPORT_SECONDS, pages_kept: int = PAGES_KEPT,
                 settings: Settings | None = None):
        self.index_dir = Path(index_dir)
        self.search_seconds, self.export_seconds = search_seconds, export_seconds
        self.settings = settings or environment()
        self.backend = open_backend(self.index_dir, self.settings)
        self._pages = segments.Kept(pages_kept)

    def view(self):
        """The latest version of the archive, for this thread (owned by the Archive)."""
        return self.backend.view()

    def count(self) -> int:
        return self.view().doc_count()

    def close(self) -> None:
        """Close what this thread has open (the next search opens it again)."""
        self.backend.close()

    def warm(self) -> None:
        """Read now what the first searches and related lists would read, so that they
        are as quick as the rest. A server does this before it forks its workers, which
        then share what was read."""
        self.backend.warm()

    def suggest(self, text: str):
        """What the search box suggests for ``text`` (see :mod:`indexer.suggest`)."""
        return self.view().suggest(text)

    def _rank(self, request: SearchRequest, deadline: Deadline) -> _Found:
        """Every result of ``request`` in order, near-duplicates collapsed, or those found
        by ``deadline``.

        When no article has all the words of the query, the query spelt as the archive
        spells it is searched instead; failing that, the articles with some of the words
        are ranked (the most words first). The notice says which.
        """
        view = self.view()  # one version of the archive for the whole search
        text = _readable(request.q)
        strict = self._found(view, text, request, deadline)
        if strict.total or strict.ranking is None or not _spellable(text, deadline):
            return strict
        # Only words the archive does not have at all are corrected unasked: to the
        # spelling with the fewest edits that finds the most articles with all the words.
        found = {option: (edits, -_count(view, option, request, deadline))
                 for option, edits in view.corrections(text, known=1)}
        corrected = min((option for option in found if found[option][1]), key=found.get,
                        default=None)
        if corrected:
            answer = self._found(view, corrected, request, deadline)
            answer.corrected = corrected
            answer.notice = _sentences(answer.notice, (
                f"No article has all of these words; showing results for "
                f"\N{LEFT DOUBLE QUOTATION MARK}{corrected}"
                f"\N{RIGHT DOUBLE QUOTATION MARK} instead."))
            return answer
        answer = self._found(view, text, request, deadline, match_any=True)
        if answer.total:
            answer.notice = _sentences(answer.notice, (
                "No article has all of these words; these have some of them, "
                "the most first."))
            return answer
        return strict

    @staticmethod
    def _found(view, text: str, request: SearchRequest, deadline: Deadline,
               match_any: bool = False) -> _Found:
        """The ranking of the query ``text`` with the filters and sort of ``request``,
        as far as it got by ``deadline``."""
        parsed = parse_query(text, match_any)
        query, notice = view.expand(parsed.query, deadline)
        if query is wq.NullQuery and request.filters and not text.strip():
            query = wq.Every()  # browsing by filters alone
        found = _Found(view, query, _sentences(parsed.notice, notice))
        if query is not wq.NullQuery:
            found.ranking = view.rank(query, request, deadline)
            found.notice = _sentences(found.notice, found.ranking.notice)
        return found

    def search(self, request: SearchRequest) -> ResultPage:
        """One page of the results of ``request``, best first (or by date), each cluster
        of near-duplicates as one hit, with facet counts over the whole result set.
        The last pages answered are kept, by index version, for the same request."""
        started = time.perf_counter()
        key = (self.view().version, request)
        kept = self._pages.find(key)
        if kept is not None:
            return replace(kept, elapsed_ms=round((time.perf_counter() - started) * 1000, 1))
        result = self._search(request, started)
        if TOO_SLOW not in result.notice:  # an answer cut short may be whole next time
            self._pages.keep(key, result)
        return result

    def _search(self, request: SearchRequest, started: float) -> ResultPage:
        deadline = Deadline(self.search_seconds)
        found = self._rank(request, deadline)
        result = ResultPage(request, notice=found.notice)
        ranking, view = found.ranking, found.view
        if ranking is None:
            return result
        result.total, result.articles = ranking.total, ranking.articles
        result.facets = _facet_values(ranking, request)
        if (ranking.total < SUGGEST_BELOW and _spellable(request.q, deadline)
                and not found.corrected):
            _suggest(view, result, ranking.total, deadline)
        if request.page > MAX_PAGE:
            result.notice = _sentences(result.notice, (
                f"Only the first {MAX_PAGE} pages are shown; "
                "add words or filters to narrow the search."))
        else:
            start = (request.page - 1) * request.size
            title_terms = highlight.QueryTerms(found.query, "title")
            body_terms = highlight.QueryTerms(found.query, "body")
            for score, ref, copies in ranking.items(start, start + request.size):
                stored = view.stored(ref)
                result.hits.append(Hit(
                    **_metadata(stored), score=score, copies=copies,
                    cluster=stored.get("cluster", ""),
                    also_published_by=ranking.other_sources(ref),
                    title_html=highlight.mark_all(stored.get("title", ""), title_terms),
                    snippet_html=highlight.snippet((stored.get("body") or stored.get(
                        "description", ""))[:SNIPPET_FROM_CHARS], body_terms)))
        if not ranking.complete:
            result.notice = _sentences(result.notice, TOO_SLOW)
        result.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        return result

    def related(self, doc_id: str, include_later: bool = False,
                before: datetime | None = None, limit: int = 10) -> RelatedList | None:
        """Stories related to the article ``doc_id`` (None if there is no such article):
        those published before it, or before ``before``, unless ``include_later``."""
        view = self.view()
        stored = view.document(doc_id)
        if stored is None:
            return None
        published = parse_date(stored.get("published_iso"))
        if before is None and not include_later:
            before = published
        return view.related(stored.get("title", ""), stored.get("body", ""), published,
                            before, (doc_id, stored.get("cluster", "")),
                            min(max(limit, 1), MAX_RELATED))

    def related_to_text(self, text: str, title: str = "", date: str = "",
                        limit: int = 10) -> RelatedList:
        """Stories related to a draft not in the archive; with a ``date``, only those
        published before it. Raises related.TextError for an empty or huge text."""
        body = related.check_text(text)
        published = parse_date(date) if date else None
        if date and published is None:
            raise related.TextError(f"{date!r} is not a date (write it as 2014-03-05)")
        return self.view().related(title.strip(), body, published, published, ("", ""),
                                   min(max(limit, 1), MAX_RELATED))

    def export(self, request: SearchRequest) -> tuple[str, Iterator[dict]]:
        """Every result of ``request`` (not just a page) as rows for a researcher, in
        order, near-duplicates collapsed; with the search's notice."""
        found = self._rank(request, Deadline(self.export_seconds))
        ranking = found.ranking
        ranked = list(ranking.items()) if ranking else []
        notice = _sentences(found.notice, "" if not ranking or ranking.complete else TOO_SLOW)
        rows = (dict(id=stored["id"], date=stored.get("published_iso", ""),
                     source=stored.get("source", ""), section=stored.get("section", ""),
                     byline=stored.get("byline", ""), title=stored.get("title", ""),
                     url=stored.get("url", ""), score=score, cluster=stored.get("cluster", ""),
                     copies=copies)
                for score, stored, copies in (
                    (score, found.view.stored(ref), copies) for score, ref, copies in ranked))
        return notice, rows

    def article(self, doc_id: str, text: str = "") -> ArticleView | None:
        """The article with id ``doc_id``, its words from query ``text`` highlighted."""
        view = self.view()
        stored = view.document(doc_id)
        if stored is None:
            return None
        parsed = parse_query(text) if text else None
        query = None if parsed is None or parsed.empty else view.expand(
            parsed.query, Deadline(self.search_seconds))[0]
        title_terms = highlight.QueryTerms(query, "title")
        body_terms = highlight.QueryTerms(query, "body")
        body = stored.get("body", "")
        return ArticleView(
            **_metadata(stored), description=stored.get("description", ""),
            tags=[t for t in stored.get("tags", "").split(",") if t], body=body,
            title_html=highlight.mark_all(stored.get("title", ""), title_terms),
            paragraphs_html=[highlight.mark_all(p, body_terms) for p in body.split("\n\n") if p])


def _readable(text: str) -> str:
    """The query NFC-normalised like the articles, without control characters (NUL...)
    or halves of characters, which are no part of a query: no answer repeats them."""
    return clean_line(_HALF_CHARACTERS.sub(" ", text))


def _spellable(text: str, deadline: Deadline) -> bool:
    """Whether there is time to look for misspellings in ``text``, and it is short
    enough to have them."""
    words = text.split()
    return (0 < len(words) <= SPELL_WORDS and max(map(len, words)) <= SPELL_CHARS
            and not deadline.passed)


def _count(view, text: str, request: SearchRequest, deadline: Deadline) -> int:
    """How many articles the query ``text`` finds with the filters of ``request`` (as
    far as the search got by ``deadline``)."""
    query, _ = view.expand(parse_query(text).query, deadline)
    return view.count(query, request, deadline)


def _suggest(view, result: ResultPage, found_before: int, deadline: Deadline) -> None:
    """Offer the query with its misspellings corrected, if that finds more articles
    with all the words than the ``found_before``."""
    suggestion = view.spelling(_readable(result.request.q))
    if suggestion is None:
        return
    found = _count(view, suggestion, result.request, deadline)
    if found > found_before:
        result.suggestion, result.suggestion_total = suggestion, found
