"""Indexing into Xapian shards: local shard directories and shards served by real
``xapian-tcpsrv --writable`` processes, read back with plain ``xapian.Database``."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import xapian

from bench.corpora import write_jsonl
from indexer.shards import writing as shard_writing
from indexer.shards.connect import ShardsUnavailable
from indexer.shards.layout import shard_of, stored
from indexer.shards.writing import CATALOG, ShardError, open_catalog
from indexer.store import IndexMissing, WrongBackend, live_generation
from indexer.writing import index_paths

import test_indexing
from conftest import reuters_records
from shardservers import ShardServers
from test_indexing import KILL_SEED, counts, kill_at, start_indexer, story


@pytest.fixture
def archive_dir(tmp_path) -> Path:
    """The small archive of test_indexing's tests: two stories and two wire records."""
    return test_indexing.archive_dir.__wrapped__(tmp_path)


@pytest.fixture
def xapian_backend(monkeypatch):
    monkeypatch.setenv("MORGUE_BACKEND", "xapian")
    monkeypatch.setenv("MORGUE_SHARD_COUNT", "2")
    monkeypatch.delenv("MORGUE_SHARDS", raising=False)


def documents(path) -> dict[str, dict]:
    """The stored fields of each article of the shard database at ``path``, by id."""
    db = xapian.Database(str(path))
    return {fields["id"]: fields for fields in
            (stored(db.get_document(item.docid)) for item in db.postlist(""))}


def local_shards(index) -> list[Path]:
    generation = live_generation(index)
    meta = json.loads((generation / "morgue.json").read_text())
    return [generation / f"shard-{n}" for n in range(meta["shards"])]


def shard_ids(paths) -> list[set[str]]:
    return [set(documents(path)) for path in paths]


def all_ids(paths) -> set[str]:
    return set().union(*shard_ids(paths))


def test_incremental_runs_add_update_delete_and_leave_the_rest(xapian_backend, archive_dir,
                                                                tmp_path):
    index = tmp_path / "index"
    assert counts(index_paths([archive_dir], index)) == (4, 0, 0, 0, 0, 4)
    revisions = [xapian.Database(str(path)).get_revision() for path in local_shards(index)]
    assert counts(index_paths([archive_dir], index)) == (0, 0, 0, 4, 0, 4)
    assert [xapian.Database(str(path)).get_revision()
            for path in local_shards(index)] == revisions  # nothing new to read

    (archive_dir / "harbour.txt").write_text(story("Harbour reopens", "Ferries sailed again."))
    (archive_dir / "fire.txt").write_text(story("Warehouse fire", "A fire destroyed a warehouse."))
    (archive_dir / "bridge.txt").unlink()
    write_jsonl(archive_dir / "wire.jsonl", [
        {"id": "w1", "title": "Grain exports rise", "body": "Wheat exports rose sharply."}])
    summary = index_paths([archive_dir], index)
    assert counts(summary) == (1, 1, 2, 1, 0, 3)

    shards = local_shards(index)
    articles = {}
    for path in shards:
        articles.update(documents(path))
    assert sorted(articles) == ["fire.txt", "harbour.txt", "w1"]
    assert articles["harbour.txt"]["body"] == "Ferries sailed again."
    assert summary.shards == [xapian.Database(str(p)).get_doccount() for p in shards]
    assert str(summary).endswith(f"3 articles in the index (shard 0: {summary.shards[0]}, "
                                 f"shard 1: {summary.shards[1]}), 0 groups of near-duplicates")


def test_a_file_turned_unreadable_keeps_its_articles_in_a_run_and_a_rebuild(
        xapian_backend, archive_dir, tmp_path):
    index = tmp_path / "index"
    index_paths([archive_dir], index)
    (archive_dir / "harbour.txt").write_bytes(bytes(range(256)) * 50)
    summary = index_paths([archive_dir], index)
    assert [s.reason for s in summary.skipped] == ["binary data, not text"]
    assert (summary.deleted, summary.total) == (0, 4)
    (archive_dir / "wire.jsonl").write_bytes(b"")
    summary = index_paths([archive_dir], index, rebuild=True)
    assert counts(summary) == (0, 0, 0, 4, 2, 4)
    articles = {}
    for path in local_shards(index):
        articles.update(documents(path))
    assert sorted(articles) == ["bridge.txt", "harbour.txt", "w1", "w2"]
    assert articles["w1"]["title"] == "Grain exports rise"


def test_each_article_is_in_its_shard_and_the_counts_are_each_shard_s(
        xapian_backend, monkeypatch, tmp_path):
    monkeypatch.setenv("MORGUE_SHARD_COUNT", "3")
    records = reuters_records(300)
    write_jsonl(tmp_path / "wire.jsonl", records)
    index = tmp_path / "index"
    summary = index_paths([tmp_path / "wire.jsonl"], index)
    generation = live_generation(index)
    assert json.loads((generation / "morgue.json").read_text()) == {
        "schema_version": json.loads((generation / "morgue.json").read_text())["schema_version"],
        "backend": "xapian", "shards": 3}
    shards = local_shards(index)
    ids = shard_ids(shards)
    assert summary.shards == [len(found) for found in ids] == [
        xapian.Database(str(path)).get_doccount() for path in shards]
    assert sum(summary.shards) == summary.total == 300
    for number, found in enumerate(ids):
        assert found and all(shard_of(doc_id, 3) == number for doc_id in found)
        assert xapian.Database(str(shards[number])).get_metadata("morgue.shard") == \
            str(number).encode()
    catalog = open_catalog(generation)
    assert catalog.execute("SELECT COUNT(*) FROM articles").fetchone() == (300,)
    assert summary.clusters == catalog.execute(
        "SELECT COUNT(*) FROM (SELECT 1 FROM articles GROUP BY cluster "
        "HAVING COUNT(*) > 1)").fetchone()[0]

    monkeypatch.setenv("MORGUE_SHARD_COUNT", "5")  # an existing index keeps its count
    assert index_paths([tmp_path / "wire.jsonl"], index).shards == summary.shards


def test_a_rebuild_swaps_in_new_shards_whole(xapian_backend, archive_dir, tmp_path):
    index = tmp_path / "index"
    index_paths([archive_dir], index)
    before = local_shards(index)
    readers = [xapian.Database(str(path)) for path in before]

    (archive_dir / "harbour.txt").unlink()
    (archive_dir / "bridge.txt").write_text(story("Bridge reopens", "Repairs are done."))
    assert counts(index_paths([archive_dir], index, rebuild=True)) == (0, 1, 1, 2, 0, 3)
    after = local_shards(index)
    assert after[0].parent != before[0].parent
    assert all_ids(after) == {"bridge.txt", "w1", "w2"}
    assert sum(reader.get_doccount() for reader in readers) == 4  # the old ones, still open
    assert sorted(p.name for p in after[0].parent.iterdir()) == [
        CATALOG, "morgue.json", "records.json", "shard-0", "shard-1", "sources.json"]


def test_a_shard_shows_nothing_of_a_run_before_its_commit(xapian_backend, monkeypatch,
                                                          tmp_path):
    """Xapian would commit every XAPIAN_FLUSH_THRESHOLD changes on its own: a run's
    changes are one transaction per shard, committed at the end."""
    monkeypatch.setenv("XAPIAN_FLUSH_THRESHOLD", "10")
    records = reuters_records(200)
    write_jsonl(tmp_path / "wire.jsonl", records[:100])
    index = tmp_path / "index"
    index_paths([tmp_path / "wire.jsonl"], index)
    shards = local_shards(index)
    before = shard_ids(shards)
    write_jsonl(tmp_path / "wire.jsonl", records[50:])
    seen = []
    commit = shard_writing._Shard.commit

    def look_then_commit(shard):
        seen.append(shard_ids(shards))
        return commit(shard)

    monkeypatch.setattr(shard_writing._Shard, "commit", look_then_commit)
    assert counts(index_paths([tmp_path / "wire.jsonl"], index))[:4] == (100, 0, 50, 50)
    # Each shard, until its own commit, is as it was before the run.
    assert seen[0] == before
    assert seen[1][1] == before[1]
    assert all_ids(shards) == {record["id"] for record in records[50:]}


def catalog_ids(index) -> set[str]:
    return {doc_id for doc_id, in open_catalog(live_generation(index)).execute(
        "SELECT id FROM articles")}


def test_a_run_killed_between_the_shards_commits_and_the_catalog_s_is_made_good(
        xapian_backend, monkeypatch, archive_dir, tmp_path):
    index, other = tmp_path / "index", tmp_path / "other"
    other.mkdir()
    (other / "extra.txt").write_text(story("Extra edition", "An extra edition was printed."))
    index_paths([archive_dir], index)
    shards = local_shards(index)
    (archive_dir / "fire.txt").write_text(story("Warehouse fire", "A fire destroyed a warehouse."))
    (archive_dir / "bridge.txt").unlink()
    commit = shard_writing._Shard.commit

    def commit_then_die(shard):
        articles = commit(shard)
        if shard.number == shard.count - 1:
            raise KeyboardInterrupt  # every shard committed, the catalog not
        return articles

    monkeypatch.setattr(shard_writing._Shard, "commit", commit_then_die)
    with pytest.raises(KeyboardInterrupt):
        index_paths([archive_dir], index)
    monkeypatch.setattr(shard_writing._Shard, "commit", commit)
    assert all_ids(shards) == {"harbour.txt", "fire.txt", "w1", "w2"}
    assert catalog_ids(index) == {"harbour.txt", "bridge.txt", "w1", "w2"}

    # Another directory: the shards and the catalog agree again, on the catalog's files.
    summary = index_paths([other], index)
    assert all_ids(shards) == catalog_ids(index) == {"harbour.txt", "w1", "w2", "extra.txt"}
    assert summary.total == 4
    # The first directory again: the file the killed run read is read again.
    assert counts(index_paths([archive_dir], index)) == (1, 0, 0, 3, 0, 5)
    assert all_ids(shards) == catalog_ids(index) == {
        "harbour.txt", "w1", "w2", "extra.txt", "fire.txt"}


def test_the_other_backend_s_index_is_named_and_rebuilt(xapian_backend, monkeypatch,
                                                        archive_dir, tmp_path):
    index = tmp_path / "index"
    monkeypatch.setenv("MORGUE_BACKEND", "whoosh")
    index_paths([archive_dir], index)
    monkeypatch.setenv("MORGUE_BACKEND", "xapian")
    with pytest.raises(WrongBackend, match=r"built for the whoosh backend: rebuild it with "
                                           r"`morgue index --rebuild`"):
        index_paths([archive_dir], index)
    process = subprocess.run(
        [sys.executable, "-m", "indexer.cli", "index", str(archive_dir), "--index", str(index)],
        capture_output=True, text=True, timeout=300)
    assert (process.returncode, process.stderr.splitlines()) == (1, [
        f"Error: the index in {index} was built for the whoosh backend: rebuild it with "
        "`morgue index --rebuild`"])
    assert counts(index_paths([archive_dir], index, rebuild=True)) == (4, 0, 0, 0, 0, 4)
    monkeypatch.setenv("MORGUE_BACKEND", "whoosh")
    with pytest.raises(IndexMissing, match="built for the xapian backend"):
        index_paths([archive_dir], index)


def test_an_indexer_killed_at_random_points_leaves_each_shard_whole_and_a_rerun_completes(
        xapian_backend, monkeypatch, archive_dir, tmp_path):
    monkeypatch.setenv("XAPIAN_FLUSH_THRESHOLD", "50")  # the subprocesses' too
    index = tmp_path / "index"
    index_paths([archive_dir], index)
    shards = local_shards(index)
    before = shard_ids(shards)
    records = reuters_records(1500)
    write_jsonl(archive_dir / "reuters.jsonl", records)
    expected = set().union(*before) | {record["id"] for record in records}
    after = [{i for i in expected if shard_of(i, 2) == n} for n in range(2)]

    seeded = random.Random(KILL_SEED)
    for moment in sorted(seeded.uniform(0, 1.5) for _ in range(4)):
        process = start_indexer(archive_dir, index)
        kill_at(moment, process, index)
        # Each shard as before the run, or (killed between the shards' commits) after it.
        for number, found in enumerate(shard_ids(shards)):
            assert found in (before[number], after[number]), moment

    rerun = start_indexer(archive_dir, index)
    _, errors = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, errors
    assert f"{index}: morgue index (pid {process.pid}) was interrupted; " in errors
    assert shard_ids(shards) == after
    assert not list(index.glob("*.tmp"))


# -- remote shards -----------------------------------------------------------------------


@pytest.fixture
def remote(xapian_backend, monkeypatch, tmp_path):
    """Two writable shard servers on empty databases, named by MORGUE_SHARDS."""
    with ShardServers() as servers:
        started = [servers.serve(tmp_path / f"served-{n}", writable=True) for n in range(2)]
        monkeypatch.setenv("MORGUE_SHARDS", ",".join(s.address for s in started))
        yield started


def test_remote_shards_are_indexed_reindexed_and_rebuilt(remote, archive_dir, tmp_path):
    index = tmp_path / "index"
    served = [server.path for server in remote]
    summary = index_paths([archive_dir], index)
    assert counts(summary) == (4, 0, 0, 0, 0, 4)
    assert summary.shards == [len(ids) for ids in shard_ids(served)]
    assert json.loads((live_generation(index) / "morgue.json").read_text())["endpoints"] == [
        server.address for server in remote]
    assert not list(live_generation(index).glob("shard-*"))

    (archive_dir / "harbour.txt").write_text(story("Harbour reopens", "Ferries sailed again."))
    (archive_dir / "bridge.txt").unlink()
    assert counts(index_paths([archive_dir], index)) == (0, 1, 1, 2, 0, 3)
    assert all_ids(served) == {"harbour.txt", "w1", "w2"}
    assert documents(served[shard_of("harbour.txt", 2)])["harbour.txt"]["body"] == \
        "Ferries sailed again."

    write_jsonl(archive_dir / "wire.jsonl", [
        {"id": "w1", "title": "Grain exports rise", "body": "Wheat exports rose sharply."}])
    summary = index_paths([archive_dir], index, rebuild=True)
    assert counts(summary) == (0, 0, 1, 2, 0, 2)
    assert all_ids(served) == {"harbour.txt", "w1"}
    assert summary.shards == [len(ids) for ids in shard_ids(served)]


def test_a_shard_server_lost_and_back_mid_run_is_sent_its_changes_again(
        remote, monkeypatch, tmp_path):
    records = reuters_records(200)
    write_jsonl(tmp_path / "wire.jsonl", records)
    commit = shard_writing._Shard.commit

    def restart_then_commit(shard):
        if shard.number == 1:
            remote[1].restart()  # its connection, and what it had not committed, are gone
        return commit(shard)

    monkeypatch.setattr(shard_writing._Shard, "commit", restart_then_commit)
    summary = index_paths([tmp_path / "wire.jsonl"], tmp_path / "index")
    assert summary.added == summary.total == 200
    assert all_ids([server.path for server in remote]) == {r["id"] for r in records}


def test_a_shard_server_killed_mid_run_fails_the_run_in_one_line_and_keeps_the_others(
        remote, monkeypatch, archive_dir, tmp_path):
    index = tmp_path / "index"
    index_paths([archive_dir], index)
    served = [server.path for server in remote]
    before = shard_ids(served)
    records = reuters_records(200)
    write_jsonl(archive_dir / "reuters.jsonl", records)
    commit = shard_writing._Shard.commit

    def kill_then_commit(shard):
        if shard.number == 1:
            remote[1].kill()
        return commit(shard)

    monkeypatch.setattr(shard_writing._Shard, "commit", kill_then_commit)
    with pytest.raises(ShardsUnavailable, match=f"^shard {remote[1].address} cannot be "
                                                 "written: connection refused"):
        index_paths([archive_dir], index)
    ids = shard_ids(served)
    assert ids[0] == before[0] | {r["id"] for r in records if shard_of(r["id"], 2) == 0}
    assert ids[1] == before[1]

    # The command says so in one line, and a run with the server back completes.
    monkeypatch.undo()
    monkeypatch.setenv("MORGUE_BACKEND", "xapian")
    monkeypatch.setenv("MORGUE_SHARDS", ",".join(s.address for s in remote))
    process = subprocess.run(
        [sys.executable, "-m", "indexer.cli", "index", str(archive_dir), "--index", str(index)],
        capture_output=True, text=True, timeout=300)
    assert process.returncode == 1
    assert process.stderr.splitlines() == [
        f"Error: shard {remote[1].address} cannot be written: connection refused (3 tries)"]
    remote[1].restart()
    summary = index_paths([archive_dir], index)
    assert summary.total == 204 and all_ids(served) == before[0] | before[1] | {
        r["id"] for r in records}


def test_a_server_of_the_wrong_database_is_refused(remote, archive_dir, tmp_path):
    index = tmp_path / "index"
    index_paths([archive_dir], index)
    remote[0].stop()
    remote[0].path, remote[1].path = remote[1].path, remote[0].path
    remote[1].stop()
    remote[0].start()
    remote[1].start()
    with pytest.raises(ShardError, match=rf"^shard 0 at {remote[0].address} holds shard 1 "
                                         r"of 2 \(schema \d+\), not shard 0 of 2"):
        index_paths([archive_dir], index)


def test_a_rebuild_may_change_the_number_of_local_shards(xapian_backend, monkeypatch,
                                                          archive_dir, tmp_path):
    index = tmp_path / "index"
    index_paths([archive_dir], index)
    monkeypatch.delenv("MORGUE_SHARD_COUNT")
    index_paths([archive_dir], index)  # a run into the live index keeps its shards
    assert len(local_shards(index)) == 2
    monkeypatch.setenv("MORGUE_SHARD_COUNT", "3")
    index_paths([archive_dir], index)
    assert len(local_shards(index)) == 2
    summary = index_paths([archive_dir], index, rebuild=True)
    assert summary.shards is not None and len(summary.shards) == 3
    shards = local_shards(index)
    assert all(documents(path).keys() == {doc_id for doc_id in all_ids(shards)
                                          if shard_of(doc_id, 3) == n}
               for n, path in enumerate(shards))
