"""Shards served by real ``xapian-tcpsrv`` processes: killed, hung and restarted."""

from __future__ import annotations

import pytest

from indexer.article import Article, parse_date
from indexer.shards import layout
from conftest import reuters_records
from shardservers import ShardServers

xapian = pytest.importorskip("xapian")

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
