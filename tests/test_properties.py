"""Properties that hold for any input (hypothesis): the query parser and the search read
any text without an exception escaping, the cleaner reads any HTML, every output is valid
Unicode on one line where it should be, and highlights always balance."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.corpora import write_jsonl
from indexer.cleaning import clean_html
from indexer.highlight import QueryTerms, mark_all, snippet
from indexer.query import parse_query
from indexer.request import SearchRequest
from indexer.search import Archive
from indexer.writing import index_paths

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# Pieces of the query language, to be put together in every order.
QUERY_PIECES = st.sampled_from([
    "oil", "prices", "Cocoa", "pact", "security", "the", "AND", "OR", "NOT", "TO", "-", "+",
    '"', "(", ")", "[", "]", "{", "}", "*", "?", "~", "~2", "^2", ":", "title:", "body:",
    "byline:", "tag:", "date:", "date:2014", "date:[2010 TO 2015]", "date:>2020-01-01",
    "writer:", "secur*", "*ity", "goverment~", "\\", "'", "&", "<mark>", "</mark>", "<b>",
    "é", "ß", "日本", "\u200b", "\x00", "\n", " ", "  "])
QUERIES = st.one_of(st.text(max_size=80),
                    st.lists(QUERY_PIECES, max_size=20).map(" ".join),
                    st.lists(QUERY_PIECES, max_size=20).map("".join))

# HTML: elements nested in any way, with attributes, entities and stray markup.
TAGS = st.sampled_from(["html", "head", "body", "title", "meta", "article", "div", "p",
                        "span", "a", "h1", "script", "style", "time", "table", "td",
                        "nav", "header", "footer", "br", "img", "svg", "noscript", "main"])
ATTRIBUTES = st.dictionaries(
    st.sampled_from(["class", "id", "href", "content", "name", "property", "datetime",
                     "itemprop", "rel", "onclick", "style", "charset", "type"]),
    st.text(max_size=20), max_size=3)
TEXT = st.one_of(st.text(max_size=30), st.sampled_from([
    "&amp;", "&lt;script&gt;", "&#0;", "&#xD800;", "&#x110000;", "&nbsp;", "&bogus;", "<",
    ">", "<!--", "-->", "<![CDATA[", "]]>", "<?xml?>", "<!DOCTYPE html>", "\x00", "\ufeff"]))


def element(children):
    def render(parts):
        tag, attributes, inner = parts
        attrs = "".join(f' {k}="{v}"' for k, v in attributes.items())
        return f"<{tag}{attrs}>{''.join(inner)}</{tag}>"
    return st.tuples(TAGS, ATTRIBUTES, st.lists(children, max_size=4)).map(render)


HTML = st.one_of(st.text(max_size=200),
                 st.recursive(TEXT, element, max_leaves=30))


def valid_text(text: str) -> bool:
    """Valid Unicode (no halves of characters) and no NUL."""
    text.encode("utf-8")
    return "\x00" not in text


def balanced(fragment: str) -> bool:
    """Only <mark> elements, each closed, none nested: the fragment as the parser reads
    it has as many marks as the text has opening tags."""
    marks = BeautifulSoup(f"<div>{fragment}</div>", "html.parser").div.find_all(True)
    return (fragment.count("<mark>") == fragment.count("</mark>") == len(marks)
            and all(m.name == "mark" and not m.find("mark") for m in marks))


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Archive:
    root = tmp_path_factory.mktemp("properties")
    write_jsonl(root / "stories.jsonl", [
        dict(id="s1", title="Security pact signed", body="Two countries signed a security "
             "pact in Tokyo. Oil prices rose.", date="2014-03-05", tags=["defence"]),
        dict(id="s2", title="Cocoa <b>prices</b> & oil", body="Cocoa and oil prices fell; "
             "the government said <mark>nothing</mark>.", byline="Jo Park"),
        dict(id="s3", title="Governments meet", body="Securities markets met in Zürich, "
             "日本 and São Paulo.", date="1987-02-26")])
    index_paths([root], root / "index")
    return Archive(root / "index")


@SETTINGS
@given(QUERIES)
def test_any_text_parses_to_a_query_with_a_one_line_notice(text):
    parsed = parse_query(text)
    assert "\n" not in parsed.notice and valid_text(parsed.notice)
    parse_query(text, match_any=True)


@SETTINGS
@given(QUERIES, st.sampled_from(["relevance", "newest"]))
def test_any_search_answers_with_valid_text_and_balanced_highlights(archive, text, sort):
    results = archive.search(SearchRequest(q=text, sort=sort))
    assert "\n" not in results.notice and valid_text(results.notice)
    assert len(results.hits) <= results.total <= 3
    for hit in results.hits:
        assert valid_text(hit.title_html) and valid_text(hit.snippet_html)
        assert balanced(hit.title_html) and balanced(hit.snippet_html)
    for doc_id in ("s1", "s2", "s3"):
        article = archive.article(doc_id, text)
        assert all(balanced(p) for p in [article.title_html, *article.paragraphs_html])


@SETTINGS
@given(st.text(max_size=300), QUERIES)
def test_highlighting_any_text_for_any_query_balances(text, query):
    parsed = parse_query(query)
    for field in ("title", "body"):
        terms = QueryTerms(parsed.query, field)
        assert balanced(mark_all(text, terms)) and balanced(snippet(text, terms))


@SETTINGS
@given(HTML)
def test_the_cleaner_reads_any_html_into_valid_text(markup):
    page = clean_html(markup)
    for text in (page.title, page.body, page.byline, page.date, page.section, page.source,
                 page.url, page.description, *page.tags):
        assert isinstance(text, str) and valid_text(text)
    assert "\n" not in page.title
