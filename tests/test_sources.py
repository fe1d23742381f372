"""Reading source files: which articles come out of each format, and what is skipped."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from pathlib import Path

import pytest

from indexer.sources import Known, SourceError, SourceFile, find_sources, read_articles

from conftest import FIXTURES, ROOT


def read(path: Path, known: dict[str, str] | None = None):
    return read_articles(SourceFile(path, path.parent), path.read_bytes(), known)


def test_jsonl_records_become_articles_and_bad_lines_are_skipped(tmp_path):
    path = tmp_path / "wire.jsonl"
    path.write_text("\n".join([
        json.dumps({"id": "w1", "title": "Grain prices rise", "body": "Wheat rose.\n\nCorn too.",
                    "date": "1987-03-05T10:00:00", "byline": "By A. Writer", "section": "Markets",
                    "source": "Wire", "tags": ["grain", "wheat"], "url": "https://wire.example/1"}),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"id": "w2", "title": "", "body": ""}),
        json.dumps({"title": "No id given", "body": "Text", "tags": "a, b",
                    "url": "javascript:alert(1)"}),
        json.dumps({"id": "w3", "html": "<h1>From HTML</h1><nav>Menu</nav><p>Page text.</p>"}),
        "",
    ]), "utf-8")
    articles, skips = read(path)
    first, no_id, from_html = articles
    assert (first.id, first.title, first.body) == ("w1", "Grain prices rise",
                                                   "Wheat rose.\n\nCorn too.")
    assert first.published.isoformat() == "1987-03-05T10:00:00+00:00"
    assert (first.section, first.source, first.tags) == ("Markets", "Wire", ["grain", "wheat"])
    assert first.url == "https://wire.example/1"
    assert no_id.id == "wire.jsonl#5" and no_id.tags == ["a", "b"] and no_id.url == ""
    assert (from_html.title, from_html.body) == ("From HTML", "Page text.")
    assert [(s.where.rsplit(":", 1)[1], s.reason.split(" (")[0]) for s in skips] == [
        ("2", "not valid JSON"), ("3", "not a JSON object"), ("4", "empty article")]


def test_a_body_keeps_its_paragraphs_and_collapses_every_other_space(tmp_path):
    path = tmp_path / "wrapped.jsonl"
    body = ("  Dredging began  on Monday, \r\nthe authority\u00a0said.\t\n"
            "It will take\n six months. \n \n\n\tThe port stays open.\x0c \n\n\n")
    path.write_text(json.dumps({"id": "w", "title": "Harbour", "body": body}) + "\n")
    [article], _ = read(path)
    assert article.body == ("Dredging began on Monday, the authority said. It will take six "
                            "months.\n\nThe port stays open.")


def test_text_file_first_line_is_the_title(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("  Harbour reopens\n\nThe harbour reopened on Monday.\nShips queued.\n")
    [article], skips = read(path)
    assert (article.id, article.title) == ("note.txt", "Harbour reopens")
    assert article.body == "The harbour reopened on Monday. Ships queued."
    assert skips == []


def test_html_page_id_is_its_canonical_url(tmp_path):
    path = tmp_path / "page.html"
    path.write_text('<link rel="canonical" href="https://paper.example/a/1"><h1>T</h1><p>Body.</p>')
    [article], _ = read(path)
    assert article.id == article.url == "https://paper.example/a/1"


@pytest.mark.parametrize("declared, language", [
    ('<html lang="de-DE">', "de"), ('<html lang="EN">', "en"), ('<html lang="english!">', ""),
    ("<html>", ""),
])
def test_an_html_page_keeps_its_primary_language(tmp_path, declared, language):
    path = tmp_path / "page.html"
    path.write_text(f"{declared}<h1>Hafen</h1><p>Der Hafen ist wieder offen.</p></html>")
    [article], _ = read(path)
    assert article.language == language


def test_a_jsonl_record_names_its_language(tmp_path):
    path = tmp_path / "wire.jsonl"
    path.write_text("\n".join(json.dumps(dict(id=str(n), title="T", body="B", language=tag))
                              for n, tag in enumerate(["en-GB", "pt_BR", "123", ""])))
    articles, _ = read(path)
    assert [a.language for a in articles] == ["en", "pt", "", ""]


@pytest.mark.parametrize("content, reason", [
    (b"", "empty file"),
    (b"   \n", "empty file"),
    (bytes(range(256)) * 40, "binary data, not text"),
])
def test_unreadable_files_raise_a_clear_reason(tmp_path, content, reason):
    path = tmp_path / "broken.html"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=reason):
        read(path)


def test_find_sources_walks_directories_in_order_and_reports_unsupported_files(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two.html").write_text("x")
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.txt").write_text("x")
    found = list(find_sources([tmp_path, tmp_path / "missing.txt"]))
    assert [getattr(f, "name", None) or f.reason for f in found] == [
        "a.txt", "unsupported file type .jpg", "b/two.html", "no such file or directory"]


def test_reuters_sgml_stories_become_articles():
    path = ROOT.parent / "shared" / "corpora" / "reuters-21578" / "sgm" / "reut2-000.sgm.xz"
    if not path.exists():
        pytest.skip(f"{path} is not there")
    articles, skips = read(path)
    assert (len(articles), skips) == (1000, [])
    cocoa = articles[0]
    assert (cocoa.id, cocoa.title) == ("reuters-1", "BAHIA COCOA REVIEW")
    assert cocoa.published.isoformat() == "1987-02-26T15:01:01.790000+00:00"
    assert cocoa.tags == ["cocoa", "el-salvador", "uruguay", "usa"]
    assert cocoa.body.startswith("Showers continued throughout the week in the Bahia cocoa")
    assert cocoa.body.split("\n\n")[1] == \
        "The dry period means the temporao will be late this year."
    assert cocoa.body.endswith("after carnival which ends midday on February 27.")
    by_id = {a.id: a for a in articles}
    assert by_id["reuters-4"].byline == "Janie Gabbett, Reuters"
    assert by_id["reuters-99"].title == "FEDERAL RESERVE WEEKLY REPORT 1 - FEB 26"


def test_records_named_as_known_are_left_unread_and_the_rest_carry_their_digest(tmp_path):
    path = tmp_path / "wire.jsonl"
    lines = [json.dumps({"id": f"w{n}", "title": f"Story {n}", "body": "Text."})
             for n in range(3)]
    path.write_text("\n".join(lines) + "\n{not json\n")
    articles, skips = read(path)
    digests = [article.record for article in articles]
    assert len(set(digests)) == 3 and all(digests) and len(skips) == 1

    hashes = [article.content_hash for article in articles]
    known = {digests[0]: hashes[0], digests[2]: hashes[2]}
    lines[1] = json.dumps({"id": "w1", "title": "Story 1 corrected", "body": "Text."})
    path.write_text("\n".join(lines) + "\n{not json\n")
    articles, skips = read(path, known)
    assert articles[0] == Known(digests[0], hashes[0])
    assert articles[2] == Known(digests[2], hashes[2])
    assert (articles[1].title, articles[1].record != digests[1]) == ("Story 1 corrected", True)
    assert [skip.where for skip in skips] == [f"{path}:4"]

    # A record's digest is of its text and its place: the same line one lower is new.
    path.write_text("\n" + "\n".join(lines) + "\n")
    articles, _ = read(path, known)
    assert not any(isinstance(article, Known) for article in articles)


def test_a_file_of_one_article_is_one_record(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes((FIXTURES / "pages" / "bc13ff87b263.html").read_bytes())
    [article], _ = read(path)
    known = {article.record: article.content_hash}
    assert read(path, known)[0] == [Known(article.record, article.content_hash)]


def test_each_reuters_story_is_a_record_and_one_left_unclosed_still_reads(tmp_path):
    path = tmp_path / "wire.sgm"
    story = ('<REUTERS NEWID="{0}"><DATE>26-FEB-1987 15:01:01.79</DATE><TEXT>'
             "<TITLE>STORY {0}</TITLE><BODY>Text of story {0}.\n Reuter\n</BODY></TEXT>")
    path.write_text("<!DOCTYPE lewis>\n" + story.format(1) + "</REUTERS>\n" + story.format(2)
                    + "\n" + story.format(3) + "</REUTERS>\n")
    articles, skips = read(path)
    assert [(a.id, a.title, a.body) for a in articles] == [
        (f"reuters-{n}", f"STORY {n}", f"Text of story {n}.") for n in (1, 2, 3)]
    assert skips == [] and len({a.record for a in articles}) == 3
    known = {articles[0].record: articles[0].content_hash}
    again, _ = read(path, known)
    assert again[0] == Known(articles[0].record, articles[0].content_hash)
    assert [a.id for a in again[1:]] == ["reuters-2", "reuters-3"]


@pytest.mark.parametrize("suffix, compress", [(".gz", gzip.compress), (".bz2", bz2.compress),
                                              (".xz", lzma.compress)])
def test_compressed_sources_are_read_through(tmp_path, suffix, compress):
    page = (FIXTURES / "pages" / "bc13ff87b263.html").read_bytes()
    path = tmp_path / f"page.html{suffix}"
    path.write_bytes(compress(page))
    [source] = find_sources([tmp_path])
    [article], _ = read_articles(source, path.read_bytes())
    assert article.title == "Major WeWork layoffs to begin today"


def test_corrupt_compressed_file_is_a_clear_error(tmp_path):
    path = tmp_path / "wire.jsonl.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(SourceError, match="cannot decompress"):
        read(path)
