"""Writing the index: incremental updates, atomic rebuilds, and nothing lost to bad input."""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.corpora import write_jsonl
from indexer.codec import LAYOUT
from indexer.search import Archive
from indexer.store import (RECORDS, IndexBusy, IndexMissing, WriteSession, live_generation,
                           open_live)
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


EDIT_SEED = 1202  # seeds the edits of the archive between runs


def edit_records(files: dict[str, list[str]], rng: random.Random, stories, history) -> None:
    """One edit of the JSON Lines ``files`` (name -> lines), of the kinds an archive
    sees: a record rewritten, inserted, removed, moved to another file, swapped with its
    neighbour, given another record's id or none, a line of junk, or a file put back as
    it was in ``history`` (earlier states of ``files``)."""
    name = rng.choice(sorted(files))
    lines = files[name]
    at = rng.randrange(len(lines) + 1)
    kind = rng.choice(["rewrite", "insert", "remove", "move", "swap", "take id", "no id",
                       "junk", "put back"])
    records = [(n, json.loads(line)) for n, line in enumerate(lines) if line.startswith("{\"")]
    if kind == "insert" or not records:
        lines.insert(at, json.dumps(next(stories)))
    elif kind == "junk":
        lines.insert(at, "{not json")
    elif kind == "put back" and history:
        files[name] = list(rng.choice(history)[name])
    elif kind in ("remove", "move", "swap"):
        n = rng.randrange(len(lines))
        line = lines.pop(n)
        if kind == "move":
            files[rng.choice(sorted(files))].append(line)
        elif kind == "swap":
            lines.insert(min(n + 1, len(lines)), line)
    else:
        n, record = rng.choice(records)
        if kind == "rewrite":
            record["body"] = next(stories)["body"]
        elif kind == "no id":
            record.pop("id", None)
        else:
            taken = [json.loads(line) for lines_ in files.values() for line in lines_
                     if line.startswith("{\"")]
            record["id"] = rng.choice(taken).get("id", "")
        lines[n] = json.dumps(record)


def stored_articles(index, ids) -> dict[str, tuple]:
    archive = Archive(index)
    return {doc_id: (view.title, view.body, view.published, view.tags) for doc_id in ids
            if doc_id and (view := archive.article(doc_id))}


@pytest.mark.parametrize("backend", ["whoosh", "xapian"])
def test_runs_after_edits_of_any_kind_index_what_a_fresh_build_does(tmp_path, monkeypatch,
                                                                       backend):
    """A run reads again only the records it has not read before (the digest of each is
    kept beside the index), whatever was done to the files."""
    monkeypatch.setenv("MORGUE_BACKEND", backend)
    monkeypatch.setenv("MORGUE_SHARD_COUNT", "2")
    rng = random.Random(EDIT_SEED)
    stories = iter(reuters_records(600))
    files = {name: [json.dumps(next(stories)) for _ in range(15)]
             for name in ("a.jsonl", "b.jsonl")}
    archive, index = tmp_path / "archive", tmp_path / "index"
    archive.mkdir()
    history, ids = [], set()
    for run in range(12):
        for name, lines in files.items():
            (archive / name).write_text("".join(line + "\n" for line in lines))
            ids.update(f"{name}#{n}" for n in range(1, len(lines) + 1))
            ids.update(json.loads(line).get("id", "") for line in lines if line.startswith("{\""))
        summary = index_paths([archive], index)
        fresh = index_paths([archive], tmp_path / f"fresh-{run}")
        assert summary.total == fresh.total, run
        assert stored_articles(index, ids) == stored_articles(tmp_path / f"fresh-{run}", ids)
        history.append({name: list(lines) for name, lines in files.items()})
        for _ in range(rng.randint(1, 5)):
            edit_records(files, rng, stories, history)


def test_a_record_put_back_after_a_run_that_died_before_its_record_is_read_again(
        archive_dir, tmp_path):
    """The digests beside the index are written after its commit; those of a run that
    died between the two are older than the index, and a record they name is read
    again unless the index holds its article as that record reads."""
    index = tmp_path / "index"
    index_paths([archive_dir], index)
    records = live_generation(index) / RECORDS
    before, wire = records.read_bytes(), (archive_dir / "wire.jsonl").read_bytes()
    (archive_dir / "wire.jsonl").write_bytes(wire.replace(b"Wheat exports", b"Barley exports"))
    assert counts(index_paths([archive_dir], index)) == (0, 1, 0, 3, 0, 4)
    records.write_bytes(before)  # as if the run had died before writing them
    (archive_dir / "wire.jsonl").write_bytes(wire)
    assert counts(index_paths([archive_dir], index)) == (0, 1, 0, 3, 0, 4)
    assert ids(index, "wheat") == ["w1"] and ids(index, "barley") == []


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


def test_records_without_ids_read_again_under_another_root_take_its_names(tmp_path):
    """An article without an id is named after its file's path under the root it was
    found in, and its line: a record read before under another root is read again."""
    wire, index = tmp_path / "archive" / "wire" / "wire.jsonl", tmp_path / "index"
    wire.parent.mkdir(parents=True)
    records = [{"title": "Grain exports rise", "body": "Wheat exports rose."},
               {"title": "Oil prices fall", "body": "Crude fell."}]
    write_jsonl(wire, records)
    index_paths([tmp_path / "archive"], index)
    assert ids(index, "wheat") == ["wire/wire.jsonl#1"]
    write_jsonl(wire, [records[0], {**records[1], "body": "Crude fell again."}])
    assert counts(index_paths([wire.parent], index)) == (2, 0, 2, 0, 0, 2)
    assert ids(index, "wheat") == ["wire.jsonl#1"] and ids(index, "crude") == ["wire.jsonl#2"]


def test_an_article_taken_over_by_another_file_comes_back_when_that_file_goes(
        archive_dir, tmp_path):
    index = tmp_path / "index"
    index_paths([archive_dir], index)
    early = archive_dir / "a-early.jsonl"  # read before wire.jsonl
    write_jsonl(early, [{"id": "w1", "title": "Grain exports fall", "body": "Oats fell."}])
    assert counts(index_paths([archive_dir], index)) == (0, 1, 0, 3, 0, 4)
    assert ids(index, "oats") == ["w1"] and ids(index, "wheat") == []
    early.unlink()
    assert counts(index_paths([archive_dir], index)) == (0, 1, 0, 3, 0, 4)
    assert ids(index, "wheat") == ["w1"] and ids(index, "oats") == []


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


KILL_SEED = 1125  # seeds the moments at which the indexer is killed


def all_ids(index) -> set[str]:
    """The id of every article in the live index."""
    with open_live(index).reader() as reader:
        return {fields["id"] for fields in reader.all_stored_fields()}


def kill_at(moment: float, process: subprocess.Popen, index) -> None:
    """Kill the indexer ``process`` (SIGKILL) ``moment`` seconds after it took the write
    lock of ``index``."""
    while (index / "write.lock").read_text() != f"morgue index (pid {process.pid})":
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.01)
    time.sleep(moment)
    assert process.poll() is None, process.stderr.read()
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def start_indexer(archive_dir, index, rebuild: bool = False) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "indexer.cli", "index", str(archive_dir), "--index", str(index)]
        + (["--rebuild"] if rebuild else []),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("rebuild", [False, True])
def test_an_indexer_killed_at_random_points_loses_nothing_and_a_rerun_completes(
        archive_dir, tmp_path, rebuild):
    index = tmp_path / "index"
    index_paths([archive_dir], index)
    queries = ("harbour", "wheat", "bridge", "ships OR crude", "*")
    before, ids_before = {q: ids(index, q) for q in queries}, all_ids(index)
    records = reuters_records(4000)  # over 3 s of work: each kill comes before the commit
    write_jsonl(archive_dir / "reuters.jsonl", records)

    # At moments after the indexer took the write lock: reading, writing, committing.
    seeded = random.Random(KILL_SEED + rebuild)
    moments = sorted(seeded.uniform(0, 1.5) for _ in range(4))
    for moment in moments:
        process = start_indexer(archive_dir, index, rebuild)
        kill_at(moment, process, index)
        assert {q: ids(index, q) for q in queries} == before, moment
        assert all_ids(index) == ids_before, moment

    rerun = start_indexer(archive_dir, index, rebuild)
    _, errors = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, errors
    assert f"{index}: morgue index (pid {process.pid}) was interrupted; " in errors
    assert all_ids(index) == ids_before | {record["id"] for record in records}
    assert "harbour.txt" in ids(index, "ships harbour")
    assert ids(index, "bahia cocoa")[0] == "reuters-1"
    assert len(list(index.glob("gen-*"))) <= 2 and not list(index.glob("*.tmp"))


def hold_the_lock(index, then: str = "") -> subprocess.Popen:
    """A process that takes the write lock of ``index``, runs ``then`` (Python, with
    ``session``), says so, and waits to be killed."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from indexer.store import WriteSession\n"
         f"with WriteSession({str(index)!r}) as session:\n"
         f"    {then or 'pass'}\n"
         "    print('locked', flush=True)\n"
         "    time.sleep(600)\n"], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "locked\n"
    return process


def test_a_live_writer_keeps_its_lock_and_a_killed_one_is_recovered_from_with_a_message(
        archive_dir, tmp_path, caplog):
    index = tmp_path / "index"
    index_paths([archive_dir], index)
    live = live_generation(index)
    writer = hold_the_lock(index, "session.new_generation().writer().commit()")
    try:
        unfinished = [p for p in index.glob("gen-*") if p != live]
        assert len(unfinished) == 1
        with pytest.raises(IndexBusy, match=f"is being written by morgue index "
                                            rf"\(pid {writer.pid}\); wait for it to finish"):
            index_paths([archive_dir], index, rebuild=True)
        assert unfinished[0].exists()  # a live writer's work is left alone
        assert (index / "write.lock").read_text() == f"morgue index (pid {writer.pid})"
    finally:
        writer.kill()
        writer.wait()

    (index / "current.999.tmp").symlink_to(live.name)  # a swap cut short
    with caplog.at_level(logging.WARNING, "indexer.store"):
        summary = index_paths([archive_dir], index)
    assert caplog.messages == [
        f"{index}: morgue index (pid {writer.pid}) was interrupted; removed what it left "
        f"unfinished ({unfinished[0].name}, current.999.tmp)"]
    assert summary.total == 4 and live_generation(index) == live
    assert sorted(p.name for p in index.iterdir()) == ["current", live.name, "write.lock"]
    assert (index / "write.lock").read_text() == ""


def test_a_writer_killed_before_it_changed_anything_is_reported_alone(archive_dir, tmp_path,
                                                                       caplog):
    index = tmp_path / "index"
    index_paths([archive_dir], index)
    writer = hold_the_lock(index)
    writer.kill()
    writer.wait()
    with caplog.at_level(logging.WARNING, "indexer.store"):
        index_paths([archive_dir], index)
    assert caplog.messages == [f"{index}: morgue index (pid {writer.pid}) was interrupted; "
                               "the index is as its last complete run left it"]


def test_a_rebuild_keeps_the_generation_live_before_it_for_open_searchers(archive_dir,
                                                                           tmp_path):
    index = tmp_path / "index"
    index_paths([archive_dir], index)
    first = live_generation(index)
    index_paths([archive_dir], index, rebuild=True)
    second = live_generation(index)
    index_paths([archive_dir], index, rebuild=True)
    assert (index / "previous").resolve() == second and not first.exists()
    assert sorted(p.name for p in index.glob("gen-*")) == sorted(
        [second.name, live_generation(index).name])


def test_an_archive_of_no_articles_indexes_searches_and_relates(tmp_path):
    sources, index = tmp_path / "sources", tmp_path / "index"
    sources.mkdir()
    for _ in range(2):  # built, then updated with nothing new
        assert index_paths([sources], index).total == 0
    archive = Archive(index)
    assert search(archive, "harbour").total == 0
    assert archive.related_to_text("The harbour reopened after the storm.").stories == []
    (sources / "a.txt").write_text("Harbour reopens\nThe harbour reopened after the storm.\n")
    assert index_paths([sources], index).added == 1
    (sources / "a.txt").unlink()
    assert index_paths([sources], index).deleted == 1
    assert index_paths([sources], index).total == 0
    assert search(archive, "harbour").total == 0


def test_an_index_of_an_older_layout_says_so_and_is_built_anew(tmp_path):
    write_jsonl(tmp_path / "wire.jsonl", reuters_records(50))
    index = tmp_path / "index"
    index_paths([tmp_path / "wire.jsonl"], index)
    meta_file = live_generation(index) / "morgue.json"
    meta = json.loads(meta_file.read_text())
    assert meta["layout"] == LAYOUT
    del meta["layout"]  # as morgue wrote it before postings were kept in array blocks
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(IndexMissing, match="built by another version of morgue: rebuild it"):
        open_live(index)
    summary = index_paths([tmp_path / "wire.jsonl"], index)
    assert summary.added == summary.total == 50
    assert search(Archive(index), "oil").total > 0


def test_what_is_never_searched_has_no_terms_and_dates_are_indexed_by_the_day(index_dir):
    """The instant of publication and the content hash are columns alone (sorting and
    comparing read them); ``date:`` queries name whole days, so ``date`` holds the day."""
    with open_live(index_dir).reader() as reader:
        fields = {field for field, _ in reader.all_terms()}
        days = {text for field, text in reader.all_terms() if field == "date"}
        dated = sum(1 for value in reader.column_reader("dated") if value == "1")
        instants = set(reader.column_reader("published", translate=False))
    assert {"id", "body", "date"} <= fields and not {"published", "content_hash"} & fields
    assert dated > 1000 and len(instants) > 1000
    # Whoosh indexes a date as 8 terms of coarser and coarser precision: one is the day.
    assert len(days) < 8 * len(instants) / 10
