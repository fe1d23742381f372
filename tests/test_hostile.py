"""A hostile archive, written into a temporary directory: pages with scripts and event
handlers everywhere, URLs that run code, text in wrong or broken encodings, NUL bytes, a
50 MB page, 10,000-deep nesting, empty and binary files, a JSON Lines file with broken
lines, duplicate ids and absurd dates, beside real news pages. Indexing goes through;
each bad item is cleaned or skipped with its reason; every good item is found; and no
page or API answer holds anything a browser would run (checked by parsing it)."""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse

import pytest
from bs4 import BeautifulSoup

from indexer.search import Archive
from indexer.writing import index_paths
from webapp import create_app

from conftest import FIXTURES, search

XSS = "<script>alert(1)</script><img src=x onerror=alert(2)><svg onload=alert(3)>"
RUNNABLE_SCHEMES = ("javascript:", "data:", "vbscript:")
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "poster", "background",
                  "xlink:href", "srcset", "data", "ping")


def page(title: str, body: str, head: str = "") -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
            f"{head}</head><body><article><h1>{title}</h1>{body}</article></body></html>")


SCRIPT_PAGE = page(
    f"{XSS} Alphamark headline",
    f"<p onclick=alert(4) style='background:url(javascript:alert(5))'>Alphamark story "
    f"text {XSS} with <a href='javascript:alert(6)'>a link</a>, "
    "<a href='data:text/html,&lt;script&gt;alert(7)&lt;/script&gt;'>another</a>, "
    "<iframe src='javascript:alert(8)'></iframe><form action='javascript:alert(9)'>"
    "<button formaction='javascript:alert(10)'>go</button></form> and more words.</p>"
    "<p>A second paragraph of the alphamark story, long enough to be kept as text.</p>",
    head="<meta name='author' content='<b onmouseover=alert(11)>Eve</b>'>"
         "<link rel='canonical' href='javascript:alert(12)'>"
         "<meta property='og:url' content='data:text/html,alert(13)'>"
         "<base href='javascript:alert(14)//'><meta http-equiv='refresh' "
         "content='0;url=javascript:alert(15)'>"
         "<script type='application/ld+json'>{\"@type\": \"NewsArticle\", "
         "\"headline\": \"<script>alert(16)</script>Alphamark\", "
         "\"author\": {\"name\": \"<img src=x onerror=alert(17)>\"}}</script>")
ENTITY_PAGE = page(
    "&lt;script&gt;alert(18)&lt;/script&gt; Bravomark",
    "<p>Bravomark text: &lt;img src=x onerror=alert(19)&gt; and &#60;script&#62;alert(20)"
    "&#60;/script&#62; and &amp;lt;b&amp;gt; double-escaped, in a paragraph of words.</p>")

# name -> the bytes of a source file
FILES = {
    "pages/script.html": SCRIPT_PAGE.encode(),
    "pages/entities.html": ENTITY_PAGE.encode(),
    # Windows-1252 bytes, not valid UTF-8, no charset declared.
    "pages/cp1252.html": page("Café Charliemark", "<p>Caf\xe9 cr\xe8me and the charliemark "
                              "story in a legacy encoding.</p>").replace(
                                  "<meta charset='utf-8'>", "").encode("cp1252"),
    "pages/broken-utf8.html": page("Brokenmark", "<p>Valid words, then \udcff\udcfe broken "
                                   "bytes in the brokenmark story.</p>").encode(
                                       "utf-8", "surrogateescape"),
    "pages/utf16.html": page("Deltamark Zürich", "<p>Deltamark story from Zürich in "
                             "UTF-16 with no byte-order mark.</p>").encode("utf-16-le"),
    "pages/wrong-charset.html": page("Echomark Zürich", "<p>Echomark says Zürich, in UTF-8 "
                                     "while the page says Latin-1.</p>").replace(
                                         "charset='utf-8'", "charset='iso-8859-1'").encode(),
    "pages/nul.html": page("Foxtrotmark\x00 title", "<p>Foxtrotmark\x00 text with NUL\x00 "
                           "bytes inside it.</p>").encode(),
    "pages/deep.html": page("Hotelmark deep", "<div>" * 10_000 + "<p>Hotelmark text at "
                            "the bottom of ten thousand divisions.</p>" + "</div>" * 10_000
                            ).encode(),
    "pages/empty.html": b"",
    "pages/blank.html": b"  \n\t ",
    "pages/binary.html": bytes(range(256)) * 64,
    "pages/image.html": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16,
    "notes/script.txt": f"{XSS} Novembermark title\nNovembermark body {XSS}\n".encode(),
}
HUGE = "pages/huge.html"  # 50 MB, written apart
JSONL = [
    {"id": "india", "title": f"{XSS} Indiamark", "html": SCRIPT_PAGE.replace(
        "Alphamark", "Indiamark").replace("alphamark", "indiamark"),
     "url": "javascript:alert(21)", "byline": XSS, "tags": [XSS, "ok"]},
    "{broken json line",
    {"id": "juliet", "title": "Julietmark", "body": "Dated in year one.", "date": "0001-01-01"},
    {"id": "kilo", "title": "Kilomark", "body": "Dated in 9999.", "date": "9999-12-31T23:59"},
    {"id": "india", "title": "Impostor", "body": "Duplicate id, impostormark."},
    [1, 2, 3],
    {"id": "lima", "title": "Limamark \ud800 half", "body": "Half a character\udfff, and a NUL"
     "\x00 in limamark.", "url": "data:text/html,<script>alert(22)</script>",
     "section": "<style>*{}</style>", "source": "<iframe src=javascript:alert(23)>",
     "description": "<a href=javascript:alert(24)>x</a>", "date": "1500-01-01"},
    {"id": 7, "title": ["Mikemark", "list"], "body": {"not": "text"}, "tags": [None, {}, 3],
     "date": 1e308},
    {"id": "november-2", "title": "Oscarmark", "body": "Dated far ahead.", "date": "3000-01-01"},
    {"id": "papa", "title": "Papamark " * 20_000, "body": "Papamark text. " * 300_000,
     "tags": [f"tag{n}" for n in range(1000)]},
    {"id": "x" * 5000, "title": "Quebecmark", "body": "An id as long as a story."},
]
REAL_PAGES = sorted(p.name for p in (FIXTURES / "pages").glob("*.html"))
# The marker word of each item that must be indexed, and its id.
GOOD = {"alphamark": "pages/script.html", "bravomark": "pages/entities.html",
        "charliemark": "pages/cp1252.html", "brokenmark": "pages/broken-utf8.html",
        "deltamark": "pages/utf16.html", "echomark": "pages/wrong-charset.html",
        "foxtrotmark": "pages/nul.html", "golfmark": HUGE, "hotelmark": "pages/deep.html",
        "novembermark": "notes/script.txt", "indiamark": "india", "julietmark": "juliet",
        "kilomark": "kilo", "limamark": "lima", "mikemark": "7", "oscarmark": "november-2",
        "papamark": "papa"}


def jsonl_line(record) -> str:
    return record if isinstance(record, str) else json.dumps(record)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    archive = root / "archive"
    for name, data in FILES.items():
        (archive / name).parent.mkdir(parents=True, exist_ok=True)
        (archive / name).write_bytes(data)
    paragraph = "<p>" + "Golfmark filler words of a page far too long. " * 40 + "</p>\n"
    with open(archive / HUGE, "w", encoding="utf-8") as out:
        out.write(page("Golfmark huge", "<p>Golfmark opening paragraph of a huge page.</p>")
                  .split("</article>")[0])
        for _ in range((50 << 20) // len(paragraph) + 1):
            out.write(paragraph)
        out.write("</article></body></html>")
    (archive / "wire.jsonl").write_text(
        "\n".join(jsonl_line(r) for r in JSONL) + "\n", "utf-8")
    shutil.copytree(FIXTURES / "pages", archive / "real")
    summary = index_paths([archive], root / "index")
    return archive, root / "index", summary


def test_the_huge_page_is_50_mb(hostile):
    archive, _, _ = hostile
    assert os.path.getsize(archive / HUGE) >= 50 << 20


def test_indexing_skips_each_bad_item_with_its_reason_and_keeps_every_good_one(hostile):
    archive, index, summary = hostile
    assert sorted((os.path.relpath(s.where, archive), s.reason) for s in summary.skipped) == [
        ("pages/binary.html", "binary data, not text"),
        ("pages/blank.html", "empty file"),
        ("pages/empty.html", "empty file"),
        ("pages/image.html", "binary data, not text"),
        ("wire.jsonl", f"duplicate id 'india' (first in {archive / 'wire.jsonl'})"),
        ("wire.jsonl:11", "id longer than 2000 characters"),
        ("wire.jsonl:2", "not valid JSON (Expecting property name enclosed in double "
                         "quotes)"),
        ("wire.jsonl:6", "not a JSON object"),
    ]
    assert summary.total == len(GOOD) + len(REAL_PAGES)
    archive_index = Archive(index)
    for marker, doc_id in GOOD.items():
        assert [hit.id for hit in search(archive_index, marker).hits] == [doc_id], marker
    assert search(archive_index, "impostormark").hits == []


def test_real_pages_beside_the_hostile_ones_are_indexed_whole(hostile):
    _, index, _ = hostile
    archive = Archive(index)
    assert search(archive, "WeWork layoffs").hits[0].title == \
        "Major WeWork layoffs to begin today"
    assert search(archive, "helicopter Afghanistan").total == 1


def test_text_is_decoded_and_cleaned_of_what_no_text_holds(hostile):
    _, index, _ = hostile
    archive = Archive(index)
    for doc_id, expected in [("pages/cp1252.html", "Café crème"),
                             ("pages/utf16.html", "Zürich in UTF-16"),
                             ("pages/wrong-charset.html", "Echomark says Zürich"),
                             ("pages/broken-utf8.html", "Valid words, then")]:
        assert expected in archive.article(doc_id).body, doc_id
    for marker, doc_id in GOOD.items():
        article = archive.article(doc_id)
        for text in (article.title, article.body, article.byline, article.source):
            assert "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
            text.encode("utf-8")  # valid Unicode: no half characters
    lima = archive.article("lima")
    assert (lima.url, lima.published) == ("", "")  # a data: URL and a date before 1700
    assert archive.article("india").url == ""  # a javascript: URL is dropped
    assert archive.article("juliet").published == archive.article("kilo").published == ""
    assert archive.article("november-2").published == ""
    assert archive.article("7").title == "['Mikemark', 'list']"
    papa = archive.article("papa")  # cut at a space to a size an article can have
    assert len(papa.title) <= 2000 and papa.title.endswith("Papamark")
    assert len(papa.body) <= 1_000_000 and papa.body.split()[-1] in ("Papamark", "text.")
    assert len(papa.tags) == 200


def assert_nothing_runnable(html: str, where: str) -> None:
    """Parsed as a browser would, ``html`` has no script of its own, no event handler,
    no URL that runs code, nothing that loads or redirects to one."""
    soup = BeautifulSoup(html, "lxml")
    for script in soup.find_all("script"):
        assert script.get("src", "").startswith("/static/") and not script.get_text(), \
            (where, str(script)[:200])
    for tag in soup.find_all(["iframe", "frame", "object", "embed", "base", "svg", "math",
                              "img", "video", "audio", "applet"]):
        raise AssertionError((where, str(tag)[:200]))
    for tag in soup.find_all("meta", attrs={"http-equiv": True}):
        assert tag["http-equiv"].lower() != "refresh", (where, str(tag))
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            assert not name.lower().startswith("on"), (where, str(tag)[:200])
            assert name.lower() != "srcdoc", (where, str(tag)[:200])
            if name.lower() in URL_ATTRIBUTES:
                url = "".join(str(value).split()).lower()
                assert not url.startswith(RUNNABLE_SCHEMES), (where, str(tag)[:200])
            if name.lower() == "style":
                assert "javascript:" not in str(value).lower(), (where, str(tag)[:200])


def assert_marks_only(fragment: str, where: str) -> None:
    """An HTML fragment of article text holds no element but <mark>."""
    soup = BeautifulSoup(f"<div>{fragment}</div>", "lxml")
    assert {tag.name for tag in soup.div.find_all(True)} <= {"mark"}, (where, fragment[:300])
    assert all(not tag.attrs for tag in soup.div.find_all(True)), (where, fragment[:300])


@pytest.fixture(scope="module")
def client(hostile):
    return create_app(hostile[1]).test_client()


@pytest.mark.parametrize("marker", sorted(GOOD))
def test_no_page_shows_anything_a_browser_would_run(client, marker):
    results = client.get(f"/?q={marker}")
    assert results.status_code == 200
    assert_nothing_runnable(results.get_data(as_text=True), f"results for {marker}")
    links = [a["href"] for a in BeautifulSoup(results.get_data(as_text=True), "lxml")
             .select("a[href^='/articles/']")]
    assert links, marker
    for link in links:
        article = client.get(link)
        assert article.status_code == 200, link
        assert_nothing_runnable(article.get_data(as_text=True), link)


@pytest.mark.parametrize("marker", sorted(GOOD))
def test_no_api_answer_holds_markup_but_marks_nor_a_url_that_runs(client, marker):
    data = client.get(f"/api/search?q={marker}").get_json()
    assert data["hits"], marker
    for hit in data["hits"]:
        assert_marks_only(hit["title_html"], hit["id"])
        assert_marks_only(hit["snippet_html"], hit["id"])
        assert hit["url"] == "" or hit["url"].startswith(("http://", "https://"))
        answer = client.get(f"/api/articles/{urllib.parse.quote(hit['id'])}?q={marker}")
        assert answer.status_code == 200 and answer.mimetype == "application/json"
        article = answer.get_json()
        assert_marks_only(article["title_html"], hit["id"])
        for paragraph in article["paragraphs_html"]:
            assert_marks_only(paragraph, hit["id"])
        assert article["url"] == "" or article["url"].startswith(("http://", "https://"))


def test_markup_in_article_text_is_shown_as_text(client):
    soup = BeautifulSoup(client.get("/?q=bravomark").get_data(as_text=True), "lxml")
    assert "text: <img src=x onerror=alert(19)> and" in soup.select_one(
        "ol.results .snippet").get_text()
    soup = BeautifulSoup(client.get("/?q=indiamark").get_data(as_text=True), "lxml")
    assert " ".join(soup.select_one("ol.results h2").get_text().split()) == \
        f"{XSS} Indiamark"
    data = client.get("/api/search?q=indiamark").get_json()
    assert data["hits"][0]["title"] == f"{XSS} Indiamark"
