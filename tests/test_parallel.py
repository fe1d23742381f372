"""Indexing with a pool of worker processes gives the same index as indexing in one, and
the lexicon used for indexing gives the same terms as the fields' analyzers."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from whoosh.formats import Positions
from whoosh.writing import SegmentWriter

from bench import corpora
from indexer.analysis import FoldingTokenizer, Lexicon
from indexer.article import Article, parse_date
from indexer.request import SearchRequest
from indexer.schema import EXACT, SCHEMA, ArticleText
from indexer.search import Archive
from indexer import pool, segments, writing
from indexer.codec import Codec
from indexer.store import WriteSession, open_live
from indexer.writing import (TEXTS, _SegmentWriter, _Words, document, index_paths,
                             signature, term_vectors, text_words)

from conftest import reuters_records

ROOT = Path(__file__).resolve().parents[1]
SGML = corpora.SHARED / "reuters-21578" / "sgm" / "reut2-000.sgm.xz"

SEARCHES = [
    dict(q="oil prices"), dict(q="cocoa"), dict(q="japan security pact"),
    dict(q='"interest rates"'), dict(q="title:coffee"), dict(q="grain OR wheat -corn"),
    dict(q="bank~ rate*"), dict(q="date:[1987-03 TO 1987-04] wheat"),
    dict(q="oil", sort="newest"), dict(q="oil", sort="oldest", page=3),
    dict(q="", filters=(("source", "Reuters"),)), dict(q="gold", filters=(("year", "1987"),)),
    dict(q="goverment spending"), dict(q="qqqzzz"),
]


@pytest.fixture(scope="module")
def builds(archive_files, tmp_path_factory):
    """The same sources (pages, text, JSON Lines and Reuters SGML) indexed by one
    process into one segment and by two into two: {jobs: (index directory, summary)},
    and "sources"."""
    sources = [archive_files / "data", archive_files / "pages", archive_files / "reuters.jsonl"]
    if SGML.exists():
        sources.append(SGML)
    built = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writing, "SEGMENT_MIN", 500)
        for jobs in (1, 2):
            directory = tmp_path_factory.mktemp(f"jobs-{jobs}")
            built[jobs] = directory, index_paths(sources, directory, jobs=jobs)
    return built, sources


def test_each_process_writes_a_segment(builds):
    for jobs, (directory, _) in builds[0].items():
        with open_live(directory).reader() as reader:
            assert len(reader.leaf_readers()) == jobs


def test_both_builds_report_the_same_run(builds):
    (_, serial), (_, parallel) = builds[0][1], builds[0][2]
    assert str(serial) == str(parallel)
    assert serial.skipped == parallel.skipped
    assert serial.added > 1500


def test_both_builds_hold_the_same_articles_in_the_same_order(builds):
    stored = {}
    for jobs, (directory, _) in builds[0].items():
        with open_live(directory).searcher() as searcher:
            stored[jobs] = list(searcher.all_stored_fields())
    assert len(stored[1]) > 1500
    assert stored[1] == stored[2]


@pytest.mark.parametrize("options", SEARCHES, ids=lambda o: repr(o))
def test_both_builds_answer_every_search_alike(builds, options):
    answers = []
    for directory, _ in builds[0].values():
        page = Archive(directory).search(SearchRequest(**options)).to_dict()
        page.pop("elapsed_ms")
        answers.append(page)
    assert answers[0] == answers[1]


def test_an_incremental_run_after_a_parallel_build_changes_nothing(builds):
    directory, first = builds[0][2]
    again = index_paths(builds[1], directory, jobs=2)
    assert (again.added, again.updated, again.deleted) == (0, 0, 0)
    assert again.unchanged == again.total == first.total


@pytest.mark.parametrize("chunk, window, chunks", [(pool.CHUNK, pool.WINDOW, 0), (5000, 700, 17)],
                         ids=["one chunk", "several chunks read a window at a time"])
def test_the_indexing_segment_writer_writes_the_files_of_whoosh_s(tmp_path, monkeypatch,
                                                                  chunk, window, chunks):
    """Whoosh's own writer takes the postings one at a time, morgue's as arrays; the
    positions of a text's postings are encoded by Whoosh's format for the one, all at
    once for the other."""
    monkeypatch.setattr(pool, "CHUNK", chunk)
    monkeypatch.setattr(pool, "WINDOW", window)
    articles = [Article(id=r["id"], title=r["title"], body=r["body"], source=r["source"],
                        published=parse_date(r["date"]), tags=r["tags"])
                for r in reuters_records(300)]
    written = []
    for kind in (SegmentWriter, _SegmentWriter):
        with WriteSession(tmp_path / kind.__name__) as session:
            ix = session.new_generation()
            writer, lexicon = kind(ix, _lk=False, compound=False, codec=Codec()), Lexicon()
            for article in articles:
                words = text_words(article, lexicon)
                [vector] = term_vectors([article], [words], lexicon)
                writer.add_document(**document(article, words, vector, signature(
                    article, words, lexicon), article.id, lexicon))
            saved = len(getattr(writer.pool, "chunks", ()))  # before the last
            segid = writer._finalize_segment().segid
        written.append({path.name.replace(segid, ""): path.read_bytes()
                        for path in Path(ix.storage.folder).iterdir() if segid in path.name})
    assert len(written[0]) > 10
    assert written[1].pop(f"MAIN_{segments.BANDS}") == b""  # no signature was given to keep
    assert written[0] == written[1]
    assert saved == chunks


def test_positions_are_encoded_at_once_as_whoosh_s_format_encodes_each_posting():
    """Runs of every size (a pickle appends a thousand items at a time) and steps of
    every width (one, two and four bytes)."""
    rng = random.Random(5)
    runs = [sorted(rng.sample(range(rng.choice([3000, 70_000, 5_000_000])), size))
            for size in [1, 2, 3, 999, 1000, 1001, 2000, 2001] + [rng.choice([1, 2, 7])
                                                                  for _ in range(500)]]
    rng.shuffle(runs)
    counts = np.array([len(run) for run in runs])
    sizes, values = pool.positions_values(np.array([p for run in runs for p in run], np.int32),
                                          np.cumsum(counts) - counts, counts)
    expected = [Positions().encode(run) for run in runs]
    assert sizes.tolist() == [len(value) for value in expected]
    assert values == b"".join(expected)


def _texts() -> list[str]:
    records = corpora.bbc()[:150] + corpora.reuters(150) if corpora.BBC.exists() else []
    return [r[key] for r in records for key in ("title", "body")] + [
        "Japan's U.S.-made café: naïve İstanbul ﬁnance, co-operation, 3.5% of I A a x's",
        "", "—", "the of and"]


@pytest.mark.parametrize("name", [n for n, f in SCHEMA.items() if isinstance(f, ArticleText)])
def test_the_lexicon_gives_the_analyzers_terms(name):
    field = SCHEMA[name]
    for text in _texts():
        expected = sorted((term.encode("utf-8"), freq, weight, value) for term, freq, weight, value
                          in field.format.word_values(text, field.analyzer, mode="index"))
        assert sorted(field.index(text)) == expected, text[:80]


def test_words_spooled_with_their_own_vocabulary_are_the_same_words_to_the_writer():
    """A spool numbers its articles' words in a vocabulary of their own, which the
    writing process numbers in its lexicon (already holding other words)."""
    articles = [Article(id=r["id"], title=r["title"], body=r["body"], source=r["source"],
                        byline="Ann Bright" * (n % 2))
                for n, r in enumerate(reuters_records(70)[6:70])]
    reader, writer = Lexicon(), Lexicon()
    writer.words(reuters_records(5)[0]["body"])
    words = [text_words(article, reader) for article in articles]
    spooled = _Words.of(words, reader)
    assert 0 < len(spooled.vocabulary) < len(spooled.numbers)  # each word once
    for numbers, again in zip(words, spooled.numbered(writer)):
        assert list(again) == TEXTS
        for name in TEXTS:
            assert [writer.exact[n] for n in again[name]] == [
                reader.exact[n] for n in numbers[name]], name


def test_the_highlighting_tokenizer_gives_the_exact_analyzers_words_and_places():
    tokenizer = FoldingTokenizer()
    for text in _texts():
        def tokens(analyzer):
            return [(t.text, t.pos, t.startchar, t.endchar) for t in
                    analyzer(text, positions=True, chars=True, mode="query", removestops=False)]
        assert tokens(tokenizer) == tokens(EXACT), text[:80]


def _descendants(pid: int) -> set[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return set()
    return {int(c) for c in children} | {d for c in children for d in _descendants(int(c))}


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not SGML.exists(), reason="the Reuters-21578 SGML is not there")
def test_killing_a_parallel_indexer_stops_its_workers_and_frees_the_lock(tmp_path):
    command = [sys.executable, "-m", "indexer.cli", "index", str(SGML), "--index",
               str(tmp_path / "index")]
    indexer = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ, MORGUE_JOBS="2"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(workers := _descendants(indexer.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(workers) >= 2
    indexer.send_signal(signal.SIGKILL)
    indexer.wait()
    deadline = time.monotonic() + 10
    while any(map(_running, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(_running, workers))
    # The lock is free, and nothing of the killed run was published.
    summary = index_paths([ROOT / "data"], tmp_path / "index")
    assert summary.added == summary.total > 0
