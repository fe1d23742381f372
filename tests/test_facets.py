"""Filters, facets, date queries, sorting and duplicate collapse, on an archive whose
counts are known."""

from __future__ import annotations

import pytest

from bench.corpora import write_jsonl
from indexer.request import SearchRequest
from indexer.search import Archive
from indexer.writing import index_paths

from conftest import search

STORIES = [
    # id, source, section, byline, date, title
    ("a1", "Gazette", "Politics", "Ann Lee", "2013-06-01T12:00:00+00:00", "Harbour vote"),
    ("a2", "Gazette", "Politics", "Ann Lee", "2014-01-01T00:30:00+01:00", "Harbour plan"),
    ("a3", "Gazette", "Business", "Bo Chan", "2014-03-15T09:00:00+00:00", "Harbour fees"),
    ("a4", "Herald", "Business", "Bo Chan", "2014-03-31T23:30:00-05:00", "Harbour trade"),
    ("a5", "Herald", "Sport", "", "2014-12-31T23:30:00-05:00", "Harbour regatta"),
    ("a6", "Herald", "", "Cy Diaz", "2015-07-04T10:00:00+00:00", "Harbour fireworks"),
    ("a7", "Post", "Politics", "Ann Lee", None, "Harbour memories"),
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Archive:
    root = tmp_path_factory.mktemp("facets")
    records = [dict(id=i, source=s, section=sec, byline=b, date=d, title=t,
                    body=f"{t}: a story about the harbour, number {i}.")
               for i, s, sec, b, d, t in STORIES]
    # Two exact copies of a3 under other ids, as wire copy republished.
    records += [dict(records[2], id=f"a3-copy{n}", source="Wire") for n in (1, 2)]
    records[5]["language"] = "en-US"
    records[6]["language"] = "fr"
    write_jsonl(root / "stories.jsonl", records)
    index_paths([root], root / "index")
    return Archive(root / "index")


def facet(results, name) -> dict[str, int]:
    return {v.value: v.count for v in results.facets[name]}


def ids(results) -> list[str]:
    return [hit.id for hit in results.hits]


def test_facets_count_the_whole_result_set_not_just_the_page(archive):
    results = search(archive, "harbour", size=2)
    assert (results.total, results.articles, len(results.hits)) == (7, 9, 2)
    assert facet(results, "source") == {"Gazette": 3, "Herald": 3, "Post": 1, "Wire": 2}
    assert facet(results, "section") == {"Politics": 3, "Business": 4, "Sport": 1}
    assert facet(results, "byline") == {"Ann Lee": 3, "Bo Chan": 4, "Cy Diaz": 1}
    assert facet(results, "year") == {"2013": 1, "2014": 6, "2015": 1}
    assert "month" not in results.facets


def test_a_filter_narrows_results_and_facets_and_marks_the_active_value(archive):
    results = search(archive, "harbour", filters=(("source", "Herald"),))
    assert sorted(ids(results)) == ["a4", "a5", "a6"]
    assert facet(results, "section") == {"Business": 1, "Sport": 1}
    assert [(v.value, v.active) for v in results.facets["source"]] == [("Herald", True)]


def test_values_of_one_facet_are_ored_and_facets_are_anded(archive):
    either = search(archive, "harbour", filters=(("source", "Herald"), ("source", "Post")))
    assert sorted(ids(either)) == ["a4", "a5", "a6", "a7"]
    both = search(archive, "harbour", filters=(("source", "Herald"), ("byline", "Bo Chan")))
    assert ids(both) == ["a4"]


def test_the_language_facet_counts_and_filters_by_primary_language(archive):
    assert facet(search(archive, "harbour"), "language") == {"en": 1, "fr": 1}
    french = search(archive, "harbour", filters=(("language", "fr"),))
    assert ids(french) == ["a7"]


def test_within_one_year_the_date_facet_counts_months(archive):
    results = search(archive, "harbour", filters=(("year", "2014"),))
    assert facet(results, "month") == {"2014-01": 1, "2014-03": 4, "2014-12": 1}
    assert "year" not in results.facets


def test_filters_alone_browse_the_archive(archive):
    assert sorted(ids(search(archive, "", filters=(("section", "Politics"),)))) == [
        "a1", "a2", "a7"]


@pytest.mark.parametrize("query, expected", [
    # Dates are the articles' own: a5 is 2014-12-31 in New York, 2015 in UTC.
    ("date:2014", ["a2", "a3", "a4", "a5"]),
    ("date:2015", ["a6"]),
    ("date:2014-03", ["a3", "a4"]),
    ("date:2014-03-31", ["a4"]),
    ("date:2014-01-01", ["a2"]),
    ("date:[2013 TO 2014-01]", ["a1", "a2"]),
    ("date:[2015 TO 2013]", ["a1", "a2", "a3", "a4", "a5", "a6"]),
    ("date:>2014-12-31", ["a6"]),
    ("date:>=2014-12-31", ["a5", "a6"]),
    ("date:<2014", ["a1"]),
    ("date:[2015 TO]", ["a6"]),
    ("date:[TO 2013]", ["a1"]),
    ("date:[2014-12 TO *]", ["a5", "a6"]),
    ("harbour date:2013", ["a1"]),
])
def test_date_queries_include_their_boundaries_in_the_articles_time_zones(
        archive, query, expected):
    assert sorted(ids(search(archive, query))) == expected


def test_a_bad_date_is_explained_and_the_rest_is_searched(archive):
    results = search(archive, "regatta date:2014-13")
    assert results.notice.startswith("'2014-13' is not a date; dates are written 2014,")
    assert ids(results) == ["a5"]


def test_sort_by_date_puts_undated_articles_last(archive):
    newest = search(archive, "harbour", sort="newest")
    oldest = search(archive, "harbour", sort="oldest")
    assert ids(newest) == ["a6", "a5", "a4", "a3", "a2", "a1", "a7"]
    assert ids(oldest) == ["a1", "a2", "a3", "a4", "a5", "a6", "a7"]
    assert {hit.score for hit in newest.hits} == {None}


def test_exact_copies_collapse_into_one_result_with_a_count(archive):
    results = search(archive, "fees")
    assert (results.total, results.articles) == (1, 3)
    [hit] = results.hits
    assert (hit.id, hit.copies) == ("a3", 3)
    # Facets count every article, so each outlet that ran the story is counted.
    assert facet(results, "source") == {"Gazette": 1, "Wire": 2}
    wire = search(archive, "fees", filters=(("source", "Wire"),))
    assert (wire.total, wire.hits[0].copies) == (1, 2)


def test_copies_collapse_the_same_way_on_every_page(archive):
    one_by_one = [search(archive, "harbour", page=n, size=1).hits[0] for n in range(1, 8)]
    assert [(h.id, h.copies) for h in one_by_one] == [
        (h.id, h.copies) for h in search(archive, "harbour").hits]
    assert len({h.id for h in one_by_one}) == 7


def test_request_round_trips_through_url_arguments():
    request = SearchRequest(q="oil", filters=(("source", "A"), ("source", "B"), ("year", "1987")),
                            sort="newest", page=3, size=20)
    assert request.args() == {"q": "oil", "source": ["A", "B"], "year": ["1987"],
                              "sort": "newest", "page": 3, "size": 20}
    assert SearchRequest.from_args({k: v if isinstance(v, list) else [str(v)]
                                    for k, v in request.args().items()}) == request
    assert request.with_filter("section", "X").page == 1
    assert request.without_filter("source", "A").filters == (("source", "B"), ("year", "1987"))
