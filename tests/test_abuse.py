"""Abusive queries: each gets a bounded answer with a clear note, never an error, and the
server keeps answering others meanwhile."""

from __future__ import annotations

import csv
import io
import urllib.parse

import pytest
from bs4 import BeautifulSoup

from bench.load import ABUSIVE, ABUSIVE_ARGS, Server, mix, run_load
from indexer.query import MAX_QUERY_CHARS
from indexer.request import MAX_PAGE, MAX_PAGE_SIZE, SearchRequest
from indexer.search import TOO_SLOW, Archive
from webapp import create_app

from conftest import search



SECONDS = 0.25  # each search's time limit here: the bound is tested, not its size


@pytest.fixture(scope="module")
def hurried(index_dir) -> Archive:
    return Archive(index_dir, search_seconds=SECONDS)


@pytest.fixture(scope="module")
def client(index_dir):
    app = create_app(index_dir)
    app.extensions["archive"].search_seconds = SECONDS
    return app.test_client()


def one_line(text: str) -> bool:
    return "\n" not in text and "Traceback" not in text


@pytest.mark.parametrize("query", ABUSIVE)
def test_an_abusive_query_gets_a_bounded_page_of_results_and_a_one_line_note(hurried, query):
    results = search(hurried, query)
    assert len(results.hits) <= results.request.size
    assert results.total <= hurried.count()
    assert one_line(results.notice)
    for hit in results.hits:
        assert hit.title_html.count("<mark>") == hit.title_html.count("</mark>")
        assert hit.snippet_html.count("<mark>") == hit.snippet_html.count("</mark>")


@pytest.mark.parametrize("query", ABUSIVE)
def test_an_abusive_query_gets_a_page_and_an_api_answer_never_a_server_error(client, query):
    args = urllib.parse.urlencode({"q": query})
    page = client.get(f"/?{args}")
    assert page.status_code == 200
    assert BeautifulSoup(page.get_data(as_text=True), "lxml").find("input", {"name": "q"})
    answer = client.get(f"/api/search?{args}")
    assert answer.status_code == 200
    data = answer.get_json()
    assert len(data["hits"]) <= data["page_size"] and one_line(data["notice"])


@pytest.mark.parametrize("query", ["*", "?", "*zzq", "e~2 a~2 o~2", "a" * 10_000,
                                   "(" * 500 + "oil" + ")" * 500, "\x00"])
def test_an_abusive_export_is_a_bounded_download(client, archive, query):
    answer = client.get("/api/export?" + urllib.parse.urlencode({"q": query}))
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0][0] == "id" and len(rows) - 1 <= archive.count()


@pytest.mark.parametrize("args", ABUSIVE_ARGS)
def test_abusive_arguments_are_bounded_on_the_page_and_clear_errors_in_the_api(client, args):
    page = client.get(f"/?{args}")
    assert page.status_code == 200
    answer = client.get(f"/api/search?{args}")
    data = answer.get_json()
    if answer.status_code == 400:
        assert one_line(data["error"]) and data["error"]
    else:
        assert answer.status_code == 200
        assert 1 <= data["page"] and 1 <= data["page_size"] <= MAX_PAGE_SIZE
        assert len(data["hits"]) <= data["page_size"]


@pytest.mark.parametrize("args, error", [
    ("q=oil&size=-5", "size must be at least 1, not -5"),
    ("q=oil&page=0", "page must be at least 1, not 0"),
    ("q=oil&page=abc", "page must be a whole number, not 'abc'"),
    ("q=oil&sort=sideways", "sort must be one of relevance, newest, oldest, not 'sideways'"),
])
def test_the_api_names_the_bad_argument(client, args, error):
    answer = client.get(f"/api/search?{args}")
    assert (answer.status_code, answer.get_json()) == (400, {"error": error})


def test_huge_pages_and_sizes_are_lowered_to_their_bounds(client):
    data = client.get("/api/search?q=oil&page=1000000000&size=1000000000000").get_json()
    assert data["page_size"] == MAX_PAGE_SIZE and data["hits"] == []
    assert f"Only the first {MAX_PAGE} pages are shown" in data["notice"]
    assert client.get("/api/search?q=oil&frobnicate=1").get_json()["total"] == \
        client.get("/api/search?q=oil").get_json()["total"]


def test_query_strings_that_are_not_utf8_keep_the_bad_bytes_escaped(client):
    answer = client.get("/api/search?q=oil%ff%fe+prices")
    assert answer.status_code == 200
    assert answer.get_json()["query"] == "oil%FF%FE prices"
    assert client.get("/?q=%ff%fe%fd").status_code == 200


def test_halves_of_characters_and_control_characters_are_read_as_spaces(archive):
    results = search(archive, "\ud800cocoa\x00\udfff")
    assert results.total == search(archive, "cocoa").total > 0
    assert "\ud800" not in results.notice


def test_a_long_query_is_cut_with_a_note(archive):
    results = search(archive, "oil " * 5000)
    assert results.notice.startswith(f"The query was cut to its first {MAX_QUERY_CHARS}")
    assert results.total == search(archive, "oil").total


def test_a_search_out_of_time_shows_what_it_found_with_a_note(index_dir):
    # Words are counted and scored over whole arrays at once; the positions of a
    # phrase's words are read a block of postings at a time, until the time is up.
    hurried = Archive(index_dir, search_seconds=0)
    results = hurried.search(SearchRequest(q='"oil prices"'))
    everything = search(Archive(index_dir), '"oil prices"')
    assert results.notice == TOO_SLOW and everything.notice == ""
    assert results.articles < everything.articles
    notice, rows = Archive(index_dir, export_seconds=0).export(SearchRequest(q='"oil prices"'))
    assert notice == TOO_SLOW and len(list(rows)) < everything.total


def test_a_pattern_whose_look_up_runs_out_of_time_is_left_out_with_a_note(index_dir):
    results = Archive(index_dir, search_seconds=0).search(SearchRequest(q="*zzq oil"))
    assert results.notice.startswith(
        "Looking up the words '*zzq' stands for took too long, so it was left out")


def test_a_word_range_standing_for_too_many_words_is_left_out(archive):
    results = search(archive, "[a TO z] cocoa")
    assert results.notice == ("'[a TO z]' matches too many words (over 500), so it was "
                              "left out: make it longer.")
    assert results.total == search(archive, "cocoa").total


def test_the_server_answers_abusive_and_normal_queries_at_once_without_a_server_error(
        index_dir):
    with Server(index_dir, threads=4) as server:
        stats = run_load(server.url, mix(), clients=6, seconds=4, max_requests=400)
    assert stats.requests > 0 and not stats.failures
    assert stats.server_errors == 0, stats.report()
    # 414: an address longer than the server reads (a query of 10,000 characters).
    assert set(stats.statuses) <= {200, 400, 414}, stats.statuses
    assert stats.latencies["normal"] and stats.latencies["abusive"]
