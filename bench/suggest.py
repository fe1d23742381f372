"""Suggestions as you type: how long the search box waits for its suggestions.

Indexes Reuters-21578 (or reads an index given with --index), then types the first words
of a seeded sample of headlines one character at a time, as a person would, and times
each call of the suggestions API (completions and titles) and of the web endpoint.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from indexer.search import Archive
from indexer.suggest import suggest
from indexer.writing import index_paths
from webapp import create_app

from . import corpora


def _typed(records, items: int, seed: int) -> list[str]:
    """Every prefix of the first two or three words of ``items`` headlines."""
    rng = random.Random(seed)
    titles = [r["title"] for r in rng.sample(records, min(items, len(records))) if r["title"]]
    prefixes = []
    for title in titles:
        words = " ".join(title.lower().split()[:rng.choice((2, 3))])
        prefixes += [words[:n] for n in range(1, len(words) + 1)]
    return prefixes


def _figures(label: str, times: list[float], extra: str = "") -> None:
    times = sorted(times)
    p95 = times[int(len(times) * .95) - 1]
    print(f"{label:<22} {len(times):>6} calls  median {statistics.median(times):6.2f} ms  "
          f"p95 {p95:6.2f} ms  max {times[-1]:7.2f} ms{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, help="an index of Reuters-21578 to reuse")
    parser.add_argument("--stories", type=int, help="index only the first N stories")
    parser.add_argument("--items", type=int, default=100, help="headlines typed")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    records = corpora.reuters(args.stories)
    with tempfile.TemporaryDirectory() as workdir:
        index_dir = args.index or Path(workdir) / "index"
        if not (index_dir / "current").exists():
            started = time.perf_counter()
            index_paths([corpora.write_jsonl(Path(workdir) / "reuters.jsonl", records)],
                        index_dir)
            print(f"indexed {len(records):,} stories in {time.perf_counter() - started:.0f} s")
        typed = _typed(records, args.items, args.seed)
        searcher = Archive(index_dir).view().searcher
        times, counts = [], []
        for text in typed:
            started = time.perf_counter()
            counts.append(len(suggest(searcher, text)))
            times.append((time.perf_counter() - started) * 1000)
        _figures("indexer.suggest", times,
                 f"  {statistics.mean(counts):.1f} suggestions on average")
        client = create_app(index_dir).test_client()
        times = []
        for text in typed:
            started = time.perf_counter()
            client.get("/api/suggest", query_string={"q": text})
            times.append((time.perf_counter() - started) * 1000)
        _figures("GET /api/suggest", times)


if __name__ == "__main__":
    main()
