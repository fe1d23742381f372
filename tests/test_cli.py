"""The `morgue` command line, run as a user runs it."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

from conftest import SAMPLE_ID, ROOT
from shardservers import free_port


def morgue(*args, cwd=None, **environment) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120,
                          env=dict(os.environ, **environment))


def test_index_prints_one_summary_line_and_lists_skips_when_verbose(tmp_path):
    (tmp_path / "a.txt").write_text("A title\n\nA body.\n")
    (tmp_path / "b.pdf").write_bytes(b"%PDF-1.4")
    run = morgue("index", tmp_path, "--index", tmp_path / ".index", "--verbose")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        f"skipped {tmp_path / 'b.pdf'}: unsupported file type .pdf",
        f"{tmp_path / '.index'}: added 1, updated 0, deleted 0, unchanged 0, skipped 1; "
        "1 articles in the index, 0 groups of near-duplicates"]


def test_index_takes_the_number_of_processes(tmp_path):
    for n in range(3):
        (tmp_path / f"{n}.txt").write_text(f"Title {n}\n\nBody number {n}.\n")
    run = morgue("index", tmp_path, "--index", tmp_path / ".index", "--jobs", 2)
    assert run.returncode == 0, run.stderr
    assert "added 3, updated 0, deleted 0" in run.stdout
    run = morgue("index", tmp_path, "--index", tmp_path / ".index", "--jobs", 0)
    assert run.returncode == 2 and "Invalid value for '-j' / '--jobs'" in run.stderr


def test_index_defaults_to_data_and_the_index_set_by_environment(tmp_path):
    env_index = tmp_path / "env-index"
    run = subprocess.run([sys.executable, "-m", "indexer.cli", "index"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120,
                         env={"MORGUE_INDEX": str(env_index), "PATH": ""})
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"{env_index}: added 1,")
    assert run.stdout.rstrip().endswith(
        "1 articles in the index, 0 groups of near-duplicates (--verbose says why)")


def test_search_prints_results_and_json(index_dir):
    run = morgue("search", "Japan security pact", "--index", index_dir)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("1 results")
    assert "Japan-U.S. Security Pact Upgraded" in lines[2]
    assert f"undated · {SAMPLE_ID} · score" in lines[3]
    data = json.loads(morgue("search", "cybersecurity", "--format", "json", "--index",
                             index_dir).stdout)
    assert data["hits"][0]["id"] == SAMPLE_ID
    assert "<mark>cybersecurity</mark>" in data["hits"][0]["snippet_html"]


def test_errors_are_one_line_without_a_traceback(tmp_path):
    run = morgue("search", "x", "--index", tmp_path / "none")
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"Error: no index in {tmp_path / 'none'}: build one with `morgue index`"]
    run = morgue("serve", "--index", tmp_path / "none")
    assert run.returncode == 1 and "Traceback" not in run.stderr


def test_search_all_exports_every_result_as_csv_or_jsonl(index_dir):
    page = json.loads(morgue("search", "oil", "--format", "json", "--index", index_dir).stdout)
    run = morgue("search", "oil", "--all", "--format", "csv", "--index", index_dir)
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert len(rows) == page["total"] > 10
    assert [r["id"] for r in rows[:10]] == [h["id"] for h in page["hits"]]
    lines = morgue("search", "oil", "--all", "--format", "jsonl", "--source", "Reuters",
                   "--index", index_dir).stdout.splitlines()
    assert len(lines) == page["total"]
    refused = morgue("search", "oil", "--all", "--index", index_dir)
    assert refused.returncode == 2 and "--all needs --format csv" in refused.stderr


def test_search_filters_and_sorts_from_the_command_line(index_dir):
    run = morgue("search", "oil", "--month", "1987-03", "--sort", "newest", "--format", "json",
                 "--index", index_dir)
    data = json.loads(run.stdout)
    assert data["filters"] == {"month": ["1987-03"]} and data["sort"] == "newest"
    dates = [hit["published"] for hit in data["hits"]]
    assert dates == sorted(dates, reverse=True) and all(d.startswith("1987-03") for d in dates)


def test_search_by_language_from_the_command_line(tmp_path):
    (tmp_path / "wire.jsonl").write_text(
        '{"id": "a", "title": "Harbour opens", "body": "The harbour opened.", "language": "en"}\n'
        '{"id": "b", "title": "Harbour ferme", "body": "The harbour shut.", "language": "fr-FR"}\n')
    assert morgue("index", tmp_path, "--index", tmp_path / ".index").returncode == 0
    run = morgue("search", "harbour", "--language", "fr", "--format", "json",
                 "--index", tmp_path / ".index")
    assert [hit["id"] for hit in json.loads(run.stdout)["hits"]] == ["b"]


def test_a_backend_that_cannot_answer_is_one_line_on_the_command_line(index_dir):
    unknown = morgue("search", "oil", "--index", index_dir, MORGUE_BACKEND="elastic")
    assert unknown.returncode == 1
    assert unknown.stderr == ("Error: MORGUE_BACKEND: 'elastic' is not one of whoosh, "
                              "xapian\n")
    port = free_port()  # nothing listens there
    down = morgue("search", "oil", "--index", index_dir, MORGUE_BACKEND="xapian",
                  MORGUE_SHARDS=f"127.0.0.1:{port}")
    assert down.returncode == 1
    assert down.stderr == (f"Error: no archive shard answered (127.0.0.1:{port} "
                           "connection refused)\n")
