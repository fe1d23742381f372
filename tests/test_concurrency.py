"""Searches in several threads and processes while the index is rewritten under them,
by incremental commits and by rebuilds: no search fails, and each answer comes whole
from one version of the index."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from pathlib import Path

from indexer.request import SearchRequest
from indexer.search import Archive
from indexer.writing import index_paths

STORIES = 40
EDITIONS = 8  # the archive is rewritten this many times while searches run
THREADS, PROCESSES = 3, 2

ROOT = Path(__file__).resolve().parents[1]

# A searching process: searches until told to stop, printing each answer (or error).
PROCESS = """
import json, sys
from pathlib import Path
from indexer.search import Archive
from test_concurrency import editions
archive, stop = Archive(sys.argv[1]), Path(sys.argv[2])
while not stop.exists():
    try:
        print(json.dumps(editions(archive)), flush=True)
    except Exception as error:
        print(json.dumps(repr(error)), flush=True)
"""


def editions(archive: Archive) -> tuple[int, list[int]]:
    """Search for every story: the number of results, and the editions of the hits."""
    page = archive.search(SearchRequest(q="story", size=100))
    return page.total, sorted({int(hit.title.split()[-1]) for hit in page.hits})


def write_edition(root: Path, edition: int) -> None:
    """Every story of the archive, its title ending in ``edition`` and each with words
    of its own (so that none is a near-duplicate of another)."""
    vocabulary = random.Random(7)
    for number in range(STORIES):
        words = " ".join(f"w{vocabulary.randrange(16**6):06x}" for _ in range(40))
        (root / f"story-{number:02d}.txt").write_text(
            f"Story {number} of edition {edition}\n\nThe story {words}.\n")


def test_searches_never_fail_and_always_see_one_whole_version(tmp_path):
    archive_dir, index, stop = tmp_path / "archive", tmp_path / "index", tmp_path / "stop"
    archive_dir.mkdir()
    write_edition(archive_dir, 0)
    index_paths([archive_dir], index)

    answers: list[list] = []  # each searcher's answers, in order
    errors: list = []

    def search_in_a_thread():
        archive, mine = Archive(index), []
        answers.append(mine)
        while not stop.exists():
            try:
                mine.append(editions(archive))
            except Exception as error:  # every failure is counted
                errors.append(repr(error))

    threads = [threading.Thread(target=search_in_a_thread) for _ in range(THREADS)]
    processes = [subprocess.Popen([sys.executable, "-c", PROCESS, str(index), str(stop)],
                                  stdout=subprocess.PIPE, text=True, cwd=ROOT,
                                  env=dict(os.environ, PYTHONPATH=f"{ROOT}:{ROOT / 'tests'}"))
                 for _ in range(PROCESSES)]
    for thread in threads:
        thread.start()
    try:
        for edition in range(1, EDITIONS + 1):
            write_edition(archive_dir, edition)
            summary = index_paths([archive_dir], index, rebuild=edition % 2 == 0)
            assert (summary.updated, summary.total) == (STORIES, STORIES)
    finally:
        stop.touch()
        for thread in threads:
            thread.join()
    for process in processes:
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        lines = [json.loads(line) for line in output.splitlines()]
        errors += [line for line in lines if isinstance(line, str)]
        answers.append([tuple(line) for line in lines if not isinstance(line, str)])

    assert errors == []
    assert all(len(mine) > EDITIONS for mine in answers)
    for mine in answers:
        torn = [(total, found) for total, found in mine if total != STORIES or len(found) != 1]
        assert torn == []
        seen = [found[0] for _, found in mine]
        assert seen == sorted(seen)  # never back to an older version
    assert {found[0] for mine in answers for _, found in mine} > {0, EDITIONS}
    assert editions(Archive(index)) == (STORIES, [EDITIONS])
