"""Shared fixtures: real archives on disk, indexed into real Whoosh indexes and into
real Xapian shards served by real ``xapian-tcpsrv`` processes.

The ``archive`` fixture is each backend in turn, so that every test of a search feature
that takes it runs against both; ``whoosh_archive`` is the embedded index alone.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench import corpora
from bench.corpora import write_jsonl
from indexer.request import SearchRequest
from indexer.search import Archive, ResultPage
from indexer.settings import Settings
from indexer.writing import index_paths
from shardservers import ShardServers

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLE_ID = "japan-us-security-pact.txt"


def reuters_records(count: int) -> list[dict]:
    """The first ``count`` Reuters-21578 stories with a body, as morgue records."""
    if not corpora.REUTERS.exists():
        pytest.skip(f"the Reuters-21578 corpus is not at {corpora.REUTERS}")
    return corpora.reuters(count)


@pytest.fixture(scope="session")
def archive_files(tmp_path_factory) -> Path:
    """A directory holding the sample archive of data/, 1,500 Reuters stories and the
    saved news pages of tests/fixtures/pages."""
    root = tmp_path_factory.mktemp("archive")
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copytree(FIXTURES / "pages", root / "pages")
    write_jsonl(root / "reuters.jsonl", reuters_records(1500))
    return root


def archive_paths(archive_files: Path) -> list[Path]:
    return [archive_files / "data", archive_files / "pages", archive_files / "reuters.jsonl"]


@contextmanager
def environment(**variables):
    """The process's environment with ``variables`` set, for the ``with`` block."""
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def index_dir(archive_files, tmp_path_factory) -> Path:
    """A real index of ``archive_files``, built once for the session (read-only)."""
    directory = tmp_path_factory.mktemp("index")
    index_paths(archive_paths(archive_files), directory)
    return directory


@pytest.fixture(scope="session")
def whoosh_archive(index_dir) -> Archive:
    return Archive(index_dir)


@pytest.fixture(scope="session")
def shard_servers():
    with ShardServers() as servers:
        yield servers


@pytest.fixture(scope="session")
def sharded_archive(archive_files, tmp_path_factory, shard_servers) -> Archive:
    """The same files indexed into two Xapian shards, each served by its own
    ``xapian-tcpsrv`` on a loopback port, and searched as remote shards."""
    directory = tmp_path_factory.mktemp("shards")
    with environment(MORGUE_BACKEND="xapian", MORGUE_SHARD_COUNT="2"):
        index_paths(archive_paths(archive_files), directory)
    endpoints = tuple(shard_servers.serve(directory / "current" / f"shard-{k}").endpoint
                      for k in range(2))
    return Archive(directory, settings=Settings("xapian", endpoints))


@pytest.fixture(scope="session", params=["whoosh", "xapian"])
def archive(request) -> Archive:
    """The archive of ``archive_files`` on each backend in turn."""
    return request.getfixturevalue(f"{'sharded' if request.param == 'xapian' else 'whoosh'}"
                                   "_archive")


def search(archive: Archive, q: str, **options) -> ResultPage:
    """``archive``'s answer to the query ``q`` (options as in SearchRequest)."""
    return archive.search(SearchRequest(q=q, **options))
