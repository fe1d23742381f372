"""Shards served by real ``xapian-tcpsrv`` processes: killed, hung and restarted."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from bench.corpora import write_jsonl
from indexer.article import Article, parse_date
from indexer.settings import Settings
from indexer.store import IndexMissing
from indexer.writing import index_paths
from conftest import ROOT, environment, reuters_records
from shardservers import ShardServers, free_port
from test_cli import morgue

xapian = pytest.importorskip("xapian")
from indexer.shards import layout  # noqa: E402 (needs xapian)
from indexer.shards.connect import ShardSet, ShardsUnavailable, open_writable  # noqa: E402

TIMEOUT_MS = 500


def build_shards(directory, records, count):
    """``count`` shard databases of ``records`` under ``directory``, split as the
    indexer splits them; their paths."""
    paths = [directory / f"shard-{k}" for k in range(count)]
    databases = [xapian.WritableDatabase(str(path), xapian.DB_CREATE_OR_OVERWRITE)
                 for path in paths]
    for record in records:
        article = Article(id=record["id"], title=record["title"], body=record["body"],
                          published=parse_date(record["date"]), byline=record["byline"],
                          source=record["source"], tags=record["tags"])
        databases[layout.shard_of(article.id, count)].add_document(
            layout.document(article, ""))
    for database in databases:
        database.close()
    return paths


@pytest.fixture(scope="module")
def shard_paths(tmp_path_factory):
    return build_shards(tmp_path_factory.mktemp("shards"), reuters_records(300), 3)


@pytest.fixture
def servers():
    with ShardServers() as started:
        yield started


def test_a_server_serves_its_shard_and_restarts_on_its_port(servers, shard_paths):
    server = servers.serve(shard_paths[0])
    count = xapian.Database(str(shard_paths[0])).get_doccount()
    assert 0 < count < 300
    assert xapian.remote_open(*server.endpoint, TIMEOUT_MS).get_doccount() == count
    server.kill()
    with pytest.raises(xapian.NetworkError, match="refused"):
        xapian.remote_open(*server.endpoint, TIMEOUT_MS)
    port = server.port
    server.restart()
    assert server.port == port
    assert xapian.remote_open(*server.endpoint, TIMEOUT_MS).get_doccount() == count


def test_a_hung_server_times_out_and_answers_when_resumed(servers, shard_paths):
    server = servers.serve(shard_paths[1])
    server.hang()
    with pytest.raises(xapian.NetworkTimeoutError):
        xapian.remote_open(*server.endpoint, TIMEOUT_MS)
    server.resume()
    assert xapian.remote_open(*server.endpoint, TIMEOUT_MS).get_doccount() > 0


def test_a_writable_server_takes_writes_as_soon_as_it_is_started(servers, tmp_path):
    server = servers.serve(tmp_path / "new", writable=True)
    database = xapian.remote_open_writable(*server.endpoint, TIMEOUT_MS)
    database.add_document(xapian.Document())
    database.commit()
    database.close()
    server.stop()
    assert xapian.Database(str(tmp_path / "new")).get_doccount() == 1


def test_stopping_the_servers_ends_their_open_connections(shard_paths):
    with ShardServers() as servers:
        server = servers.serve(shard_paths[2])
        database = xapian.remote_open(*server.endpoint, TIMEOUT_MS)
        database.keep_alive()
    assert not server.running
    with pytest.raises(xapian.NetworkError):
        database.keep_alive()


# -- reading shards as one, leaving out those that fail --------------------------------

def shard_ids(path) -> set[str]:
    database = xapian.Database(str(path))
    return {layout.stored(database.get_document(item.docid))["id"]
            for item in database.postlist("")}


def every_id(db) -> set[str]:
    """The ids of every article of ``db``, read through a search (not cached counts)."""
    enquire = xapian.Enquire(db)
    enquire.set_query(xapian.Query.MatchAll)
    return {layout.stored(match.document)["id"] for match in enquire.get_mset(0, 1000)}


@pytest.fixture
def served(servers, shard_paths):
    return [servers.serve(path) for path in shard_paths]


def remote_set(tmp_path, served, retry_after=30.0) -> ShardSet:
    endpoints = tuple(server.endpoint for server in served)
    return ShardSet(tmp_path, Settings("xapian", endpoints, shard_timeout=TIMEOUT_MS / 1000),
                    retry_after=retry_after)


def timed(shards, function):
    start = time.monotonic()
    value, missing = shards.run(function)
    return value, missing, time.monotonic() - start


def test_all_shards_answer_as_one(served, shard_paths, tmp_path):
    shards = remote_set(tmp_path, served)
    assert shards.names == [server.address for server in served]
    found, missing = shards.run(every_id)
    assert missing == {}
    assert found == set.union(*map(shard_ids, shard_paths))
    assert len(found) == 300 and shards.run(xapian.Database.get_doccount)[0] == 300


def test_a_killed_shard_is_left_out_named_and_taken_back(served, shard_paths, tmp_path):
    shards = remote_set(tmp_path, served, retry_after=0.5)
    shards.run(every_id)
    served[1].kill()
    found, missing, seconds = timed(shards, every_id)
    assert missing == {served[1].address: "connection refused"}
    assert found == shard_ids(shard_paths[0]) | shard_ids(shard_paths[2])
    assert seconds < 10
    served[1].restart()
    time.sleep(0.5)
    found, missing = shards.run(every_id)
    assert missing == {} and len(found) == 300


def test_a_hung_shard_costs_its_timeout_once(served, shard_paths, tmp_path):
    shards = remote_set(tmp_path, served)
    shards.run(every_id)
    served[2].hang()
    found, missing, seconds = timed(shards, every_id)
    assert missing == {served[2].address: "timed out after 0.5 s"}
    assert found == shard_ids(shard_paths[0]) | shard_ids(shard_paths[1])
    assert seconds < 10
    assert shards.run(every_id)[1] == missing  # left out, not waited for again
    served[2].resume()


def test_a_shard_hung_before_connecting_is_left_out(served, tmp_path):
    served[0].hang()
    found, missing, seconds = timed(remote_set(tmp_path, served), every_id)
    assert list(missing) == [served[0].address] and len(found) < 300 and seconds < 10
    served[0].resume()


def test_no_shard_answering_is_an_error_naming_each(served, tmp_path):
    shards = remote_set(tmp_path, served)
    for server in served:
        server.kill()
    with pytest.raises(ShardsUnavailable) as raised:
        shards.run(every_id)
    assert str(raised.value) == "no archive shard answered (" + "; ".join(
        f"{server.address} connection refused" for server in served) + ")"


def test_the_version_changes_when_a_remote_shard_commits(servers, tmp_path):
    server = servers.serve(tmp_path / "shard", writable=True)
    writer = open_writable(*server.endpoint)
    shards = remote_set(tmp_path, [server])
    before = shards.version()
    assert before == shards.version()
    writer.add_document(xapian.Document())
    writer.commit()
    assert shards.version() != before
    assert shards.run(xapian.Database.get_doccount)[0] == 1


def test_a_writable_shard_that_cannot_be_opened_is_named(servers, tmp_path):
    server = servers.serve(tmp_path / "shard", writable=True)
    writer = open_writable(*server.endpoint)
    with pytest.raises(ShardsUnavailable, match=f"^shard {server.address} cannot be "
                       r"written: locked by another writer \(2 tries\)$"):
        open_writable(*server.endpoint, tries=2, backoff=0.01)
    writer.close()
    server.kill()
    with pytest.raises(ShardsUnavailable, match=f"^shard {server.address} cannot be "
                       r"written: connection refused \(2 tries\)$"):
        open_writable(*server.endpoint, tries=2, backoff=0.01)


# -- local shards ------------------------------------------------------------------------

def publish(index_dir, records, count):
    """A new generation of ``count`` local shards of ``records``, made live."""
    generation = index_dir / f"gen-{time.time_ns()}"
    generation.mkdir(parents=True)
    build_shards(generation, records, count)
    (generation / "morgue.json").write_text(json.dumps({"backend": "xapian",
                                                        "shards": count}))
    link = index_dir / "current.tmp"
    link.symlink_to(generation.name)
    os.replace(link, index_dir / "current")
    return generation


def test_local_shards_follow_commits_and_generations(tmp_path):
    records = reuters_records(120)
    shards = ShardSet(tmp_path, Settings("xapian"))
    with pytest.raises(IndexMissing):
        shards.run(every_id)
    generation = publish(tmp_path, records[:100], 2)
    assert shards.names == ["shard-0", "shard-1"]
    assert shards.run(every_id) == ({r["id"] for r in records[:100]}, {})
    version = shards.version()
    writer = xapian.WritableDatabase(str(generation / "shard-1"))
    writer.delete_document(next(writer.postlist("")).docid)
    writer.commit()
    assert shards.version() != version
    assert len(shards.run(every_id)[0]) == 99
    publish(tmp_path, records, 3)
    assert shards.names == ["shard-0", "shard-1", "shard-2"]
    assert shards.run(every_id) == ({r["id"] for r in records}, {})


def test_a_missing_local_shard_is_left_out(tmp_path):
    generation = publish(tmp_path, reuters_records(50), 2)
    shutil.rmtree(generation / "shard-0")
    found, missing = ShardSet(tmp_path, Settings("xapian")).run(every_id)
    assert missing == {"shard-0": "no database"}
    assert found == shard_ids(generation / "shard-1")


# -- morgue shard-server -------------------------------------------------------------------

def test_morgue_shard_server_serves_each_new_generation_and_stops_with_its_connections(
        tmp_path):
    records = reuters_records(120)
    index_dir = tmp_path / "index"
    generation = publish(index_dir, records[:100], 2)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "indexer.cli", "shard-server", "--index", str(index_dir),
         "--shard", "1", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == (
            f"Serving {index_dir}/current/shard-1 on 127.0.0.1:{port} (Ctrl-C to stop): "
            f"{shutil.which('xapian-tcpsrv')} --quiet --interface 127.0.0.1 --port {port} "
            f"{index_dir}/current/shard-1\n")
        # a web server's view: no index directory of its own, the shard over TCP
        shards = ShardSet(tmp_path / "web", Settings("xapian", (("127.0.0.1", port),),
                                                     shard_timeout=TIMEOUT_MS / 1000),
                          retry_after=0, reconnect_after=0)
        deadline = time.monotonic() + 10
        while True:  # until it listens
            try:
                shards.run(xapian.Database.get_doccount)
                break
            except ShardsUnavailable:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.05)
        assert shards.run(every_id)[0] == shard_ids(generation / "shard-1")
        version = shards.version()
        generation = publish(index_dir, records, 2)
        assert shards.version() != version
        assert shards.run(every_id)[0] == shard_ids(generation / "shard-1")
        connection = xapian.remote_open("127.0.0.1", port, TIMEOUT_MS)
        connection.keep_alive()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        with pytest.raises(xapian.NetworkError):
            connection.keep_alive()
    finally:
        process.terminate()  # SIGKILL would leave its server running
        process.communicate(timeout=30)


def test_morgue_shard_server_says_in_one_line_what_it_cannot_serve(tmp_path):
    publish(tmp_path, reuters_records(20), 2)
    run = morgue("shard-server", "--index", tmp_path, "--shard", 2, "--port", free_port())
    assert (run.returncode, run.stderr) == (
        1, f"Error: the index in {tmp_path} has no shard 2: it has shards 0 to 1\n")
    run = subprocess.run([sys.executable, "-m", "indexer.cli", "shard-server", "--index",
                          str(tmp_path), "--shard", "0", "--port", str(free_port())],
                         capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PATH=""))
    assert run.returncode == 1 and run.stderr == (
        "Error: xapian-tcpsrv is not installed: it comes with Xapian's tools (on Debian "
        "and Ubuntu: apt-get install xapian-tools)\n")


def test_a_server_of_another_shard_than_its_place_in_the_list_is_left_out(servers, tmp_path):
    write_jsonl(tmp_path / "stories.jsonl", reuters_records(60))
    with environment(MORGUE_BACKEND="xapian", MORGUE_SHARD_COUNT="2"):
        index_paths([tmp_path / "stories.jsonl"], tmp_path / "index")
    first, second = (servers.serve(tmp_path / "index" / "current" / f"shard-{k}")
                     for k in range(2))
    swapped = ShardSet(tmp_path, Settings("xapian", (second.endpoint, first.endpoint)))
    with pytest.raises(ShardsUnavailable) as raised:
        swapped.run(xapian.Database.get_doccount)
    assert str(raised.value) == (
        f"no archive shard answered ({second.address} holds shard 1 of 2, not shard 0 of 2; "
        f"{first.address} holds shard 0 of 2, not shard 1 of 2)")
    too_few = ShardSet(tmp_path, Settings("xapian", (first.endpoint,)))
    with pytest.raises(ShardsUnavailable, match="holds shard 0 of 2, not shard 0 of 1"):
        too_few.run(xapian.Database.get_doccount)
    in_order = ShardSet(tmp_path, Settings("xapian", (first.endpoint, second.endpoint)))
    assert in_order.run(xapian.Database.get_doccount) == (60, {})
