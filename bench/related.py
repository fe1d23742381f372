"""Related-stories benchmark: morgue against Whoosh's ``more_like``, near-duplicate
detection, and the time a related list takes.

    python -m bench.related [--items 200] [--seed 7] [--docs 100000] [--shards 2]
                            [--part quality|duplicates|speed|all]

1. Quality on BBC News (2,225 stories in five classes): for a seeded sample of stories,
   the ten related stories each method lists (morgue on its Whoosh index, morgue on
   ``--shards`` Xapian shards each served by its own ``xapian-tcpsrv`` on loopback, and
   Whoosh's ``more_like``); precision@5 and @10 are the share of the same class (a
   missing place counts as wrong), nDCG@10 takes a story of the same class as relevant.
2. Near-duplicates: seeded BBC stories each republished one to three times with the
   edits wire copy gets (a new headline, a byline or dateline put in front, the last
   one or two paragraphs cut), mixed with the whole corpus; precision and recall of the
   pairs with a copy in them put in one cluster.
3. Speed: the time of the first related list (which reads the archive's term vectors),
   then the median and 95th percentile time of a related list for a seeded sample of
   articles, in an archive of ``--docs`` articles (100,000 by default: the real Reuters
   and BBC stories and articles recombined from them, as bench.synthetic makes them).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from itertools import combinations
from pathlib import Path

from whoosh import fields as wf
from whoosh import index as whoosh_index

from indexer.duplicates import Clusters
from indexer.search import Archive
from indexer.settings import Settings
from indexer.writing import index_paths

from . import corpora, synthetic
from .load import ShardServers

BYLINES = ["By Staff Reporter", "By Jane Doe, Wire Correspondent", "From our newsdesk"]
DATELINES = ["LONDON (Wire) -", "NEW YORK, March 3 -", "PARIS -", "TOKYO (Wire) -"]


def _morgue(source: Path, workdir: Path) -> Archive:
    index_paths([source], workdir / "index")
    return Archive(workdir / "index")


def _sharded(source: Path, workdir: Path, shards: int, stack: ExitStack) -> Archive:
    """morgue on its sharded backend: ``morgue index`` writes ``shards`` local shards,
    each served by its own ``xapian-tcpsrv`` until ``stack`` closes, and searched as
    remote shards."""
    index_dir = workdir / "shards"
    subprocess.run([sys.executable, "-m", "indexer.cli", "index", str(source), "--index",
                    str(index_dir)], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, **Settings("xapian", shard_count=shards).environment()})
    servers = stack.enter_context(ShardServers(index_dir, shards))
    return Archive(index_dir, settings=servers.settings)


def _related(archive: Archive):
    return lambda doc_id: [s.id for s in archive.related(doc_id, include_later=True).stories]


def _more_like(records, workdir: Path):
    """Whoosh's more_like over a plain index of the same stories (body stored)."""
    schema = wf.Schema(id=wf.ID(stored=True, unique=True), title=wf.TEXT(stored=True),
                       body=wf.TEXT(stored=True))
    (workdir / "whoosh").mkdir()
    ix = whoosh_index.create_in(str(workdir / "whoosh"), schema)
    with ix.writer() as writer:
        for r in records:
            writer.add_document(id=r["id"], title=r["title"], body=r["body"])
    searcher = ix.searcher()

    def related(doc_id: str) -> list[str]:
        docnum = searcher.document_number(id=doc_id)
        return [hit["id"] for hit in searcher.more_like(docnum, "body", top=10)]

    return related


def _scores(lists: dict[str, list[str]], label: dict[str, str]) -> dict[str, float]:
    p5 = p10 = ndcg = 0.0
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, 11))
    for doc_id, found in lists.items():
        relevant = [label[other] == label[doc_id] for other in found[:10]]
        p5 += sum(relevant[:5]) / 5
        p10 += sum(relevant) / 10
        ndcg += sum(1 / math.log2(rank + 1) for rank, hit in enumerate(relevant, 1)
                    if hit) / ideal
    n = len(lists)
    return {"P@5": p5 / n, "P@10": p10 / n, "nDCG@10": ndcg / n}


def quality(args) -> None:
    records = corpora.bbc()
    label = {r["id"]: r["section"] for r in records}
    sample = random.Random(args.seed).sample([r["id"] for r in records], args.items)
    print(f"Related stories, BBC News: {len(records):,} stories, {len(sample)} sampled "
          f"(seed {args.seed})")
    with tempfile.TemporaryDirectory() as workdir, ExitStack() as stack:
        source = corpora.write_jsonl(Path(workdir) / "source.jsonl", records)
        methods = {"morgue": _related(_morgue(source, Path(workdir)))}
        if args.shards:
            methods[f"morgue, {args.shards} Xapian shards"] = _related(
                _sharded(source, Path(workdir), args.shards, stack))
        methods["whoosh more_like"] = _more_like(records, Path(workdir))
        print(f"  {'method':<28}{'P@5':>8}{'P@10':>8}{'nDCG@10':>9}")
        for name, method in methods.items():
            scores = _scores({doc_id: method(doc_id) for doc_id in sample}, label)
            print(f"  {name:<28}{scores['P@5']:>8.3f}{scores['P@10']:>8.3f}"
                  f"{scores['nDCG@10']:>9.3f}")


def _wire_copy(record: dict, n: int, rng: random.Random) -> dict:
    paragraphs = record["body"].split("\n\n")
    cut = rng.choice([1, 2]) if len(paragraphs) > 4 else 0
    kept = paragraphs[:len(paragraphs) - cut]
    front = rng.choice([rng.choice(BYLINES) + "\n\n", rng.choice(DATELINES) + " "])
    return dict(id=f"{record['id']}-copy{n}", title=f"{rng.choice(['UPDATE', 'WIRE'])}: "
                f"{record['title']}", body=front + "\n\n".join(kept))


def near_duplicates(args) -> None:
    """Pairs are judged where one side is a planted copy; the corpus's own stories are
    the same story when their bodies are identical (the BBC set repeats 137 of them), and
    pairs of two corpus stories are left out, their truth being unknown (the set also
    holds updated versions of stories)."""
    rng = random.Random(args.seed)
    records = corpora.bbc()
    originals = rng.sample(records, 300)
    copies = [(_wire_copy(r, n, rng), r["id"]) for r in originals
              for n in range(rng.randint(1, 3))]
    same_body: dict[str, str] = {}
    story_of = {r["id"]: same_body.setdefault(" ".join(r["body"].split()).lower(), r["id"])
                for r in records}
    story_of.update({c["id"]: story_of[original] for c, original in copies})
    items = [(r["id"], r["body"]) for r in records] + [(c["id"], c["body"]) for c, _ in copies]
    rng.shuffle(items)
    clusters = Clusters()
    started = time.perf_counter()
    cluster_of = {doc_id: clusters.assign(doc_id, body) for doc_id, body in items}
    elapsed = time.perf_counter() - started
    planted = {c["id"] for c, _ in copies}
    judged = [pair for pair in combinations(sorted(cluster_of), 2) if planted & set(pair)]
    same = {pair for pair in judged if story_of[pair[0]] == story_of[pair[1]]}
    found = {pair for pair in judged if cluster_of[pair[0]] == cluster_of[pair[1]]}
    print(f"\nNear-duplicates: {len(records):,} BBC stories and {len(copies)} wire copies of "
          f"{len(originals)} of them (seed {args.seed}), clustered in {elapsed:.1f} s")
    print(f"  pairs with a copy: {len(same)} true, {len(found)} found; "
          f"precision {len(same & found) / max(len(found), 1):.3f}, "
          f"recall {len(same & found) / max(len(same), 1):.3f}")
    wrong = sorted(found - same)[:5]
    if wrong:
        print("  found but not the same story: " + "; ".join(" = ".join(p) for p in wrong))


def speed(args) -> None:
    """Related lists from an archive of ``args.docs`` articles (bench.synthetic: the real
    stories, then articles recombined from them)."""
    with tempfile.TemporaryDirectory() as workdir:
        files = synthetic.write_archive(Path(workdir) / "source", args.docs, args.seed)
        started = time.perf_counter()
        index_paths(files, Path(workdir) / "index")
        archive = Archive(Path(workdir) / "index")
        print(f"\nSpeed: {args.docs:,} articles (bench.synthetic, seed {args.seed}) indexed "
              f"in {time.perf_counter() - started:.0f} s")
        searcher = archive.view().searcher
        sample = [searcher.stored_fields(n)["id"] for n in random.Random(args.seed).sample(
            range(searcher.doc_count_all()), args.items)]
        started = time.perf_counter()
        archive.related(sample[0])
        print(f"  first related list, reading the archive's term vectors: "
              f"{time.perf_counter() - started:.1f} s")
        times = []
        for doc_id in sample:
            started = time.perf_counter()
            archive.related(doc_id)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        print(f"  related list: median {statistics.median(times):.0f} ms, "
              f"95th percentile {times[int(len(times) * 0.95) - 1]:.0f} ms "
              f"({len(times)} articles)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=200, help="sampled stories")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--docs", type=int, default=100_000,
                        help="articles in the archive the speed is measured on")
    parser.add_argument("--shards", type=int, default=2,
                        help="Xapian shards the quality is measured on too (0: none)")
    parser.add_argument("--part", choices=["quality", "duplicates", "speed", "all"],
                        default="all")
    args = parser.parse_args()
    for part, run in (("quality", quality), ("duplicates", near_duplicates),
                      ("speed", speed)):
        if args.part in (part, "all"):
            run(args)


if __name__ == "__main__":
    main()
