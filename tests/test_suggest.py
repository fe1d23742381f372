"""Suggestions while typing, from the read API and the command line."""

from __future__ import annotations

import subprocess
import sys

from conftest import search


def test_the_last_word_is_completed_with_the_words_before_it_kept(archive):
    found = archive.suggest("Cocoa bah")
    queries = [s.text for s in found if s.kind == "query"]
    assert queries[0] == "Cocoa bahia" and all(q.startswith("Cocoa bah") for q in queries)


def test_completions_are_words_found_with_the_words_before_them(archive):
    alone = [s.text for s in archive.suggest("pri") if s.kind == "query"]
    after_oil = [s.text[4:] for s in archive.suggest("oil pri") if s.kind == "query"]
    assert alone[0] in ("price", "prices") and after_oil
    for word in after_oil:
        assert search(archive, f"body:\"oil\" body:\"{word}\"").total > 0, word


def test_titles_follow_with_their_ids_one_of_each(archive):
    titles = [s for s in archive.suggest("cocoa ") if s.kind == "article"]
    assert titles and all("cocoa" in s.text.lower() for s in titles)
    assert len({s.text.casefold() for s in titles}) == len(titles)
    assert all(archive.article(s.id).title == s.text for s in titles)


def test_nothing_to_suggest_for_one_letter_or_unknown_words(archive):
    assert archive.suggest("c") == []
    assert archive.suggest("zzzzqqq") == []
    assert archive.suggest("x" * 500) == []


def test_command_line_suggestions(index_dir):
    run = subprocess.run([sys.executable, "-m", "indexer.cli", "suggest", "cocoa bah",
                          "--index", str(index_dir)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "cocoa bahia"
    assert any(line.startswith("BAHIA COCOA REVIEW  [") for line in lines)
