"""Performance benchmark: indexing and search at several archive sizes, side by side with
plain Whoosh, SQLite FTS5, tantivy and morgue's sharded backend on Xapian.

    python -m bench.perf [--docs 10000,50000,200000] [--queries 300] [--clients 8]
                         [--seconds 30] [--seed 7]
                         [--systems morgue,whoosh,fts5,tantivy,xapian1,xapian2,xapian4]

For each size, an archive of that many articles (real Reuters-21578 and BBC News
stories, and beyond them articles recombined from their paragraphs and sentences: see
bench.synthetic) is written as JSON Lines and indexed by each system in a child process,
measuring the wall time (articles/s and MB of text/s), the CPU time (its workers'
included), the peak resident memory (the sum over the process and its workers, sampled
every 50 ms) and the index size on disk. morgue is
then rebuilt in full (``morgue index --rebuild``) and reindexed after 1% of the articles
were edited (``morgue index``, incremental).

``xapianN`` is morgue itself on its sharded backend: ``morgue index`` with
``MORGUE_BACKEND=xapian MORGUE_SHARD_COUNT=N`` writes N local shards, then each shard is
served by its own ``xapian-tcpsrv`` on loopback (as ``morgue shard-server --shard K``
serves it) and searched as remote shards (``MORGUE_SHARDS``), by ``Archive.search`` and
by ``morgue serve``.

Searches: a seeded mix drawn from the archive's real headlines (single words, two and
three words, quoted phrases, a word in the title, a word within two months, a word
sorted newest first), each doing the work of a result page: ten results, the total,
facet counts and ten highlighted snippets; morgue through its read API
(``Archive.search``), the others as bench.reference describes. Latency p50/p95/p99
the first time each search is asked, and asked again (where what a system keeps between
searches helps: the OS's file cache for all, and the postings morgue has read; not its
result pages, which would answer without searching). Then ``morgue serve`` answers the
search page (``/``) from ``--clients`` concurrent clients over loopback for
``--seconds``: the mix in turn, over and over, then searches drawn anew (up to
NEW_SEARCHES, none of the mix), each asked once, with the CPU time per request of
``morgue serve`` (its processes) and of the shard servers. Requests that fail (an answer
other than 200, or none) are counted, and make the benchmark exit 1 after its report.

Every figure is printed for each system and as a ratio of morgue's to the others'
(above 1 means morgue is better), and, after all sizes, morgue's figures by size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import psutil

from indexer.request import SearchRequest
from indexer.search import Archive
from indexer.settings import Settings
from whoosh.analysis import STOP_WORDS

from . import reference, synthetic
from .load import CpuTime, Server, ShardServers, run_load

ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = {"whoosh": lambda w: reference.WhooshPlain(w, stemming=True),
           "fts5": reference.SqliteFts5, "tantivy": reference.TantivyDefaults}
SHARDED = {"xapian1": 1, "xapian2": 2, "xapian4": 4}  # morgue on Xapian: local shards
KINDS = {"one word": 25, "two words": 20, "three words": 15, "phrase": 10, "title:": 10,
         "date range": 10, "newest": 10}
_WORD = re.compile(r"[a-z]{3,}")
NEW_SEARCHES = 20_000  # drawn for the web load of searches not asked before


# -- the query mix -----------------------------------------------------------------------

def query_mix(archive: list[Path], count: int, seed: int) -> list[reference.Search]:
    """``count`` searches of the kinds in KINDS (weighted), words from real headlines."""
    rng = random.Random(seed)
    headlines, years = [], set()
    for record in _records(archive):
        if not record["id"].startswith("synthetic-"):
            words = [w for w in _WORD.findall(record["title"].lower())]
            if len(words) >= 3:
                headlines.append(words)
        if record.get("date"):
            years.add(int(record["date"][:4]))
    years = sorted(years)
    searches = []
    for kind in rng.choices(list(KINDS), weights=list(KINDS.values()), k=count):
        words = rng.choice(headlines)
        content = [w for w in words if w not in STOP_WORDS] or words
        if kind == "phrase":
            i = rng.randrange(len(words) - 1)
            searches.append(reference.Search(tuple(words[i:i + 2]), phrase=True))
        elif kind in ("two words", "three words"):
            n = 2 if kind == "two words" else 3
            searches.append(reference.Search(tuple(rng.sample(content, min(n, len(content))))))
        else:
            word = (rng.choice(content),)
            if kind == "title:":
                searches.append(reference.Search(word, field="title"))
            elif kind == "date range":
                year, month = rng.choice(years), rng.randint(1, 11)
                end = f"{year:04d}-{month + 1:02d}-{30 if month + 1 != 2 else 28}"
                searches.append(reference.Search(word, dates=(f"{year:04d}-{month:02d}-01",
                                                              end)))
            else:
                searches.append(reference.Search(word, newest=kind == "newest"))
    return searches


def morgue_request(search: reference.Search) -> SearchRequest:
    text = search.text()
    if search.dates:
        text += f" date:[{search.dates[0]} TO {search.dates[1]}]"
    return SearchRequest(q=text, sort="newest" if search.newest else "relevance")


# -- measuring ---------------------------------------------------------------------------

def _records(files: list[Path]):
    for path in files:
        with open(path, encoding="utf-8") as lines:
            yield from map(json.loads, lines)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(command: list[str], environment: dict[str, str] | None = None
                 ) -> tuple[float, int, float]:
    """Run ``command`` (with ``environment`` added to this process's); its wall time
    (s), peak resident memory (bytes, the sum over the process and its children,
    sampled every 50 ms) and CPU time (s, its own and its workers')."""
    cpu = _children_cpu()
    started = time.perf_counter()
    process = psutil.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                           env={**os.environ, **(environment or {})})
    peak = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass
        time.sleep(0.05)
    if process.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode})")
    return time.perf_counter() - started, peak, _children_cpu() - cpu


def disk_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def percentiles(times: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return {"p50": cuts[49] * 1000, "p95": cuts[94] * 1000, "p99": cuts[98] * 1000}


def latencies(page, searches, total) -> dict[str, float]:
    """Percentiles (ms) of ``page`` over ``searches``: the first time each is asked
    ("first p50"...), and asked again ("p50"..., where what a system keeps between
    searches helps); and the mean number of results (``total`` of what ``page``
    returns)."""
    found, first, again = [], [], []
    for times in (first, again):
        for search in searches:
            started = time.perf_counter()
            got = page(search)
            times.append(time.perf_counter() - started)
            if times is first:
                found.append(total(got))
    return {**{f"first {k}": v for k, v in percentiles(first).items()},
            **percentiles(again), "mean results": statistics.mean(found)}


def morgue_index(files, index_dir: Path, *options) -> list[str]:
    return [sys.executable, "-m", "indexer.cli", "index", *map(str, files),
            "--index", str(index_dir), *options]


def edit_share(files: list[Path], share: float, seed: int) -> int:
    """Edit ``share`` of the articles of the archive in place; how many."""
    rng = random.Random(seed)
    edited = 0
    for path in files:
        lines = path.read_text("utf-8").splitlines()
        for i in range(len(lines)):
            if rng.random() < share:
                lines[i] = json.dumps(synthetic.edit(json.loads(lines[i]), rng))
                edited += 1
        path.write_text("\n".join(lines) + "\n", "utf-8")
    return edited


# -- one size ----------------------------------------------------------------------------

def measure_size(n: int, args, workdir: Path) -> dict[str, dict[str, float]]:
    print(f"\n== {n:,} articles ==", flush=True)
    files = synthetic.write_archive(workdir / "archive", n, args.seed)
    megabytes = sum(len(r["title"]) + len(r["body"]) for r in _records(files)) / 1e6
    searches = query_mix(files, args.queries, args.seed)
    # Searches not in the mix, each asked once: no answer kept from before helps.
    asked = {morgue_request(s) for s in searches}
    fresh = list({morgue_request(s): s for s in query_mix(
        files, NEW_SEARCHES, args.seed + 1) if morgue_request(s) not in asked}.values())
    figures: dict[str, dict[str, float]] = {}

    def indexed(name, seconds, peak, cpu, size):
        figures[name] = {"articles/s": n / seconds, "MB/s": megabytes / seconds,
                         "build s": seconds, "build CPU s": cpu, "peak RSS MB": peak / 2**20,
                         "index MB": size / 2**20}
        print(f"  {name}: indexed in {seconds:.1f} s", flush=True)

    index_dir = workdir / "morgue"
    if "morgue" in args.systems:
        indexed("morgue", *run_measured(morgue_index(files, index_dir)), disk_size(index_dir))
    for key, make in SYSTEMS.items():
        if key not in args.systems:
            continue
        try:
            system = make(workdir)
        except ImportError:
            print(f"  ({key}: not installed, left out)")
            continue
        indexed(system.name, *run_measured([sys.executable, "-m", "bench.perf", "--build", key,
                                            "--workdir", str(workdir), *map(str, files)]),
                disk_size(system.store))
        system.open()
        figures[system.name].update(latencies(system.page, searches, lambda got: got[0]))
    for key, count in SHARDED.items():
        if key not in args.systems:
            continue
        shards_dir = workdir / key
        indexed(key, *run_measured(morgue_index(files, shards_dir), Settings(
            "xapian", shard_count=count).environment()), disk_size(shards_dir))
        figures[key]["shards MB"] = sum(  # without the indexer's catalog
            disk_size(path) for path in (shards_dir / "current").glob("shard-*")) / 2**20
        with ShardServers(shards_dir, count) as servers:
            figures[key].update(page_latencies(shards_dir, searches, servers.settings))
            figures[key].update(web_loads(shards_dir, searches, fresh, args, servers))
    if "morgue" in args.systems:
        figures["morgue"].update(page_latencies(index_dir, searches))
        seconds, _, cpu = run_measured(morgue_index(files, index_dir, "--rebuild"))
        figures["morgue"].update({"rebuild s": seconds, "rebuild CPU s": cpu})
        edited = edit_share(files, 0.01, args.seed)
        seconds, _, cpu = run_measured(morgue_index(files, index_dir))
        figures["morgue"].update({"reindex 1% s": seconds, "reindex 1% CPU s": cpu})
        print(f"  morgue: rebuilt in {figures['morgue']['rebuild s']:.1f} s, reindexed "
              f"{edited} edited articles in {seconds:.1f} s", flush=True)
        figures["morgue"].update(web_loads(index_dir, searches, fresh, args))
    report(figures)
    return figures


def page_latencies(index_dir: Path, searches, settings: Settings = Settings()):
    """latencies() of morgue's result pages over the archive in ``index_dir``, read
    through the backend of ``settings`` (the Whoosh index by default)."""
    archive = Archive(index_dir, pages_kept=0, settings=settings)  # searching every time
    return latencies(lambda search: archive.search(morgue_request(search)), searches,
                     lambda page: page.articles)


def web_loads(index_dir: Path, searches, fresh, args, servers: ShardServers | None = None
              ) -> dict[str, float]:
    """Requests per second of the search page, and its failed requests, for the mix
    ``searches`` and for the searches ``fresh``, each asked once; for the latter, the
    CPU time per request of the web app and of the shard ``servers`` (if any)."""
    figures = {}
    for name, asked in (("search page", searches), ("new searches", fresh)):
        rate, errors, app, shards = web_load(index_dir, asked, args, servers)
        figures.update({f"{name} req/s": rate, f"{name} errors": errors})
    figures["new searches app CPU ms"] = app
    if servers:
        figures["new searches shard CPU ms"] = shards
    return figures


def web_load(index_dir: Path, searches, args, servers: ShardServers | None = None):
    """Requests per second of the search page for ``searches`` (in turn, again and
    again) from ``args.clients`` clients, served over ``servers`` (if given), how many
    requests failed (an answer other than 200, or none), and the CPU time (ms) per
    request of ``morgue serve`` and of the shard servers."""
    paths = ["/?" + urllib.parse.urlencode(dict(
        q=morgue_request(s).q, sort=morgue_request(s).sort)) for s in searches]
    with Server(index_dir, environment=servers.settings.environment() if servers else None
                ) as server:
        with CpuTime([server.process.pid]) as app, CpuTime(servers.pids if servers else []
                                                           ) as shards:
            stats = run_load(server.url, paths, args.clients, args.seconds)
    errors = {**{f"status {status}": n for status, n in stats.statuses.items()
                 if status != 200}, **stats.failures}
    print(f"  search page: {stats.requests} requests for {len(set(paths))} searches in "
          f"{stats.seconds:.1f} s from {args.clients} clients, "
          + (", ".join(f"{n} {what}" for what, n in errors.items()) or "no errors"), flush=True)
    if errors:  # what the server said of them
        print("    " + "\n    ".join(server.process.stderr.read().splitlines()[-10:]))
    per_request = 1000 / max(stats.requests, 1)
    return (stats.requests / stats.seconds, sum(errors.values()), app.seconds * per_request,
            shards.seconds * per_request)


# -- reporting ---------------------------------------------------------------------------

# Figures where more is better; for the others, less is.
HIGHER = {"articles/s", "MB/s", "search page req/s", "new searches req/s"}


def report(figures: dict[str, dict[str, float]]) -> None:
    """A table of every figure of every system, and morgue's ratio to each other."""
    names = list(figures)
    others = [name for name in names if name != "morgue"] if "morgue" in figures else []
    rows = list(dict.fromkeys(row for name in names for row in figures[name]))
    print(f"  {'':20}" + "".join(f"{name:>18}" for name in names)
          + "".join(f"{'vs ' + name:>21}" for name in others))
    for row in rows:
        line = f"  {row:20}" + "".join(
            f"{figures[name][row]:>18,.1f}" if row in figures[name] else f"{'':>18}"
            for name in names)
        for other in others:
            mine, theirs = figures["morgue"].get(row), figures[other].get(row)
            if mine and theirs and row != "mean results":
                ratio = mine / theirs if row in HIGHER else theirs / mine
                line += f"{ratio:>20.2f}x"
            else:
                line += f"{'':>21}"
        print(line)


def curve(results: dict[int, dict[str, dict[str, float]]]) -> None:
    """morgue's figures by archive size."""
    sizes = [n for n in results if "morgue" in results[n]]
    if len(sizes) < 2:
        return
    print("\n== morgue by archive size ==")
    print(f"  {'':20}" + "".join(f"{n:>14,}" for n in sizes))
    for row in results[sizes[0]]["morgue"]:
        print(f"  {row:20}" + "".join(f"{results[n]['morgue'].get(row, 0):>14,.1f}"
                                      for n in sizes))


def build(key: str, workdir: Path, files: list[Path]) -> None:
    """Index the archive ``files`` with the reference system ``key`` (a child process)."""
    SYSTEMS[key](workdir).build(_records(files))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", default="10000",
                        help="archive sizes, comma-separated (default 10000)")
    parser.add_argument("--queries", type=int, default=300, help="searches in the mix")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0, help="of load on the web app")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--systems", default="morgue,whoosh,fts5,tantivy",
                        help="which to run, comma-separated, of morgue, "
                             f"{', '.join([*SYSTEMS, *SHARDED])}")
    parser.add_argument("--build", choices=list(SYSTEMS), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build:
        return build(args.build, args.workdir, args.files)
    args.systems = args.systems.split(",")
    results = {}
    for n in (int(size) for size in args.docs.split(",")):
        with tempfile.TemporaryDirectory(prefix="morgue-perf-") as workdir:
            results[n] = measure_size(n, args, Path(workdir))
    curve(results)
    failed = sum(value for systems in results.values() for figures in systems.values()
                 for row, value in figures.items() if row.endswith(" errors"))
    if failed:
        raise SystemExit(f"the search page failed {failed:,} times under load")


if __name__ == "__main__":
    main()
