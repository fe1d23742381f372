"""Cleaning saved news pages: the article's text and metadata, and nothing else."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from indexer.article import parse_date
from indexer.cleaning import MAX_MARKUP, clean_html
from indexer.decoding import DecodeError, decode
from indexer.writing import index_paths

from conftest import FIXTURES, ROOT

CLEAN = FIXTURES / "clean"


def clean_file(name: str):
    return clean_html(decode((FIXTURES / "pages" / name).read_bytes(), is_html=True))


def morgue_clean(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer.cli", "clean", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name, title, published, byline, body_start", [
    ("1ee91d1fce65.html", "Russia and Syria: U.S.-backed Syrian Forces Blocking Refugee Return",
     "2019-11-18T20:28:55+00:00", "",
     "In a joint statement published Oct. 25, the Russian and Syrian defense ministries"),
    ("7916ecca969f.html", "US service members killed in Afghanistan helicopter crash",
     "2019-11-20T08:02:00+00:00", "Al Jazeera",
     "Two United States service members have been killed in a helicopter crash in "
     "Afghanistan, the US military said in a statement on Wednesday."),
    ("e7994d550087.html", "UK Tories under fire for Twitter name switch during debate",
     "2019-11-20T06:01:44-05:00", "DANICA KIRKA and JILL LAWLESS",
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


# Real pages (tests/fixtures/clean, from the zyte-extraction corpus): the title and date
# as the page shows them, the body's first and last sentences from the corpus's
# hand-checked text.
@pytest.mark.parametrize("name, title, day, byline, first, last", [
    ("04a6711caa7c", "Republicans Are Following Trump to Nowhere", "2019-11-19",
     "Jamelle Bouie",
     "Americans have gone to the polls four times this month to vote in major, statewide "
     "races.",
     "under the guise of making America great again."),
    ("0d46122928b6", "Nadal keeps Spain alive against Russia in Davis Cup Finals",
     "2019-11-19", "Associated Press",
     "MADRID — Rafael Nadal kept Spain’s hopes alive, then Marcel Granollers",
     "Colombia had lost to Belgium on Monday."),
    ("359fee228518",
     "The First Map of Saturn's Moon Titan Just Revealed Some Tantalising Features",
     "2019-11-19", "Reuters",
     "WASHINGTON (Reuters) - Scientists on Monday unveiled the first global geological map",
     "(Reporting by Will Dunham; Editing by Tom Brown)"),
    ("5f03fc173ebc", "Meal Prep for A Little More Obsessed", "2018-10-07", "Beachbody",
     "If you’ve done 80 Day Obsession with Autumn Calabrese,",
     "Portion Fix Containers: 1 tsp."),
    ("c00962aabe7b", "Seeking a bigger role for a big rocket", "2019-11-18", "Jeff Foust",
     "Earlier this month, NASA announced the newest milestone in the development",
     "should also include revisiting SLS and Orion themselves."),
    ("d90bda7ed14d", "Amnesty. More than 100 protesters killed in Iran unrest", "2019-11-20",
     "", "PanARMENIAN.Net - Verified video footage, eyewitness testimony",
     "snipers have also shot into crowds of people from rooftops and, in one case, a "
     "helicopter."),
])
def test_real_pages_give_headline_date_byline_and_the_whole_article(name, title, day, byline,
                                                                    first, last):
    page = clean_html(decode(gzip.decompress((CLEAN / f"{name}.html.gz").read_bytes()),
                             is_html=True))
    assert page.title == title
    assert parse_date(page.date).date().isoformat() == day
    assert page.byline == byline
    assert first in page.body.split("\n\n")[0]
    assert last in page.body


def test_an_article_split_into_columns_is_kept_whole_without_the_site_furniture():
    page = clean_html(decode(gzip.decompress((CLEAN / "04a6711caa7c.html.gz").read_bytes()),
                             is_html=True))
    for sentence in ("In each case, President Trump tied himself to the outcome.",
                     "Trump thought voters would repudiate impeachment and vindicate him.",
                     "I don’t see the downside."):
        assert sentence in page.body
    assert "Follow The New York Times Opinion section" not in page.body
    assert "Opinion |" not in page.title


def test_a_photo_caption_and_its_credit_stay_out_of_the_body():
    page = clean_html(decode(gzip.decompress((CLEAN / "c00962aabe7b.html.gz").read_bytes()),
                             is_html=True))
    assert "credit: NASA" not in page.body
    assert page.body.startswith("Earlier this month, NASA announced")


def test_boilerplate_inside_the_article_container_is_dropped():
    page = clean_html("""<html><head><title>Bridge reopens | The Daily Planet</title>
      <meta property="og:site_name" content="The Daily Planet"></head><body>
      <article><h1>Bridge reopens</h1>
      <div class="article-byline">By Lois Lane</div>
      <div class="story-timestamp">Published 3 March 2021</div>
      <div class="article__share"><a href="#">Share on Facebook</a> <a href="#">Tweet</a></div>
      <p>The bridge over the river reopened on Tuesday, after two years of repairs, and
         traffic flowed again by the afternoon, officials said.</p>
      <p>Read more: <a href="/other">Council approves budget</a></p>
      <p><a href="/m">The mayor</a> thanked <a href="/c">the council's transport committee</a>
         and <a href="/w">the road workers</a>.</p>
      <figure><img src="x.jpg"><figcaption>The bridge at dawn.</figcaption></figure>
      <div class="newsletter-signup"><p>Sign up for our newsletter, every morning.</p></div>
      <p>Advertisement</p>
      <p>Drivers had used a ferry, a slow and costly detour, since the closure in 2019.</p>
      <h2>What comes next</h2>
      <ul><li>Tolls return in May, the council said, at the old rates.</li></ul>
      <blockquote>“We are glad to have it back,” a driver, Ana Ruiz, said.</blockquote>
      <div class="related-stories"><a href="/a">Ferry service ends</a></div>
      </article></body></html>""")
    assert page.title == "Bridge reopens"
    assert page.byline == "Lois Lane"
    assert parse_date(page.date).date().isoformat() == "2021-03-03"
    assert page.body.split("\n\n") == [
        "The bridge over the river reopened on Tuesday, after two years of repairs, and "
        "traffic flowed again by the afternoon, officials said.",
        "The mayor thanked the council's transport committee and the road workers.",
        "Drivers had used a ferry, a slow and costly detour, since the closure in 2019.",
        "What comes next",
        "Tolls return in May, the council said, at the old rates.",
        "“We are glad to have it back,” a driver, Ana Ruiz, said."]


def test_the_container_marked_as_the_article_body_wins_a_tie():
    story = ("<p>The river rose two metres overnight, and the town, its bridges closed, "
             "waited for the water to fall.</p>") * 3
    other = story.replace("river", "canal").replace("town", "village")
    page = clean_html(f"<body><div><div>{other}</div></div>"
                      f"<div><div itemprop='articleBody'>{story}</div></div></body>")
    assert "river" in page.body and "canal" not in page.body


def test_sentences_that_start_like_stock_phrases_are_kept():
    sentences = ["Photographers waited outside the court.", "Watchdogs said the law is unclear.",
                 "Subscribers complained about the price.", "Copyright lawyers argued for weeks.",
                 "Recommended doses were halved.", "By noon, the road was open.",
                 "By the numbers", "It ended on 5 May 2020."]
    page = clean_html("<article>" + "".join(f"<p>{s}</p>" for s in sentences) + "</article>")
    assert page.body.split("\n\n") == sentences


@pytest.mark.parametrize("head, title", [
    ("<title>Storm closes schools - Sportsnet.ca</title>"
     "<meta property='og:site_name' content='Sportsnet.ca'>", "Storm closes schools"),
    ("<title>Opinion | Storm closes schools</title>", "Storm closes schools"),
    ("<title>The Morning Herald :: Storm closes schools</title>"
     "<link rel='canonical' href='https://www.morningherald.example/storm'>",
     "Storm closes schools"),
    ("<title>Ten years on: what the storm changed</title>",
     "Ten years on: what the storm changed"),
    ("<meta property='og:title' content='Storm closes schools across the'>",
     "Storm closes schools across the north"),
])
def test_the_title_loses_the_site_name_and_section_but_keeps_its_own_colons(head, title):
    page = clean_html(f"<html><head>{head}</head><body><h1>{title}</h1>"
                      "<p>Schools closed across the region, officials said.</p></body></html>")
    assert page.title == title


@pytest.mark.parametrize("markup, day", [
    ("<link rel='canonical' href='https://news.example/2019/11/18/storm'>", "2019-11-18"),
    ("<link rel='canonical' href='https://news.example/world/storm-20191118/'>", "2019-11-18"),
    ("<meta name='sn-post-date' content='2019/11/18'>", "2019-11-18"),
    ("<h1>Storm</h1><p class='when'>Monday, November 18, 2019</p>", "2019-11-18"),
    ("<h1>Storm</h1><p>Updated 20 Nov 2019</p><p>Posted 18 Nov 2019 at 9:15 am</p>",
     "2019-11-18"),
])
def test_the_date_comes_from_the_url_other_meta_tags_or_the_line_by_the_headline(markup, day):
    page = clean_html(f"<html><body>{markup}<p>The storm hit the coast overnight, and "
                      "thousands lost power, officials said.</p></body></html>")
    assert parse_date(page.date).date().isoformat() == day


@pytest.mark.parametrize("author, names", [
    ("By TOM KRISHER, AP Auto Writer", "TOM KRISHER"),
    ("By MEG KINNARD and ERRIN HAINES, Associated Press", "MEG KINNARD and ERRIN HAINES"),
    ("LISA MASCARO, MARY CLARE JALONICK and ERIC TUCKER",
     "LISA MASCARO, MARY CLARE JALONICK and ERIC TUCKER"),
    ("Troy L. Smith, cleveland.com", "Troy L. Smith"),
    ("Tanza Loudenback, Daily Planet", "Tanza Loudenback"),
    ("Carlos Nadalim 27/09/2018 Comente! Alfabetização", "Carlos Nadalim"),
    ("Written by Ana Silva | 3 March 2021", "Ana Silva"),
    ("admin", ""),
])
def test_the_byline_is_names_only(author, names):
    page = clean_html(f"<meta name='author' content='{author}'>"
                      "<meta property='og:site_name' content='The Daily Planet'><p>Text.</p>")
    assert page.byline == names


@pytest.mark.parametrize("head, source", [
    ("<meta property='og:site_name' content='LinkNaija | Nigeria news platform'>", "LinkNaija"),
    ("<meta property='og:site_name' content='https://www.newsnation.in'>"
     "<meta name='twitter:site' content='@NewsNation'>", "NewsNation"),
])
def test_the_source_is_the_site_name_alone(head, source):
    assert clean_html(f"<html><head>{head}</head><p>Text.</p></html>").source == source


def test_language_comes_from_the_page():
    assert clean_html("<html lang='pt-BR'><p>Olá.</p></html>").language == "pt-BR"
    assert clean_html("<meta property='og:locale' content='en_GB'><p>Hi.</p>"
                      ).language == "en-GB"


# Hostile pages: each gets a clean result, in bounded time (no timing asserted here: the
# extraction benchmark times the cleaner).

def test_a_20_mb_page_is_cleaned_from_its_first_megabyte():
    story = gzip.decompress((CLEAN / "c00962aabe7b.html.gz").read_bytes()).decode("utf-8")
    head, _, rest = story.partition("<body")
    bloat = "<script>var data = '" + "x" * 8_000_000 + "';</script>" + \
        "<div class='rail'><span>more</span></div>" * 300_000
    page = clean_html(f"{head}<body{rest.replace('</body>', bloat + '</body>')}")
    assert len(story) + len(bloat) > 20_000_000
    assert page.title == "Seeking a bigger role for a big rocket"
    assert "should also include revisiting SLS and Orion themselves." in page.body


def test_a_page_of_nothing_but_markup_is_cut_to_the_limit():
    page = clean_html("<p>Start.</p>" + "<span>x</span>" * 1_500_000)
    assert page.body.startswith("Start.")
    assert len(page.body) < MAX_MARKUP


@pytest.mark.parametrize("markup", [
    "<div>" * 10_000 + "<p>Deep down, the text survives, as it should.</p>" + "</div>" * 10_000,
    "<div>" * 10_000 + "<p>Deep down, the text survives, as it should.</p>",
    "<p>" + "<b>" * 10_000 + "Deep down, the text survives, as it should.",
    "".join(f"<section><p>Level {i}, deep down, the text survives.</p>" for i in range(10_000)),
])
def test_deeply_nested_markup_is_cleaned_without_recursion(markup):
    page = clean_html(f"<html><body>{markup}</body></html>")
    assert "the text survives" in page.body


@pytest.mark.parametrize("markup", [
    "<script>" * 200_000, "<!--" * 200_000, "<style>" * 200_000,
    "<p>Kept.</p><script>never closed " * 50_000,
])
def test_unclosed_scripts_and_comments_are_cut_in_linear_time(markup):
    assert "never closed" not in clean_html(markup).body


def test_a_truncated_page_keeps_what_arrived():
    story = gzip.decompress((CLEAN / "c00962aabe7b.html.gz").read_bytes()).decode("utf-8")
    cut = story[:story.index("Orion themselves") + 5]
    page = clean_html(cut + '<a href="')
    assert page.title == "Seeking a bigger role for a big rocket"
    assert page.body.startswith("Earlier this month, NASA announced")
    assert page.body.endswith("revisiting SLS and Orion")


@pytest.mark.parametrize("markup", ["", "\x00" * 1000, "<", "</p></div></html>",
                                    "<html><body></body></html>", "<?xml?><!DOCTYPE x>",
                                    "\ufffd" * 5000])
def test_empty_and_junk_pages_give_empty_fields_not_errors(markup):
    page = clean_html(markup)
    assert page.title == "" and page.date == ""


def test_indexing_hostile_pages_keeps_what_it_can_and_says_why_it_skips(tmp_path):
    story = gzip.decompress((CLEAN / "c00962aabe7b.html.gz").read_bytes()).decode("utf-8")
    pages = tmp_path / "pages"
    pages.mkdir()
    bloat = "<script>var state = '" + "x" * 15_000_000 + "';</script>" + \
        "<p>Another story, with its own words.</p>" * 150_000
    (pages / "big.html").write_text(story.replace("</body>", bloat), encoding="utf-8")
    (pages / "deep.html").write_text("<div>" * 10_000 + "<p>Deep down, the text survives.")
    (pages / "cut.html").write_text(story[:len(story) // 2], encoding="utf-8")
    (pages / "binary.html").write_bytes(bytes(range(256)) * 64)
    summary = index_paths([pages], tmp_path / "index")
    assert (pages / "big.html").stat().st_size > 20_000_000
    assert summary.added == 3
    assert [(Path(s.where).name, s.reason) for s in summary.skipped] == [
        ("binary.html", "binary data, not text")]


# morgue clean: the indexer's own reading of a file, printed.

def test_morgue_clean_prints_the_fields_and_the_article():
    run = morgue_clean(CLEAN / "c00962aabe7b.html.gz")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[:3] == ["Id:          c00962aabe7b.html.gz",
                         "Title:       Seeking a bigger role for a big rocket",
                         "Published:   2019-11-18T00:00:00+00:00"]
    assert "Byline:      Jeff Foust" in lines
    assert run.stdout.rstrip().endswith("should also include revisiting SLS and Orion "
                                        "themselves.\n\nNote: we are temporarily moderating "
                                        "all comments submitted to deal with a surge in spam.")


def test_morgue_clean_json_is_what_the_indexer_stores(tmp_path):
    run = morgue_clean(FIXTURES / "pages" / "e7994d550087.html", "--json")
    assert run.returncode == 0, run.stderr
    [line] = run.stdout.splitlines()
    record = json.loads(line)
    page = clean_file("e7994d550087.html")
    assert record["title"] == page.title
    assert record["body"] == page.body
    assert record["date"] == "2019-11-20T06:01:44-05:00"
    assert record["byline"] == "DANICA KIRKA and JILL LAWLESS"
    assert record["url"].startswith("https://hosted.ap.org/")


@pytest.mark.parametrize("name, data, message", [
    ("binary.html", bytes(range(256)) * 64, "binary data, not text"),
    ("empty.html", b"", "empty file"),
    ("notes.pdf", b"%PDF-1.4", "unsupported file type .pdf"),
    ("broken.html.gz", b"\x1f\x8b\x08\x00broken", "cannot decompress"),
])
def test_morgue_clean_refuses_bad_files_in_one_line(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    run = morgue_clean(path)
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.startswith(f"Error: {path}: ") and message in run.stderr
    assert len(run.stderr.splitlines()) == 1
