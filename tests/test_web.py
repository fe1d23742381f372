"""The web app through Flask's test client: pages, JSON API, escaping and errors."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from flask import url_for

from bench.corpora import write_jsonl
from indexer.settings import Settings
from indexer.writing import index_paths
from webapp import create_app

from conftest import SAMPLE_ID
from shardservers import free_port

HOSTILE_TITLE = "<script>alert('title')</script><img src=x onerror=alert(1)>Hostile headline"


@pytest.fixture(scope="module")
def client(archive):
    return create_app(archive.index_dir, archive.settings).test_client()


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    write_jsonl(root / "hostile.jsonl", [
        {"id": "evil<script>", "title": HOSTILE_TITLE,
         "body": "Hostile <script>alert('body')</script> text with a "
                 "<a href='javascript:alert(2)'>link</a> &lt;b&gt;entity&lt;/b&gt;.",
         "byline": "<b onmouseover=alert(3)>Mallory</b>", "source": "<i>Evil</i>",
         "url": "javascript:alert(4)", "tags": ["<svg onload=alert(5)>"]},
        {"id": "https://paper.example/2020/05/story?x=1", "title": "Story with a URL id",
         "body": "Hostile neighbours of a URL."},
    ])
    index_paths([root], root / "index")
    return create_app(root / "index").test_client()


def page(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def assert_nothing_executable(soup: BeautifulSoup) -> None:
    """No script but the app's own files, no element or attribute from article text."""
    for script in soup.find_all("script"):
        assert script["src"].startswith("/static/") and not script.string, script
    assert soup.find_all(["img", "svg", "iframe", "object", "embed"]) == []
    for tag in soup.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on")], tag
        for attr in ("href", "src", "action"):
            assert not str(tag.get(attr, "")).lower().startswith(("javascript:", "data:"))


def test_front_page_has_a_labelled_search_box(client):
    soup = page(client.get("/"))
    box = soup.find("input", attrs={"name": "q"})
    assert soup.find("label", attrs={"for": box["id"]}).get_text() == "Search the archive"
    assert "1,505 articles" in soup.get_text(" ")


def test_search_shows_the_sample_article_first_with_marked_words(client):
    response = client.get("/?q=Japan+security+pact")
    assert response.status_code == 200
    soup = page(response)
    assert soup.find("input", attrs={"name": "q"})["value"] == "Japan security pact"
    first = soup.select("ol.results li")[0]
    link = first.find("h2").find("a")
    assert link.get_text(" ", strip=True).startswith("Japan -U.S. Security Pact")
    assert link["href"].startswith(f"/articles/{SAMPLE_ID}?q=")
    assert [m.get_text() for m in first.find("h2").find_all("mark")] == [
        "Japan", "Security", "Pact"]
    assert first.select(".snippet mark")
    assert "1 result" in soup.select_one(".summary").get_text(" ")


def test_results_show_date_byline_and_source(client):
    soup = page(client.get("/?q=title:cocoa+bahia"))
    meta = soup.select("ol.results li")[0].select_one(".meta")
    assert meta.find("time")["datetime"].startswith("1987-02-26")
    assert meta.find("time").get_text() == "26 February 1987"
    assert meta.select_one(".source").get_text() == "Reuters"


def test_pagination_links_keep_the_query(client):
    soup = page(client.get("/?q=oil&page=2"))
    assert soup.select_one("ol.results")["start"] == "11"
    prev, nxt = soup.select_one("a[rel=prev]"), soup.select_one("a[rel=next]")
    assert prev["href"] == "/?q=oil" and nxt["href"] == "/?q=oil&page=3"
    numbers = [li.get_text(strip=True) for li in soup.select("nav.pages .page-numbers li")]
    assert numbers[:4] == ["1", "2", "3", "4"] and numbers[-2] == "…"
    assert soup.select_one(".page-numbers [aria-current=page]").get_text() == "2"
    assert soup.select_one(".page-numbers a[aria-label='Page 4']")["href"] == "/?q=oil&page=4"


@pytest.mark.parametrize("url", ["/?q=oil&page=999999999999999999999", "/?q=oil&page=-4",
                                 "/?q=oil&page=abc&size=100000", "/?q=oil&page=500"])
def test_absurd_pages_answer_with_a_page_not_an_error(client, url):
    response = client.get(url)
    assert response.status_code == 200
    soup = page(response)
    if not soup.select("ol.results li"):
        assert soup.select_one(".empty a")["href"] == "/?q=oil"


@pytest.mark.parametrize("query", ['"security pact', "(japan", "title:(", "AND", "nofield:x",
                                   "*", "\x00\x1f", "a" * 5000, "date:[", "date:[2010 TO",
                                   '"""', "title:(a OR (b"])
def test_malformed_queries_get_a_friendly_page(client, query):
    response = client.get("/", query_string={"q": query})
    assert response.status_code == 200
    assert page(response).select_one(".summary")


def test_no_results_page_says_so(client):
    soup = page(client.get("/?q=zzyzx+qwertyuiop"))
    assert "No results" in soup.select_one(".summary").get_text()
    assert soup.select_one(".empty")


def test_article_page_shows_the_text_with_the_query_marked(client):
    soup = page(client.get(f"/articles/{SAMPLE_ID}?q=military"))
    assert soup.find("h1").get_text().startswith("Japan-U.S. Security Pact")
    paragraphs = soup.select("article.story .body p")
    assert paragraphs[0].get_text().startswith("Washington, D.C. – The United States")
    assert len(soup.select("article.story mark")) == 7
    assert soup.select_one("a[href='/?q=military']")


def test_unknown_article_is_a_404_page(client):
    response = client.get("/articles/no-such-story")
    assert response.status_code == 404
    assert page(response).find("h1").get_text() == "Not found"


def test_json_api_search_and_article(client):
    data = client.get("/api/search?q=Japan+security+pact").get_json()
    assert data["total"] == 1 and data["hits"][0]["id"] == SAMPLE_ID
    assert "<mark>" in data["hits"][0]["snippet_html"]
    article = client.get(f"/api/articles/{SAMPLE_ID}").get_json()
    assert article["title"].startswith("Japan-U.S.") and len(article["paragraphs_html"]) == 6
    missing = client.get("/api/articles/nope")
    assert missing.status_code == 404 and "no article" in missing.get_json()["error"]


def test_hostile_article_text_is_escaped_everywhere(hostile_client):
    results = hostile_client.get("/?q=hostile")
    soup = page(results)
    assert_nothing_executable(soup)
    titles = [a.get_text() for a in soup.select("ol.results h2 a")]
    assert "<script>alert('title')</script><img src=x onerror=alert(1)>Hostile headline" in \
        [t.strip() for t in titles]
    link = soup.select_one("ol.results h2 a")["href"]
    article = hostile_client.get(link)
    assert article.status_code == 200
    soup = page(article)
    assert_nothing_executable(soup)
    assert "Mallory" in soup.get_text() and "<svg onload=alert(5)>" in soup.get_text()
    assert not soup.find("a", string="Original page")  # its javascript: URL was dropped


def test_ids_that_are_urls_route_to_their_article(hostile_client):
    soup = page(hostile_client.get("/?q=neighbours"))
    href = soup.select_one("ol.results h2 a")["href"]
    response = hostile_client.get(href)
    assert response.status_code == 200
    assert page(response).find("h1").get_text() == "Story with a URL id"


def test_missing_index_is_explained(tmp_path):
    response = create_app(tmp_path / "nothing-here").test_client().get("/?q=x")
    assert response.status_code == 503
    assert "run `morgue index` on the server" in page(response).get_text()


def test_facets_narrow_the_search_and_active_filters_show_as_removable_chips(client):
    soup = page(client.get("/?q=oil"))
    source = soup.select_one("aside.facets").find("a", string="Reuters")
    total = int(source.find_next_sibling("span").get_text().replace(",", ""))
    assert source["href"] == "/?q=oil&source=Reuters"
    narrowed = page(client.get(source["href"]))
    chip = narrowed.select_one("ul.chips a")
    assert chip.get_text(" ", strip=True) == "Source: Reuters ×"
    assert chip["href"] == "/?q=oil"
    assert narrowed.find("input", attrs={"type": "hidden", "name": "source"})["value"] == \
        "Reuters"
    assert client.get("/api/search?q=oil&source=Reuters").get_json()["articles"] == total


def test_month_facet_within_a_year_and_sort_links_keep_the_whole_state(client):
    soup = page(client.get("/?q=oil&year=1987&sort=newest&page=2"))
    months = [a.get_text() for a in soup.select("aside.facets section a")
              if a.get_text().startswith("1987-")]
    assert months and months == sorted(months)
    sort = {a.get_text(): a["href"] for a in soup.select(".sort a")}
    assert sort == {"Relevance": "/?q=oil&year=1987", "Oldest": "/?q=oil&year=1987&sort=oldest"}
    assert soup.select_one(".sort strong").get_text() == "Newest"
    export = [a["href"] for a in soup.select(".export a")]
    assert export[0] == "/api/export?format=csv&q=oil&year=1987&sort=newest"


def test_help_page_is_linked_from_the_search_box_and_explains_dates(client):
    soup = page(client.get("/"))
    href = soup.find("a", string="Query syntax")["href"]
    help_page = page(client.get(href))
    assert help_page.find("h1").get_text() == "Query syntax"
    assert "date:[2010 TO 2015]" in help_page.get_text()


def test_did_you_mean_links_to_the_corrected_search_keeping_filters(client):
    soup = page(client.get("/?q=dificulties&sort=oldest"))
    link = soup.select_one(".suggestion a")
    assert link.get_text() == "difficulties"
    assert link["href"] == "/?q=difficulties&sort=oldest"


@pytest.mark.parametrize("url", ["/", "/?q=oil", f"/articles/{SAMPLE_ID}", "/help",
                                 "/api/search?q=oil", "/no-such-page", "/static/style.css"])
def test_every_answer_carries_the_security_headers(client, url):
    headers = client.get(url).headers
    csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self'" and csp["default-src"] == "'self'"
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert csp["frame-ancestors"] == "'none'" and headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("url", ["/", "/?q=oil", f"/articles/{SAMPLE_ID}?q=pact", "/related"])
def test_pages_have_no_inline_script_or_style(client, url):
    soup = page(client.get(url))
    assert [s["src"] for s in soup.find_all("script")] and not soup.find("style")
    for tag in soup.find_all(True):
        assert not [a for a in tag.attrs if a.startswith("on") or a == "style"], tag


def test_errors_show_no_debugging_detail(client):
    app = client.application
    assert not app.debug
    response = client.get("/console")
    assert response.status_code == 404 and "Traceback" not in response.get_data(as_text=True)


def test_missing_index_asks_to_come_back(tmp_path):
    response = create_app(tmp_path / "nothing-here").test_client().get("/")
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"


def test_original_page_links_only_to_the_web_and_sends_no_referrer(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [
        {"id": "web", "title": "Web story", "body": "Text.", "url": "https://paper.example/a"},
        {"id": "ftp", "title": "Ftp story", "body": "Text.", "url": "ftp://paper.example/a"}])
    index_paths([tmp_path], tmp_path / "index")
    client = create_app(tmp_path / "index").test_client()
    link = page(client.get("/articles/web")).find("a", string="Original page")
    assert link["href"] == "https://paper.example/a"
    assert set(link["rel"]) >= {"noopener", "noreferrer"}
    assert not page(client.get("/articles/ftp")).find("a", string="Original page")


def test_results_give_dates_both_ways_and_the_citation_names_source_title_date(client):
    soup = page(client.get("/?q=title:cocoa+bahia"))
    date = soup.select_one("ol.results .meta .date")
    assert date.find("time").get_text() == "26 February 1987"
    assert date.select_one(".ago").get_text().endswith("years ago)")
    href = soup.select_one("ol.results h2 a")["href"]
    citation = page(client.get(href)).select_one("#citation").get_text()
    assert citation == "Reuters, “BAHIA COCOA REVIEW”, 26 February 1987."


def test_timeline_draws_a_bar_per_period_linking_to_it(client):
    soup = page(client.get("/?q=oil"))
    figure = soup.select_one("figure.timeline")
    bars = figure.select("svg a.bar")
    facet = {a.get_text(): int(a.find_next_sibling("span").get_text().replace(",", ""))
             for a in soup.select("aside.facets section a")
             if a.get_text()[:2] in ("19", "20")}
    labels = {bar["aria-label"].split(":")[0]: bar for bar in bars}
    assert len(bars) == len(facet) > 1
    for value, count in facet.items():
        bar = labels[value] if value in labels else next(
            b for b in bars if value in b["href"])
        assert bar["aria-label"].endswith(f"{count:,} article{'s' if count != 1 else ''}")
        narrowed = page(client.get(bar["href"]))
        assert narrowed.select_one("ul.chips a").get_text(" ", strip=True).endswith(
            f"{value} ×")
    heights = [float(bar.select("rect")[1]["height"]) for bar in bars]
    assert max(heights) == 90 and min(heights) > 0


def test_timeline_of_one_year_is_by_month(client):
    soup = page(client.get("/?q=oil&year=1987"))
    names = [bar["aria-label"] for bar in soup.select("figure.timeline a.bar")]
    assert names and all(" 1987: " in name for name in names)
    assert "per month" in soup.select_one("figure.timeline figcaption").get_text()


def test_no_results_offers_to_remove_each_filter(client):
    soup = page(client.get("/?q=zzyzx&source=Reuters&year=1987"))
    links = {a.get_text(): a["href"] for a in soup.select(".empty a")}
    assert links["Remove the filter Source: Reuters"] == "/?q=zzyzx&year=1987"
    assert links["Remove the filter Year: 1987"] == "/?q=zzyzx&source=Reuters"
    assert links["Search without any filter"] == "/?q=zzyzx"


def test_timeline_keeps_years_without_articles_as_gaps():
    from indexer.search import FacetValue
    from webapp.timeline import timeline

    drawn = timeline({"year": [FacetValue("2013", 4), FacetValue("2015", 2, active=True)]})
    assert [(b.period, b.count, b.height, b.active) for b in drawn.bars] == [
        ("2013", 4, 90, False), ("2014", 0, 0, False), ("2015", 2, 45, True)]
    assert drawn.bars[2].x > drawn.bars[1].x > drawn.bars[0].x
    assert timeline({"year": []}) is None
    months = timeline({"month": [FacetValue("1987-03", 5)]})
    assert len(months.bars) == 12 and months.bars[2].name == "March 1987"


def test_the_related_part_of_an_article_page_alone(client):
    whole = page(client.get(f"/articles/{SAMPLE_ID}?q=pact&related=all"))
    part = page(client.get(f"/articles/{SAMPLE_ID}?q=pact&related=all&part=related"))
    assert not part.find("article") and not part.find("html")
    assert str(part.select_one("section.related")) == str(whole.select_one("section.related"))
    toggle = part.find("a", string="only earlier stories")
    assert toggle["href"] == f"/articles/{SAMPLE_ID}?q=pact" and toggle["data-part"] == "related"


def test_a_story_in_several_outlets_is_one_result_naming_the_others(tmp_path):
    body = ("The harbour authority approved the dredging of the northern channel on "
            "Tuesday after a long dispute with fishermen over silt and the spawning "
            "grounds of the bay, officials said in a statement. ") * 3
    write_jsonl(tmp_path / "a.jsonl", [
        {"id": f"wire-{n}", "title": f"Harbour dredging approved ({source})", "body": body,
         "source": source, "date": "2014-03-0" + str(n + 1)}
        for n, source in enumerate(["Gazette", "Herald", "Post"])])
    index_paths([tmp_path], tmp_path / "index")
    client = create_app(tmp_path / "index").test_client()
    soup = page(client.get("/?q=dredging"))
    [result] = soup.select("ol.results li.result")
    link = result.select_one("a.copies")
    assert link.get_text(" ", strip=True).startswith("also published by 2 outlets")
    shown = result.select_one(".source").get_text()
    others = sorted({"Gazette", "Herald", "Post"} - {shown})
    assert link.select_one(".visually-hidden").get_text() == ": " + ", ".join(others)
    cluster = page(client.get(link["href"]))
    assert len(cluster.select("ol.results li.result")) == 3


def test_search_links_are_the_addresses_url_for_makes(index_dir):
    """Facets, chips, timeline bars, sorts and pages link to what url_for gives for
    their search, filter values with reserved and non-ASCII characters included."""
    app = create_app(index_dir)
    response = app.test_client().get("/", query_string={
        "q": "oil \"prices\" +x", "source": ["Reuters", "A/B & C+é%?"], "sort": "newest"})
    links = [a["href"] for a in page(response).find_all("a", href=True)
             if a["href"].startswith("/?")]
    assert len(links) > 5 and any("%C3%A9" in link and "A/B" in link for link in links)
    with app.test_request_context():
        for link in links:
            args = parse_qs(urlsplit(link).query, keep_blank_values=True)
            assert link == url_for("morgue.search_page", **args)


def test_a_backend_that_cannot_answer_is_a_503_page_naming_no_server(index_dir):
    port = free_port()  # nothing listens there
    app = create_app(index_dir, Settings("xapian", (("127.0.0.1", port),)))
    response = app.test_client().get("/?q=oil")
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    page = response.get_data(as_text=True)
    assert "Archive unavailable" in page and str(port) not in page
