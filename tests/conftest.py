"""Shared fixtures: real archives on disk, indexed into real Whoosh indexes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import corpora
from bench.corpora import write_jsonl
from indexer.request import SearchRequest
from indexer.search import Archive, ResultPage
from indexer.writing import index_paths

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


@pytest.fixture(scope="session")
def index_dir(archive_files, tmp_path_factory) -> Path:
    """A real index of ``archive_files``, built once for the session (read-only)."""
    directory = tmp_path_factory.mktemp("index")
    index_paths([archive_files / "data", archive_files / "pages",
                 archive_files / "reuters.jsonl"], directory)
    return directory


@pytest.fixture(scope="session")
def archive(index_dir) -> Archive:
    return Archive(index_dir)


def search(archive: Archive, q: str, **options) -> ResultPage:
    """``archive``'s answer to the query ``q`` (options as in SearchRequest)."""
    return archive.search(SearchRequest(q=q, **options))
