"""Cleaning saved news pages: the article's text and metadata, and nothing else."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from indexer.article import parse_date
from indexer.cleaning import clean_html
from indexer.decoding import DecodeError, decode

from conftest import FIXTURES, ROOT


def clean_file(name: str):
    return clean_html(decode((FIXTURES / "pages" / name).read_bytes(), is_html=True))


@pytest.mark.parametrize("name, title, published, byline, body_start", [
    ("1ee91d1fce65.html", "Russia and Syria: U.S.-backed Syrian Forces Blocking Refugee Return",
     "2019-11-18T20:28:55+00:00", "",
     "In a joint statement published Oct. 25, the Russian and Syrian defense ministries"),
    ("7916ecca969f.html", "US service members killed in Afghanistan helicopter crash",
     "2019-11-20T08:02:00+00:00", "Al Jazeera",
     "Two United States service members have been killed in a helicopter crash in "
     "Afghanistan, the US military said in a statement on Wednesday."),
    ("e7994d550087.html", "UK Tories under fire for Twitter name switch during debate",
     "2019-11-20T06:01:44-05:00", "DANICA KIRKA and JILL LAWLESS Associated Press",
     "LONDON (AP) — Britain's Conservative Party was accused Wednesday"),
    ("bc13ff87b263.html", "Major WeWork layoffs to begin today",
     "2019-11-18T17:02:02+00:00", "Kevin Rebong",
     "More than a third of WeWork’s 12,000 employees will likely receive notice"),
])
def test_real_pages_give_title_date_byline_and_body(name, title, published, byline,
                                                    body_start):
    page = clean_file(name)
    assert page.title == title
    assert parse_date(page.date).isoformat() == published
    assert page.byline == byline
    assert page.body.startswith(body_start)


def test_real_page_body_leaves_out_navigation_and_page_furniture():
    page = clean_file("bc13ff87b263.html")
    assert "WeWork" in page.body
    for furniture in ("Sign up", "Subscribe", "Cookie", "Privacy Policy"):
        assert furniture not in page.body


def test_scripts_in_titles_and_bodies_are_removed():
    page = clean_html(
        "<html><head><title><script>alert(1)</script>Council votes</title></head>"
        "<body><h1>Council votes<script>alert(2)</script></h1>"
        "<p onclick='alert(3)'>The council voted on Tuesday.<script>alert(4)</script></p>"
        "<style>p { color: red }</style></body></html>")
    assert page.title == "Council votes"
    assert "alert" not in page.body and "color" not in page.body
    assert "The council voted on Tuesday." in page.body


def test_markup_inside_metadata_is_reduced_to_text():
    page = clean_html('<meta property="og:title" '
                      'content="&lt;script&gt;alert(1)&lt;/script&gt;Budget &lt;b&gt;passes">'
                      "<p>Text of the story.</p>")
    assert page.title == "Budget passes"


def test_broken_markup_keeps_every_paragraph_in_order():
    page = clean_html("<html><body><div><p>First paragraph<p>Second <b>bold<div>Third"
                      "</div>Fourth<br>Fifth</span></table></body>")
    assert page.body.split("\n\n") == ["First paragraph", "Second bold", "Third", "Fourth",
                                       "Fifth"]


def test_navigation_comments_and_forms_are_dropped():
    page = clean_html(
        "<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        "<header>Daily Planet</header><!-- a comment -->"
        "<article><p>Rain fell across the county for a third day, officials said.</p>"
        "<div class='share-tools'>Share on Facebook</div>"
        "<form><label>Sign up for our newsletter</label><input></form>"
        "<p>Roads were closed in several places.</p></article>"
        "<footer>Copyright Daily Planet</footer></body>")
    assert page.body == ("Rain fell across the county for a third day, officials said.\n\n"
                         "Roads were closed in several places.")


def test_json_ld_open_graph_and_canonical_metadata():
    page = clean_html("""<html><head>
      <link rel="canonical" href="https://news.example/2021/05/flood">
      <meta property="og:site_name" content="Example News">
      <meta property="article:section" content="Weather">
      <meta name="description" content="Flooding closed roads.">
      <meta name="keywords" content="flood, weather">
      <script type="application/ld+json">{"@context": "https://schema.org",
        "@graph": [{"@type": "WebSite", "name": "Example"},
                   {"@type": "NewsArticle", "headline": "Flood closes roads",
                    "datePublished": "2021-05-04T09:30:00+02:00",
                    "author": [{"@type": "Person", "name": "Ana Silva"},
                               {"@type": "Person", "name": "Tom Lee"}]}]}</script>
      </head><body><p>Water rose overnight.</p></body></html>""")
    assert page.title == "Flood closes roads"
    assert page.byline == "Ana Silva, Tom Lee"
    assert parse_date(page.date) == datetime(2021, 5, 4, 7, 30, tzinfo=timezone.utc)
    assert (page.section, page.source) == ("Weather", "Example News")
    assert page.url == "https://news.example/2021/05/flood"
    assert page.description == "Flooding closed roads."
    assert page.tags == ["flood", "weather"]


def test_visible_time_and_byline_are_the_fallback():
    page = clean_html("<h1>Local fair opens</h1><p class='byline'>By Jo Park</p>"
                      "<time datetime='2020-08-01'>1 August</time>"
                      "<p>The fair opened on Saturday with record crowds.</p>")
    assert (page.title, page.byline) == ("Local fair opens", "Jo Park")
    assert parse_date(page.date).date().isoformat() == "2020-08-01"


def test_javascript_urls_are_not_taken_as_the_article_url():
    page = clean_html('<link rel="canonical" href="javascript:alert(1)">'
                      '<meta property="og:url" content="data:text/html,x"><p>Text.</p>')
    assert page.url == ""


@pytest.mark.parametrize("declared, encoding", [("utf-8", "windows-1252"), ("iso-8859-1", "utf-8"),
                                                ("windows-1252", "windows-1252")])
def test_wrong_or_right_declared_charset_decodes_correctly(declared, encoding):
    html = (f'<html><head><meta charset="{declared}"><title>Café déjà vu</title></head>'
            "<body><p>Señora Müller’s café reopened.</p></body></html>")
    page = clean_html(decode(html.encode(encoding), is_html=True))
    assert page.title == "Café déjà vu"
    assert page.body == "Señora Müller’s café reopened."


def test_utf16_without_byte_order_mark_is_recognised():
    assert decode("Zürich talks resume".encode("utf-16-le")) == "Zürich talks resume"


def test_binary_data_is_refused():
    with pytest.raises(DecodeError):
        decode(bytes(range(256)) * 64)


@pytest.mark.parametrize("value, expected", [
    ("5-MAR-1987 09:59:11.72", "1987-03-05T09:59:11.720000+00:00"),
    ("2019-11-20T06:01:44-05:00", "2019-11-20T06:01:44-05:00"),
    ("Tue, 19 Nov 2019 07:09:00 GMT", "2019-11-19T07:09:00+00:00"),
    ("March 5", None),  # no year: not a usable publication date
    ("9999-01-01", None),
    ("not a date", None),
    ("", None),
])
def test_dates_parse_to_timezone_aware_datetimes(value, expected):
    parsed = parse_date(value)
    assert (parsed.isoformat() if parsed else None) == expected


def test_real_latin1_story_without_declaration_decodes():
    path = ROOT.parent / "shared" / "corpora" / "bbc-news" / "raw-latin1" / "bbc-sport-199.txt"
    if not path.exists():
        pytest.skip(f"{path} is not there")
    assert "a £15.8m signing from Parma" in decode(path.read_bytes())
