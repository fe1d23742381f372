"""The same search on both backends: the same counts of results and of articles, the
same facets, and each result standing for the same number of near-duplicates; only the
order of results by relevance differs (README says why)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from indexer.query import parse_query
from indexer.request import SearchRequest
from indexer.search import Archive

xapian = pytest.importorskip("xapian")
from indexer.shards.translate import to_xapian  # noqa: E402 (needs xapian)

QUERIES = ["oil", "oil prices", '"oil prices"', "oil OR gold", "oil -prices", "NOT oil",
           "pri*", "gold~", "title:oil", "date:1987-03", "said", "tag:acq", "*",
           "zzzzqqq", "oli prises", "cocoa", "u.s. trade"]
FILTERS = [(), (("month", "1987-03"), ("source", "Reuters"))]


def counted(page) -> tuple:
    return (page.total, page.articles, page.notice, page.suggestion,
            {name: [(v.value, v.count) for v in values] for name, values in page.facets.items()})


@pytest.mark.parametrize("filters", FILTERS, ids=["no filter", "month+source"])
@pytest.mark.parametrize("q", QUERIES)
def test_a_search_counts_alike_on_both_backends(whoosh_archive, sharded_archive, q, filters):
    request = SearchRequest(q=q, filters=filters, size=50)
    whoosh, sharded = whoosh_archive.search(request), sharded_archive.search(request)
    assert counted(sharded) == counted(whoosh)
    if whoosh.total <= request.size:  # every result is on the page: the same ones
        assert ({(hit.cluster, hit.copies, tuple(hit.also_published_by))
                 for hit in sharded.hits}
                == {(hit.cluster, hit.copies, tuple(hit.also_published_by))
                    for hit in whoosh.hits})


def test_sorted_by_date_the_results_are_in_the_same_order(whoosh_archive, sharded_archive):
    for sort in ("newest", "oldest"):
        request = SearchRequest(q="oil", sort=sort, size=50)
        dates = [[hit.published for hit in archive.search(request).hits]
                 for archive in (whoosh_archive, sharded_archive)]
        assert dates[0] == dates[1]


def test_threads_translating_queries_at_once_share_nothing_of_xapian(sharded_archive):
    """A query's translation shares no Xapian object between threads: the count of
    references of one shared object (Xapian's own MatchAll) is not atomic, and threads
    translating ``NOT oil`` at once crashed the server."""
    query = parse_query("NOT oil").query

    def translate(_):
        db = xapian.Database()
        for _ in range(20_000):
            to_xapian(query, db)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(translate, range(4)))


def test_warming_reads_the_word_lists_ahead_without_changing_an_answer(sharded_archive):
    request = SearchRequest(q="oli prises")  # corrected: read from the word lists
    cold = Archive(sharded_archive.index_dir, pages_kept=0,
                   settings=sharded_archive.settings).search(request)
    warmed = Archive(sharded_archive.index_dir, pages_kept=0,
                     settings=sharded_archive.settings)
    warmed.warm()
    assert counted(warmed.search(request)) == counted(cold) and cold.total
