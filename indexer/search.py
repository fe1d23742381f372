"""The read API over the index: search with highlighted results, and single articles.

The web app and the command line both use :class:`Archive`, so a search gives the same
answer on the page, in the JSON API and in the terminal.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Iterator

import numpy as np
from whoosh import query as wq
from whoosh.scoring import BM25F

from . import highlight, matches, related, segments, spelling, vectors
from .article import clean_line, parse_date
from .deadline import Deadline, timed_search
from .query import bound_expansions, parse_query
from .request import MAX_PAGE, SearchRequest
from .schema import FACETS, FILTERS
from .related import RelatedList
from .store import live_generation, open_live

FACET_VALUES = 10  # values listed per facet, the most frequent first
SUGGEST_BELOW = 5  # results under which a spelling correction is looked for
MAX_RELATED = 50
SEARCH_SECONDS = 1.0  # a search stops looking for more results after this long
EXPORT_SECONDS = 30.0  # as long for an export, which wants every result
SPELL_WORDS, SPELL_CHARS = 12, 40  # longer queries, or words, are not spelling mistakes
TOO_SLOW = "The query took too long; showing partial results."
PAGES_KEPT = 512  # result pages kept for the same request while the index is unchanged
RANK_FIRST = 40  # results ranked at first for a page (more if near-duplicates hide some)
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


def _filters(request: SearchRequest):
    """The filter query of ``request``: values of one facet ORed, facets ANDed."""
    by_facet: dict[str, list] = {}
    for name, value in request.filters:
        by_facet.setdefault(name, []).append(wq.Term(FILTERS[name], value))
    return wq.And([wq.Or(terms) for terms in by_facet.values()]) if by_facet else None


class _Ranking:
    """The ordered results of one search, each cluster of near-duplicates once (unless
    the search is within one cluster). ``mask`` holds every matching article (None when
    the query is empty); they are ranked as far as a page needs, each one kept only if
    it is the first of its cluster."""

    def __init__(self, searcher, query, notice: str):
        self.searcher, self.query, self.notice = searcher, query, notice
        self.mask = None
        self.total = self.articles = 0
        self.corrected = ""  # the spelling searched instead of the query's, if one was
        self.complete = True  # False when the deadline cut the search short
        self.kept: list[tuple] = []  # (score or None, docnum) of each result so far

    def match(self, request: SearchRequest, deadline: Deadline) -> None:
        """Find every article matching the query and the filters of ``request``."""
        self.request, self.deadline = request, deadline
        self.found = matches.Matcher(self.searcher, deadline)
        self.table = self.found.table
        self.mask = self.found.mask(wq.And([self.query, _filters(request) or wq.Every()]))
        self.complete = self.found.complete
        self.articles = int(self.mask.sum())
        if request.filter_values("cluster"):  # within a cluster, every article is a result
            self.key = np.arange(self.table.size)
        else:
            self.key = self.table.coded["cluster"].codes
        self.copies = np.bincount(self.key[self.mask], minlength=1)
        self.total = int(np.count_nonzero(self.copies))
        self._order = self._scores = None  # the matches ranked so far, and their scores
        self._whole = False  # whether that is all of them
        self._next = 0  # the first of them not looked at for ``kept``
        self._seen: set = set()  # the keys of the clusters in ``kept``

    def items(self, start: int = 0, stop: int | None = None):
        """(score rounded, docnum, copies) of the results from start to stop."""
        if not self.articles:
            return
        self._rank(stop)
        for score, docnum in self.kept[start:stop]:
            yield (round(float(score), 4) if score is not None else None, docnum,
                   int(self.copies[self.key[docnum]]))

    def _rank(self, stop: int | None) -> None:
        """Rank the matches until ``stop`` results are kept (all of them for None): all
        at once by date, or by scores computed over arrays; failing that (a phrase with
        slop, a pattern), by Whoosh, the best few and then more as needed."""
        if self._order is None:
            docnums = np.flatnonzero(self.mask)
            if self.request.sort != "relevance":
                self._ordered(self.table.by_date(docnums, self.request.sort == "newest"))
            elif (scores := self.found.scores(matches.scoring(self.query))) is not None:
                scores = scores[docnums]
                order = np.lexsort((docnums, -scores))
                self._ordered(docnums[order], scores[order])
        limit = None if stop is None else max(2 * stop, RANK_FIRST)
        while True:
            self._keep(stop)
            if self._whole or (stop is not None and len(self.kept) >= stop):
                return
            results, complete = timed_search(
                self.searcher, matches.scoring(self.query), self.deadline, limit=limit,
                filter=matches.Allowed(self.mask))
            self.complete &= complete
            top = results.top_n
            self._ordered([docnum for _, docnum in top], [score for score, _ in top],
                          whole=not complete or limit is None or len(top) < limit)
            limit = limit and limit * 4

    def _ordered(self, docnums, scores=None, whole: bool = True) -> None:
        """Rank the matches as ``docnums``, with ``scores`` (None when sorted by date);
        ``whole`` when these are all the matches to rank."""
        self._order, self._scores, self._whole = docnums, scores, whole
        self.kept, self._next, self._seen = [], 0, set()

    def _keep(self, stop: int | None) -> None:
        """Keep the first of each cluster from the ranking, until there are ``stop``."""
        order, scores = self._order, self._scores
        if order is None:
            return
        while self._next < len(order) and (stop is None or len(self.kept) < stop):
            docnum = int(order[self._next])
            key = self.key[docnum]
            if key not in self._seen:
                self._seen.add(key)
                self.kept.append((None if scores is None else scores[self._next], docnum))
            self._next += 1


def _sentences(*notices: str) -> str:
    return " ".join(filter(None, notices))


def _facet_values(ranking: _Ranking, request: SearchRequest) -> dict[str, list[FacetValue]]:
    """The most frequent values of each facet; of the date facets, months when all
    results fall in one year, else years, in date order."""
    facets = {}
    for name, column in FACETS.items():
        counts = ranking.table.counts(column, ranking.mask)
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


class Archive:
    """Searches the index in ``index_dir``, reopening it when a new version is live.

    Each thread keeps its own searcher, refreshed before each use when the index has
    changed on disk (a new commit, or a rebuild swapped in). A search stops looking for
    results after ``search_seconds`` (an export after ``export_seconds``) and shows
    those it found, with a notice. The last ``pages_kept`` result pages are kept for
    the same request to the same version of the index.
    """

    def __init__(self, index_dir, search_seconds: float = SEARCH_SECONDS,
                 export_seconds: float = EXPORT_SECONDS, pages_kept: int = PAGES_KEPT):
        self.index_dir = Path(index_dir)
        self.search_seconds, self.export_seconds = search_seconds, export_seconds
        self._local = threading.local()
        self._pages = segments.Kept(pages_kept)

    def searcher(self):
        """An up-to-date searcher for this thread (owned by the Archive: do not close)."""
        local = self._local
        generation = live_generation(self.index_dir)
        current = getattr(local, "searcher", None)
        if current is not None and local.generation == generation and current.up_to_date():
            return current
        # Opened anew, not refresh()ed: a refreshed searcher reuses the reader of a
        # segment that is still there, missing deletions committed to it since.
        if current is not None:
            current.close()
        local.searcher = open_live(self.index_dir).searcher(weighting=BM25F())
        local.generation = generation
        return local.searcher

    def count(self) -> int:
        return self.searcher().doc_count()

    def warm(self) -> None:
        """Read now what the first searches and related lists would read (columns,
        field lengths, vocabulary, term vectors), so that they are as quick as the rest.
        A server does this before it forks its workers, which then share what was
        read."""
        # A searcher of its own, closed after: what was read is copied out of the index,
        # and a server's processes inherit no open file of a generation since replaced.
        with open_live(self.index_dir).searcher(weighting=BM25F()) as searcher:
            matches.read_ahead(searcher)
            spelling.read_vocabulary(searcher.reader())
            vectors.matrix(searcher.reader())

    def _rank(self, request: SearchRequest, deadline: Deadline) -> "_Ranking":
        """Every result of ``request`` in order, near-duplicates collapsed, or those found
        by ``deadline``.

        When no article has all the words of the query, the query spelt as the archive
        spells it is searched instead; failing that, the articles with some of the words
        are ranked (the most words first). The notice says which.
        """
        searcher = self.searcher()  # one index version for the whole search
        text = _readable(request.q)
        strict = self._ranking(searcher, text, request, deadline)
        if strict.total or strict.mask is None or not _spellable(text, deadline):
            return strict
        # Only words the archive does not have at all are corrected unasked: to the
        # spelling with the fewest edits that finds the most articles with all the words.
        found = {option: (edits, -_count(searcher, option, request, deadline))
                 for option, edits in spelling.corrections(strict.searcher, text, known=1)}
        corrected = min((option for option in found if found[option][1]), key=found.get,
                        default=None)
        if corrected:
            ranking = self._ranking(searcher, corrected, request, deadline)
            ranking.corrected = corrected
            ranking.notice = _sentences(ranking.notice, (
                f"No article has all of these words; showing results for "
                f"\N{LEFT DOUBLE QUOTATION MARK}{corrected}"
                f"\N{RIGHT DOUBLE QUOTATION MARK} instead."))
            return ranking
        ranking = self._ranking(searcher, text, request, deadline, match_any=True)
        if ranking.total:
            ranking.notice = _sentences(ranking.notice, (
                "No article has all of these words; these have some of them, "
                "the most first."))
            return ranking
        return strict

    @staticmethod
    def _ranking(searcher, text: str, request: SearchRequest, deadline: Deadline,
                 match_any: bool = False):
        """The ranking of the query ``text`` with the filters and sort of ``request``,
        as far as it got by ``deadline``."""
        parsed = parse_query(text, match_any)
        query, notice = bound_expansions(parsed.query, searcher.reader(), deadline)
        ranking = _Ranking(searcher, query, _sentences(parsed.notice, notice))
        if query is wq.NullQuery and request.filters and not text.strip():
            ranking.query = wq.Every()  # browsing by filters alone
        if ranking.query is wq.NullQuery:
            return ranking
        ranking.match(request, deadline)
        return ranking

    def search(self, request: SearchRequest) -> ResultPage:
        """One page of the results of ``request``, best first (or by date), each cluster
        of near-duplicates as one hit, with facet counts over the whole result set.
        The last pages answered are kept, by index version, for the same request."""
        started = time.perf_counter()
        key = (segments.version(self.searcher().reader()), request)
        kept = self._pages.find(key)
        if kept is not None:
            return replace(kept, elapsed_ms=round((time.perf_counter() - started) * 1000, 1))
        result = self._search(request, started)
        if TOO_SLOW not in result.notice:  # an answer cut short may be whole next time
            self._pages.keep(key, result)
        return result

    def _search(self, request: SearchRequest, started: float) -> ResultPage:
        deadline = Deadline(self.search_seconds)
        ranking = self._rank(request, deadline)
        result = ResultPage(request, notice=ranking.notice)
        if ranking.mask is None:
            return result
        result.total, result.articles = ranking.total, ranking.articles
        result.facets = _facet_values(ranking, request)
        if (ranking.total < SUGGEST_BELOW and _spellable(request.q, deadline)
                and not ranking.corrected):
            _suggest(ranking.searcher, result, ranking.total, deadline)
        if request.page > MAX_PAGE:
            result.notice = _sentences(result.notice, (
                f"Only the first {MAX_PAGE} pages are shown; "
                "add words or filters to narrow the search."))
        else:
            start = (request.page - 1) * request.size
            title_terms = highlight.QueryTerms(ranking.query, "title")
            body_terms = highlight.QueryTerms(ranking.query, "body")
            for score, docnum, copies in ranking.items(start, start + request.size):
                stored = ranking.searcher.stored_fields(docnum)
                result.hits.append(Hit(
                    **_metadata(stored), score=score, copies=copies,
                    cluster=stored.get("cluster", ""),
                    also_published_by=ranking.table.other_sources(docnum),
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
        searcher = self.searcher()
        stored = searcher.document(id=doc_id)
        if stored is None:
            return None
        published = parse_date(stored.get("published_iso"))
        if before is None and not include_later:
            before = published
        return related.find(searcher, stored.get("title", ""), stored.get("body", ""),
                            published, before, (doc_id, stored.get("cluster", "")),
                            min(max(limit, 1), MAX_RELATED))

    def related_to_text(self, text: str, title: str = "", date: str = "",
                        limit: int = 10) -> RelatedList:
        """Stories related to a draft not in the archive; with a ``date``, only those
        published before it. Raises related.TextError for an empty or huge text."""
        body = related.check_text(text)
        published = parse_date(date) if date else None
        if date and published is None:
            raise related.TextError(f"{date!r} is not a date (write it as 2014-03-05)")
        return related.find(self.searcher(), title.strip(), body, published, published,
                            limit=min(max(limit, 1), MAX_RELATED))

    def export(self, request: SearchRequest) -> tuple[str, Iterator[dict]]:
        """Every result of ``request`` (not just a page) as rows for a researcher, in
        order, near-duplicates collapsed; with the search's notice."""
        ranking = self._rank(request, Deadline(self.export_seconds))
        ranked = list(ranking.items())
        notice = _sentences(ranking.notice, "" if ranking.complete else TOO_SLOW)
        rows = (dict(id=stored["id"], date=stored.get("published_iso", ""),
                     source=stored.get("source", ""), section=stored.get("section", ""),
                     byline=stored.get("byline", ""), title=stored.get("title", ""),
                     url=stored.get("url", ""), score=score, cluster=stored.get("cluster", ""),
                     copies=copies)
                for score, stored, copies in (
                    (score, ranking.searcher.stored_fields(docnum), copies)
                    for score, docnum, copies in ranked))
        return notice, rows

    def article(self, doc_id: str, text: str = "") -> ArticleView | None:
        """The article with id ``doc_id``, its words from query ``text`` highlighted."""
        stored = self.searcher().document(id=doc_id)
        if stored is None:
            return None
        parsed = parse_query(text) if text else None
        query = None if parsed is None or parsed.empty else bound_expansions(
            parsed.query, self.searcher().reader(), Deadline(self.search_seconds))[0]
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


def _count(searcher, text: str, request: SearchRequest, deadline: Deadline) -> int:
    """How many articles the query ``text`` finds with the filters of ``request`` (as
    far as the search got by ``deadline``)."""
    query, _ = bound_expansions(parse_query(text).query, searcher.reader(), deadline)
    found = matches.Matcher(searcher, deadline)
    return int(found.mask(wq.And([query, _filters(request) or wq.Every()])).sum())


def _suggest(searcher, result: ResultPage, found_before: int, deadline: Deadline) -> None:
    """Offer the query with its misspellings corrected, if that finds more articles
    with all the words than the ``found_before``."""
    suggestion = spelling.suggest(searcher, _readable(result.request.q))
    if suggestion is None:
        return
    found = _count(searcher, suggestion, result.request, deadline)
    if found > found_before:
        result.suggestion, result.suggestion_total = suggestion, found
