"""End to end over real HTTP: `morgue serve` on a loopback port, as a user runs it."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import pytest
from bs4 import BeautifulSoup

from bench.load import Server
from conftest import SAMPLE_ID


@pytest.fixture(scope="module")
def server(index_dir):
    with Server(index_dir) as running:
        yield running.url


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def test_search_over_http_shows_the_sample_article_first_with_marks(server):
    status, body = get(server + "/?" + urllib.parse.urlencode({"q": "Japan security pact"}))
    assert status == 200
    first = BeautifulSoup(body, "html.parser").select("ol.results li")[0]
    assert first.find("a")["href"].startswith(f"/articles/{SAMPLE_ID}")
    assert [m.get_text() for m in first.find("h2").find_all("mark")] == [
        "Japan", "Security", "Pact"]


def test_article_page_over_http(server):
    status, body = get(f"{server}/articles/{SAMPLE_ID}?q=treaty")
    assert status == 200
    assert [m.get_text() for m in BeautifulSoup(body, "html.parser").find_all("mark")] == [
        "treaty"]


@pytest.mark.parametrize("query", ['"unbalanced', "((((", "title:", "%ff%fe"])
def test_malformed_queries_over_http_are_never_a_server_error(server, query):
    status, body = get(f"{server}/?q={urllib.parse.quote(query, safe='%')}")
    assert status in (200, 400)
    assert "summary" in body


def test_static_files_and_the_json_api_are_served(server):
    assert get(server + "/static/style.css")[0] == 200
    status, body = get(server + "/api/search?q=treaty")
    assert status == 200 and SAMPLE_ID in body
