"""A long-running Archive (as the web app keeps) answers from the index as it is now."""

from indexer.search import Archive
from indexer.writing import index_paths

from conftest import search


def write(path, title, body):
    path.write_text(f"{title}\n{body}\n", encoding="utf-8")


def test_an_open_archive_sees_articles_added_changed_and_removed(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    write(sources / "a.txt", "Lighthouse keeper retires", "The last lighthouse keeper left.")
    write(sources / "b.txt", "Ferry timetable changes", "The ferry will sail twice a day.")
    index_paths([sources], tmp_path / "index")
    archive = Archive(tmp_path / "index")
    assert search(archive, "lighthouse").total == 1
    assert search(archive, "lighthouse").hits == search(archive, "lighthouse").hits

    write(sources / "c.txt", "Lighthouse restored", "Volunteers restored the lighthouse.")
    index_paths([sources], tmp_path / "index")
    assert search(archive, "lighthouse").total == 2

    (sources / "a.txt").unlink()
    write(sources / "b.txt", "Ferry timetable changes", "The ferry will sail three times.")
    index_paths([sources], tmp_path / "index")
    assert [hit.title for hit in search(archive, "lighthouse").hits] == ["Lighthouse restored"]
    [ferry] = search(archive, "ferry").hits
    assert "three times" in ferry.snippet_html and "twice" not in ferry.snippet_html
    assert archive.count() == 2
