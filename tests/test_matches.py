"""Counting every match with arrays gives what Whoosh gives collecting them one by one:
the same order, totals, copies and facet counts, for every kind of query."""

from __future__ import annotations

from collections import Counter

import pytest
from whoosh import sorting

from indexer.deadline import Deadline, timed_search
from indexer.matches import scoring
from indexer.query import bound_expansions, filter_query, parse_query
from indexer.schema import FACETS
from indexer.request import SearchRequest
from indexer.search import Archive
from indexer.writing import index_paths

QUERIES = ["oil", "oil prices", '"oil prices"', "oil OR gold", "oil -prices", "NOT oil",
           "pri*", "gold~", "title:oil", "date:1987-03", "date:[1987-02-01 TO 1987-03-15] oil",
           "said", "bank rates", "(crude OR oil) AND NOT opec", "tag:acq", "*", "japan's",
           "[a TO b]", '"the company said"', '"oil prices"~3', '"that the" -oil']
FILTERS = [(), (("source", "Reuters"),),
           (("month", "1987-03"), ("month", "1987-04"), ("source", "Reuters"))]


def whoosh_collected(archive, request: SearchRequest):
    """Every match of ``request`` as Whoosh collects them one by one (as
    indexer.search did), with its facet groups."""
    searcher = archive.view().searcher
    query, _ = bound_expansions(parse_query(request.q).query, searcher.reader(),
                                Deadline(60))
    sortedby = None if request.sort == "relevance" else sorting.MultiFacet([
        sorting.FieldFacet("dated", reverse=True),
        sorting.FieldFacet("published", reverse=request.sort == "newest")])
    results, complete = timed_search(
        searcher, query, Deadline(60), limit=None, filter=filter_query(request.filters),
        sortedby=sortedby,
        groupedby={name: sorting.FieldFacet(field, maptype=sorting.Count)
                   for name, field in FACETS.items()})
    assert complete
    return results


@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest"])
@pytest.mark.parametrize("filters", FILTERS, ids=["no filter", "source", "months+source"])
@pytest.mark.parametrize("q", QUERIES)
def test_a_page_counts_and_orders_matches_as_whoosh_does(whoosh_archive, q, filters, sort):
    request = SearchRequest(q=q, filters=filters, sort=sort, size=10, page=2)
    page = whoosh_archive.search(request)
    results = whoosh_collected(whoosh_archive, request)
    clusters = [results.fields(n)["cluster"] for n in range(len(results))]
    first = list(dict.fromkeys(clusters))  # each cluster where it first ranks
    expected_ids = [results.fields(clusters.index(c))["id"] for c in first[10:20]]
    assert [hit.id for hit in page.hits] == expected_ids
    assert [hit.copies for hit in page.hits] == [Counter(clusters)[c] for c in first[10:20]]
    if sort == "relevance" and scoring(results.q) == results.q:  # nothing only restricts
        expected = [round(results.score(clusters.index(c)), 4) for c in first[10:20]]
        assert [hit.score for hit in page.hits] == pytest.approx(expected, abs=1e-4)
    assert (page.total, page.articles) == (len(first), len(results))
    for name, values in page.facets.items():
        groups = {value: count for value, count in results.groups(name).items() if value}
        assert {v.value: v.count for v in values}.items() <= groups.items()
        assert len(values) == min(len(groups), 10) or name in ("year", "month")



def test_warming_an_archive_reads_ahead_without_changing_an_answer(index_dir, tmp_path):
    cold = Archive(index_dir).search(SearchRequest(q="oil prices", page=2))
    warmed = Archive(index_dir)
    warmed.warm()
    assert warmed.search(SearchRequest(q="oil prices", page=2)).hits == cold.hits
    index_paths([], tmp_path / "empty")  # an archive of no articles has nothing to read
    Archive(tmp_path / "empty").warm()
