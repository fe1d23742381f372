"""End to end over real HTTP: `morgue serve` on a loopback port, as a user runs it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from bench.load import Server, free_port, wait_until_listening
from conftest import ROOT, SAMPLE_ID
from test_cli import morgue


@pytest.fixture(scope="module")
def server(archive):
    """``morgue serve`` on each backend in turn (reading the shards over TCP)."""
    with Server(archive.index_dir, environment=archive.settings.environment()) as running:
        yield running.url


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def test_search_over_http_shows_the_sample_article_first_with_marks(server):
    status, body = get(server + "/?" + urllib.parse.urlencode({"q": "Japan security pact"}))
    assert status == 200
    first = BeautifulSoup(body, "html.parser").select("ol.results li")[0]
    assert first.find("a")["href"].startswith(f"/articles/{SAMPLE_ID}")
    assert [m.get_text() for m in first.find("h2").find_all("mark")] == [
        "Japan", "Security", "Pact"]


def test_article_page_over_http(server):
    status, body = get(f"{server}/articles/{SAMPLE_ID}?q=treaty")
    assert status == 200
    assert [m.get_text() for m in BeautifulSoup(body, "html.parser").find_all("mark")] == [
        "treaty"]


@pytest.mark.parametrize("query", ['"unbalanced', "((((", "title:", "%ff%fe"])
def test_malformed_queries_over_http_are_never_a_server_error(server, query):
    status, body = get(f"{server}/?q={urllib.parse.quote(query, safe='%')}")
    assert status in (200, 400)
    assert "summary" in body


def test_static_files_and_the_json_api_are_served(server):
    assert get(server + "/static/style.css")[0] == 200
    status, body = get(server + "/api/search?q=treaty")
    assert status == 200 and SAMPLE_ID in body


def server_processes(master: int) -> list[int]:
    """The pids of the processes ``master`` started (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name, in parentheses, may hold spaces: the fields follow it.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            found.append(int(stat.parent.name))
    return found


def test_serve_answers_from_several_processes_and_stops_them_all_on_sigterm(index_dir):
    with Server(index_dir, workers=2, threads=2) as server:
        deadline = time.monotonic() + 60
        while len(workers := server_processes(server.process.pid)) < 2:
            assert time.monotonic() < deadline, "morgue serve did not start 2 processes"
            time.sleep(0.1)
        queries = ["oil", "cocoa", "Japan security pact", "grain", "title:coffee", "dollar"]
        with ThreadPoolExecutor(len(queries)) as pool:
            answers = list(pool.map(lambda q: get(f"{server.url}/?q={urllib.parse.quote(q)}"),
                                    queries))
        assert [status for status, _ in answers] == [200] * len(queries)
        assert all("ol class=\"results\"" in body for _, body in answers)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=60) == 0
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def test_serve_says_where_it_listens_and_stops_on_ctrl_c(index_dir):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "indexer.cli", "serve", "--index", str(index_dir), "--port",
         str(port), "--workers", "1", "--threads", "2"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == (
            f"Serving {index_dir} (1,505 articles) on http://127.0.0.1:{port}/ with 1 process "
            "of 2 threads (Ctrl-C to stop)\n")
        wait_until_listening(process, port)  # Ctrl-C before that aborts the start
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
        process.communicate()


def test_serve_refuses_bad_options_and_a_busy_port_in_one_line(index_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = morgue("serve", "--index", index_dir, "--port", port)
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"]
    for option, value in [("--workers", "0"), ("--threads", "0"), ("--port", "70000")]:
        run = morgue("serve", "--index", index_dir, option, value)
        assert run.returncode == 2
        assert run.stderr.splitlines()[-1].startswith("Error: Invalid value for")
        assert option in run.stderr.splitlines()[-1]
