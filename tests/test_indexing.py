"""Writing the index: incremental updates, atomic rebuilds, and nothing lost to bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.corpora import write_jsonl
from indexer.search import Archive
from indexer.store import IndexBusy, WriteSession, live_generation
from indexer.writing import index_paths

from conftest import search, reuters_records


def story(title: str, body: str) -> str:
    return f"{title}\n\n{body}\n"


@pytest.fixture
def archive_dir(tmp_path) -> Path:
    root = tmp_path / "archive"
    root.mkdir()
    (root / "harbour.txt").write_text(story("Harbour reopens", "Ships returned to the harbour."))
    (root / "bridge.txt").write_text(story("Bridge closed", "The old bridge closed for repairs."))
    write_jsonl(root / "wire.jsonl", [
        {"id": "w1", "title": "Grain exports rise", "body": "Wheat exports rose sharply."},
        {"id": "w2", "title": "Oil prices fall", "body": "Crude fell two dollars."},
    ])
    return root


def ids(index_dir, query: str) -> list[str]:
    return [hit.id for hit in search(Archive(index_dir), query).hits]


def counts(summary) -> tuple:
    return (summary.added, summary.updated, summary.deleted, summary.unchanged,
            len(summary.skipped), summary.total)


def test_incremental_reindex_adds_updates_deletes_and_leaves_the_rest(archive_dir, tmp_path):
    index = tmp_path / "index"
    assert counts(index_paths([archive_dir], index)) == (4, 0, 0, 0, 0, 4)
    assert counts(index_paths([archive_dir], index)) == (0, 0, 0, 4, 0, 4)

    (archive_dir / "harbour.txt").write_text(story("Harbour reopens", "Ferries sailed again."))
    (archive_dir / "fire.txt").write_text(story("Warehouse fire", "A fire destroyed a warehouse."))
    (archive_dir / "bridge.txt").unlink()
    write_jsonl(archive_dir / "wire.jsonl", [
        {"id": "w1", "title": "Grain exports rise", "body": "Wheat exports rose sharply."}])

    assert counts(index_paths([archive_dir], index)) == (1, 1, 2, 1, 0, 3)
    assert ids(index, "ferries") == ["harbour.txt"]
    assert ids(index, "ships") == []
    assert ids(index, "bridge") == ids(index, "crude") == []
    assert ids(index, "warehouse") == ["fire.txt"]
    assert ids(index, "wheat") == ["w1"]


def test_indexing_another_directory_keeps_what_came_from_the_first(archive_dir, tmp_path):
    index, other = tmp_path / "index", tmp_path / "other"
    other.mkdir()
    (other / "extra.txt").write_text(story("Extra edition", "An extra edition was printed."))
    index_paths([archive_dir], index)
    assert counts(index_paths([other], index)) == (1, 0, 0, 0, 0, 5)


def test_a_file_turned_unreadable_keeps_its_articles(archive_dir, tmp_path):
    index = tmp_path / "index"
    index_paths([archive_dir], index)
    (archive_dir / "harbour.txt").write_bytes(bytes(range(256)) * 50)
    summary = index_paths([archive_dir], index)
    assert [str(s) for s in summary.skipped] == [
        f"{archive_dir / 'harbour.txt'}: binary data, not text"]
    assert (summary.deleted, summary.total) == (0, 4)
    assert ids(index, "harbour") == ["harbour.txt"]


def test_a_rebuild_keeps_the_articles_of_a_file_turned_unreadable(archive_dir, tmp_path):
    index = tmp_path / "index"
    index_paths([archive_dir], index)
    (archive_dir / "wire.jsonl").write_bytes(b"")
    summary = index_paths([archive_dir], index, rebuild=True)
    assert [s.reason for s in summary.skipped] == ["empty file"]
    assert counts(summary) == (0, 0, 0, 4, 1, 4)
    assert ids(index, "wheat") == ["w1"]
    assert Archive(index).article("w1").title == "Grain exports rise"


def test_duplicate_ids_keep_the_first_and_say_so(archive_dir, tmp_path):
    write_jsonl(archive_dir / "zz-copy.jsonl", [
        {"id": "w1", "title": "Another story", "body": "Claims the same id."}])
    summary = index_paths([archive_dir], tmp_path / "index")
    assert [s.reason for s in summary.skipped] == [
        f"duplicate id 'w1' (first in {archive_dir / 'wire.jsonl'})"]
    assert ids(tmp_path / "index", "wheat") == ["w1"]
    assert ids(tmp_path / "index", "claims") == []


def test_rebuild_swaps_in_a_new_generation_and_open_searchers_follow(archive_dir, tmp_path):
    index = tmp_path / "index"
    index_paths([archive_dir], index)
    archive = Archive(index)
    assert [h.id for h in search(archive, "harbour").hits] == ["harbour.txt"]
    before = live_generation(index)

    (archive_dir / "harbour.txt").unlink()
    (archive_dir / "bridge.txt").write_text(story("Bridge reopens", "Repairs are done."))
    assert counts(index_paths([archive_dir], index, rebuild=True)) == (0, 1, 1, 2, 0, 3)
    assert live_generation(index) != before
    assert search(archive, "harbour").hits == []
    assert archive.count() == 3


def test_only_one_writer_at_a_time(archive_dir, tmp_path):
    index = tmp_path / "index"
    with WriteSession(index):
        with pytest.raises(IndexBusy, match="is being written by morgue index"):
            index_paths([archive_dir], index)
    assert counts(index_paths([archive_dir], index))[0] == 4


@pytest.mark.parametrize("rebuild", [True, False])
def test_killed_indexer_leaves_the_live_index_answering_and_a_rerun_completes(
        archive_dir, tmp_path, rebuild):
    index = tmp_path / "index"
    index_paths([archive_dir], index)
    before = {q: ids(index, q) for q in ("harbour", "wheat", "bridge")}
    write_jsonl(archive_dir / "reuters.jsonl", reuters_records(1500))

    command = [sys.executable, "-m", "indexer.cli", "index", str(archive_dir),
               "--index", str(index)] + (["--rebuild"] if rebuild else [])
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.5)  # well into reading and writing 1,500 stories
    assert process.poll() is None, process.stderr.read().decode()
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    assert {q: ids(index, q) for q in before} == before
    assert Archive(index).count() == 4
    summary = index_paths([archive_dir], index, rebuild=rebuild)
    assert summary.total == 4 + 1500
    assert ids(index, "ships harbour") == ["harbour.txt"]
    assert ids(index, "bahia cocoa")[0] == "reuters-1"
    assert len([p for p in index.glob("gen-*")]) <= 2
