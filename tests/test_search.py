"""The read API: ranking, phrases, highlighting, paging and malformed queries."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from bench.corpora import write_jsonl
from indexer.request import MAX_PAGE, SearchRequest
from indexer.search import Archive
from indexer.writing import index_paths

from conftest import search, SAMPLE_ID


def marked(fragment: str) -> list[str]:
    return [m.get_text() for m in BeautifulSoup(fragment, "html.parser").find_all("mark")]


def test_japan_security_pact_finds_the_sample_article_first(archive):
    results = search(archive, "Japan security pact")
    assert results.hits[0].id == SAMPLE_ID
    top = results.hits[0]
    assert top.title.startswith("Japan-U.S. Security Pact Upgraded")
    assert marked(top.title_html) == ["Japan", "Security", "Pact"]
    assert {w.lower() for w in marked(top.snippet_html)} >= {"japan", "security"}


def test_snippets_are_fragments_around_the_matches_not_the_opening(archive):
    hit = search(archive, "cybersecurity").hits[0]
    assert hit.id == SAMPLE_ID
    assert marked(hit.snippet_html) == ["cybersecurity"]
    assert not hit.snippet_html.startswith("Washington")
    assert len(BeautifulSoup(hit.snippet_html, "html.parser").get_text()) < 400


def test_words_are_stemmed_and_case_and_accents_folded(archive):
    assert search(archive, "PACTS alliances").hits[0].id == SAMPLE_ID
    assert search(archive, "allíes strengthening").hits[0].id == SAMPLE_ID


def test_quoted_phrases_match_exact_words_in_order(archive):
    assert [h.id for h in search(archive, '"security pact"').hits] == [SAMPLE_ID]
    assert search(archive, '"pact security"').total == 0
    # "allies" stems to "alli"; the phrase must match the word as written.
    assert search(archive, '"two ally"').total == 0
    assert search(archive, '"two allies"').hits[0].id == SAMPLE_ID
    assert search(archive, '"upgrade security pact"~3').hits[0].id == SAMPLE_ID


def test_boolean_operators_and_fields(archive):
    crude = search(archive, "crude").total
    assert 0 < search(archive, "crude NOT opec").total < crude
    assert search(archive, "crude OR coffee").total > crude
    assert 0 < search(archive, "title:crude").total < crude
    assert all("crude" in h.title.lower() for h in search(archive, "title:crude").hits)


def test_title_matches_outrank_body_matches(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [
        {"id": "body", "title": "Council meeting", "body": "The zebra crossing was discussed."},
        {"id": "title", "title": "Zebra crossing", "body": "The council meeting discussed it."},
    ])
    index_paths([tmp_path], tmp_path / "index")
    assert [h.id for h in search(Archive(tmp_path / "index"), "zebra").hits] == ["title", "body"]


def test_pages_are_stable_and_a_page_past_the_end_is_empty(archive):
    first = search(archive, "oil", page=1, size=5)
    second = search(archive, "oil", page=2, size=5)
    both = search(archive, "oil", page=1, size=10)
    assert first.total == second.total == both.total > 10
    assert [h.id for h in first.hits + second.hits] == [h.id for h in both.hits]
    past = search(archive, "oil", page=first.pages + 1, size=5)
    assert past.hits == [] and past.total == first.total


@pytest.mark.parametrize("page, size", [(10**12, 10), ("x", "y"), (-3, -10), (2, 10**9)])
def test_absurd_page_numbers_and_sizes_are_bounded(archive, page, size):
    request = SearchRequest.from_args({"q": "oil", "page": str(page), "size": str(size)})
    results = archive.search(request)
    assert 1 <= request.page <= 10**9 and 1 <= request.size <= 100
    assert len(results.hits) <= request.size
    assert results.total > 0


def test_pages_past_the_deepest_served_one_say_so(archive):
    results = search(archive, "the OR oil OR said", page=MAX_PAGE + 1, size=1)
    assert results.hits == []
    assert "narrow the search" in results.notice


@pytest.mark.parametrize("query, notice", [
    ('"security pact', "unmatched quote"),
    ("(japan security", "unmatched parentheses"),
    ("japan) security", "unmatched parentheses"),
    ("author:japan security", "no field 'author'"),
])
def test_malformed_queries_are_repaired_with_a_notice(archive, query, notice):
    results = search(archive, query)
    assert notice in results.notice.lower()
    assert results.hits[0].id == SAMPLE_ID


@pytest.mark.parametrize("query", ["", "   ", "AND", "((", '""', "the of and"])
def test_empty_or_meaningless_queries_give_no_results_and_no_error(archive, query):
    results = search(archive, query)
    assert results.total == 0 and results.hits == []


def test_article_view_highlights_the_query_in_every_paragraph(archive):
    article = archive.article(SAMPLE_ID, "military cooperation")
    assert len(article.paragraphs_html) == 6
    assert article.paragraphs_html[0].startswith("Washington, D.C. – The United States")
    assert marked(article.paragraphs_html[0]) == ["military"] * 3
    assert marked(article.paragraphs_html[2]) == ["military", "military", "cooperation"]
    plain = archive.article(SAMPLE_ID)
    assert not any("<mark>" in p for p in plain.paragraphs_html)
    assert archive.article("no-such-id") is None


def test_highlighting_escapes_the_text_around_the_marks(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{
        "id": "x", "title": "<img src=x onerror=alert(1)> Budget",
        "body": "The <script>alert('budget')</script> budget & the <b>deficit</b>."}])
    index_paths([tmp_path], tmp_path / "index")
    hit = search(Archive(tmp_path / "index"), "budget").hits[0]
    for fragment in (hit.title_html, hit.snippet_html):
        tags = {t.name for t in BeautifulSoup(fragment, "html.parser").find_all(True)}
        assert tags == {"mark"}
    assert "&lt;script&gt;" in hit.snippet_html and "&amp;" in hit.snippet_html
    assert re.search(r"<mark>budget</mark>", hit.snippet_html)


@pytest.mark.parametrize("query, corrected", [
    ("Japan securty pact", "Japan security pact"),
    ('"mlitary cooperation"', '"military cooperation"'),
    ("title:japn pact", "title:japan pact"),
    ("cybersecurty", "cybersecurity"),
    ("secruity pact", "security pact"),  # two letters swapped count as one edit
])
def test_a_query_that_finds_nothing_is_searched_as_the_archive_spells_it(archive, query,
                                                                          corrected):
    results = search(archive, query)
    assert results.notice == (f"No article has all of these words; showing results for "
                              f"“{corrected}” instead.")
    assert [h.id for h in results.hits] == [h.id for h in search(archive, corrected).hits]
    assert results.hits[0].id == SAMPLE_ID


def test_a_rare_spelling_found_in_a_few_articles_gets_a_did_you_mean(archive):
    results = search(archive, "dificulties")  # as misspelt in one Reuters story
    assert results.total == 1 and results.notice == ""
    assert results.suggestion == "difficulties"
    assert results.suggestion_total == search(archive, "difficulties").articles > 1


def test_when_no_article_has_all_the_words_those_with_most_of_them_come_first(archive):
    results = search(archive, "japan security pact qqxzzv")
    assert results.notice == ("No article has all of these words; these have some of "
                              "them, the most first.")
    assert results.hits[0].id == SAMPLE_ID
    assert results.total > 1


@pytest.mark.parametrize("query", ["Japan security pact", "zzyzxqq", "pact -japan",
                                   "secur*", "date:1987-03 japan"])
def test_no_correction_for_words_spelt_as_the_archive_spells_them(archive, query):
    assert search(archive, query).suggestion == ""
