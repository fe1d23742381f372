"""The query language, construct by construct, on a small archive of known stories."""

from __future__ import annotations

import pytest

from bench.corpora import write_jsonl
from indexer.query import MAX_EXPANSIONS, parse_query
from indexer.search import Archive
from indexer.writing import index_paths

from conftest import search

STORIES = {
    "s1": ("Government budget passes", "The government passed its budget on Tuesday.",
           ["politics", "budget"]),
    "s2": ("Security pact signed", "Two countries signed a security pact in Tokyo.",
           ["defence"]),
    "s3": ("Pact talks stall", "Talks on a new trade pact stalled over security issues.",
           ["trade"]),
    "s4": ("Co-operation agreement", "A co-operation agreement on fishing was reached.",
           ["fishing"]),
    "s5": ("Governments meet", "Governments met to discuss the securities market.",
           ["markets"]),
}


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Archive:
    root = tmp_path_factory.mktemp("query")
    write_jsonl(root / "stories.jsonl", [
        dict(id=i, title=t, body=b, tags=tags, byline="Jo Park" if i == "s2" else "Al Kim",
             section="World" if i in ("s2", "s3") else "Home", source="Daily")
        for i, (t, b, tags) in STORIES.items()])
    index_paths([root], root / "index")
    return Archive(root / "index")


def ids(archive, query: str) -> list[str]:
    return sorted(hit.id for hit in search(archive, query).hits)


@pytest.mark.parametrize("query, expected", [
    ("security pact", ["s2", "s3"]),                  # all words, in any field
    ("security OR budget", ["s1", "s2", "s3", "s5"]),  # "securities" stems alike
    ("pact NOT trade", ["s2"]),
    ("pact -trade", ["s2"]),
    ("-pact", ["s1", "s4", "s5"]),                     # a lone minus is a lone NOT
    ("NOT pact -budget", ["s4", "s5"]),
    ("title:[pact TO pacz]", ["s2", "s3"]),            # a range of words
    ("(budget OR fishing) agreement", ["s4"]),
    ('"security pact"', ["s2"]),                      # in order, as written
    ('"pact security"', []),
    ('"signed pact"~3', ["s2"]),
    ("title:pact", ["s2", "s3"]),
    ("title:security", ["s2"]),
    ("byline:park", ["s2"]),
    ("section:world", ["s2", "s3"]),
    ("source:daily pact", ["s2", "s3"]),
    ("tag:budget", ["s1"]),
    ("tags:trade", ["s3"]),
    ("govern*", ["s1", "s5"]),                         # prefix of the words as written
    ("securit*", ["s2", "s3", "s5"]),
    ("goverment~", ["s1"]),                            # one edit away
    ("govrnmnt~2", ["s1"]),
    ("co-operation", ["s4"]),                          # a hyphenated word is one phrase
    ("operation", ["s4"]),
    ("governments", ["s1", "s5"]),                     # stemmed
    ("* pact", ["s2", "s3"]),                          # every article, and a word
    ("title:* OR budget", ["s1", "s2", "s3", "s4", "s5"]),
])
def test_each_construct_of_the_query_language(archive, query, expected):
    assert ids(archive, query) == expected


def test_a_prefix_that_stands_for_too_many_words_is_left_out_with_a_notice(tmp_path):
    words = [f"zed{n:04d}" for n in range(MAX_EXPANSIONS + 1)]
    write_jsonl(tmp_path / "many.jsonl", [{"id": "m", "title": "Many words",
                                           "body": " ".join(words)}])
    index_paths([tmp_path], tmp_path / "index")
    archive = Archive(tmp_path / "index")
    results = search(archive, "zed* words")
    assert results.notice == (f"'zed*' matches too many words (over {MAX_EXPANSIONS}), so "
                              "it was left out: make it longer.")
    assert [h.id for h in results.hits] == ["m"]
    assert [h.id for h in search(archive, "zed000*").hits] == ["m"]
    assert "too many words" in search(archive, "*ed*").notice
    assert search(archive, "*").total == 1  # a lone star is every article


def test_the_words_a_pattern_stands_for_are_highlighted(archive):
    marked = {hit.id: hit.snippet_html for hit in search(archive, "securit*").hits}
    assert "<mark>securities</mark>" in marked["s5"] and "<mark>security</mark>" in marked["s2"]
    assert search(archive, "goverment~").hits[0].title_html == (
        "<mark>Government</mark> budget passes")


@pytest.mark.parametrize("text, notice", [
    ('"security pact', "An unmatched quote mark was ignored."),
    ("(security pact", "Unmatched parentheses were ignored."),
    ("security) pact", "Unmatched parentheses were ignored."),
    ("writer:park pact", "There is no field 'writer', so its words were searched in all "
                         "fields (fields: title, body, byline, section, source, tag, date)."),
    ("pact date:1987-02-30", "'1987-02-30' is not a date; dates are written 2014, 2014-03, "
                             "2014-03-05, [2010 TO 2015] or >2020-01-01."),
    ("pact date:[2015 TO 2010]", "A date range was given end first, so it was turned round."),
    ("pact date:[2010", "'[2010' is not a date; dates are written 2014, 2014-03, 2014-03-05, "
                        "[2010 TO 2015] or >2020-01-01."),
    ("pact date:0001", "'0001' is not a date from 1000 to 9998; dates are written 2014, "
                       "2014-03, 2014-03-05, [2010 TO 2015] or >2020-01-01."),
    ("x" * 1200, "The query was cut to its first 1000 characters."),
])
def test_malformed_queries_are_read_at_their_best_with_a_one_line_notice(text, notice):
    parsed = parse_query(text)
    assert parsed.notice == notice
    assert "\n" not in parsed.notice
