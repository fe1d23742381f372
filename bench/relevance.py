"""Relevance benchmark: morgue against plain BM25 baselines on real labelled news.

    python -m bench.relevance [--items 400] [--seed 7]

Known-item search (the established method where no judged queries exist): for a seeded
sample of articles, a query is made the way a person remembering the story would, from 2
to 5 of its body's most informative words (drawn with probability by tf-idf among its top
words); a share of the queries carries a misspelling or another inflection of one word.
Where the target ranks gives MRR (reciprocal rank within the top 100), success@1 and
success@10; an exact copy of the target (same title and text) counts as the target.

Topic search (Reuters-21578 only): each topic name, as a reader would type it, is a
query; precision@10 is the share of the top ten stories labelled with that topic.

Systems, all over the same corpus and queries: morgue (its index and read API, as
shipped), Whoosh with its defaults (StandardAnalyzer, BM25F, AND of the words), SQLite
FTS5 with bm25() (unicode61 tokenizer, AND of the words), and tantivy with its defaults
(default tokenizer, OR of the words) when it is installed (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

from whoosh.analysis import STOP_WORDS

from indexer.duplicates import Clusters
from indexer.request import SearchRequest
from indexer.search import Archive
from indexer.writing import index_paths

from . import corpora, reference

# Reuters topic codes and what a reader would type for them.
TOPICS = {
    "earn": "earnings", "acq": "acquisition", "money-fx": "foreign exchange",
    "grain": "grain", "crude": "crude oil", "trade": "trade", "interest": "interest rates",
    "ship": "shipping", "wheat": "wheat", "corn": "corn", "sugar": "sugar",
    "coffee": "coffee", "gold": "gold", "money-supply": "money supply",
    "gnp": "gross national product", "cocoa": "cocoa", "oilseed": "oilseed",
    "livestock": "livestock", "copper": "copper", "soybean": "soybeans",
}
_WORD = re.compile(r"[a-z]{3,}")
DEPTH = 100  # ranks looked at for reciprocal rank


def same_story(records: list[dict]) -> dict[str, set[str]]:
    """For each article, the articles that are the same story: exact copies (the same
    normalised title and text) and near-duplicates (see indexer.duplicates). Any of them
    found counts as finding the article, for every system alike."""
    clusters = Clusters()
    groups: dict[str, set[str]] = {}
    for record in records:
        normal = " ".join(f"{record['title']} {record['body']}".split()).lower()
        exact = "text:" + hashlib.sha1(normal.encode()).hexdigest()
        near = "cluster:" + clusters.assign(record["id"], record["body"] or record["title"])
        group = groups.get(exact, set()) | groups.get(near, set()) | {record["id"]}
        for member in group:
            groups[member] = group
        groups[exact] = groups[near] = group
    return {r["id"]: groups[r["id"]] for r in records}


# -- queries -----------------------------------------------------------------------------

def _perturb(word: str, rng: random.Random) -> str:
    """A misspelling (one letter dropped, doubled, swapped or replaced) or another
    inflection of ``word``."""
    if rng.random() < 0.4:
        for ending, other in (("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("", "s")):
            if ending and word.endswith(ending) and len(word) - len(ending) >= 4:
                return word[:-len(ending)] + other
        return word + "s"
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["drop", "double", "swap", "replace"])
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + rng.choice("aeioustnrl") + word[i + 1:]


def known_items(records: list[dict], count: int, rng: random.Random,
                perturbed_share: float = 0.3) -> list[tuple[str, str]]:
    """(query, target id) pairs for ``count`` sampled articles of 50 words or more."""
    df = Counter()
    for record in records:
        df.update(set(_WORD.findall(record["body"].lower())))
    n = len(records)
    candidates = [r for r in records if len(r["body"].split()) >= 50]
    items = []
    for record in rng.sample(candidates, min(count, len(candidates))):
        tf = Counter(w for w in _WORD.findall(record["body"].lower()) if w not in STOP_WORDS)
        weights = {w: (1 + math.log(c)) * math.log(n / df[w]) for w, c in tf.items()}
        top = sorted(weights, key=weights.get, reverse=True)[:20]
        k = rng.randint(2, min(5, len(top)))
        words = []
        while len(words) < k:
            word = rng.choices(top, weights=[weights[w] for w in top])[0]
            if word not in words:
                words.append(word)
        if rng.random() < perturbed_share:
            i = rng.randrange(len(words))
            if len(words[i]) >= 5:
                words[i] = _perturb(words[i], rng)
        items.append((" ".join(words), record["id"]))
    return items


# -- systems -----------------------------------------------------------------------------

class Morgue:
    name = "morgue"

    def __init__(self, records, workdir: Path):
        source = corpora.write_jsonl(workdir / "morgue-source.jsonl", records)
        index_paths([source], workdir / "morgue-index")
        self.archive = Archive(workdir / "morgue-index")

    def search(self, query: str, depth: int) -> list[str]:
        results = self.archive.search(SearchRequest(q=query, size=depth))
        return [hit.id for hit in results.hits]


def systems(records, workdir: Path) -> list:
    started = time.perf_counter()
    found = [Morgue(records, workdir)]
    print(f"  indexed with morgue in {time.perf_counter() - started:.1f} s")
    for make in (reference.WhooshPlain, reference.SqliteFts5, reference.TantivyDefaults):
        started = time.perf_counter()
        try:
            system = make(workdir)
        except ImportError:
            print(f"  ({make.name}: not installed, left out)")
            continue
        system.build(records)
        system.open()
        found.append(system)
        print(f"  indexed with {system.name} in {time.perf_counter() - started:.1f} s")
    return found


# -- measures ----------------------------------------------------------------------------

def known_item_scores(system, items, same_text: dict[str, set[str]]) -> dict[str, float]:
    reciprocal, at1, at10 = 0.0, 0, 0
    for query, target in items:
        targets = same_text[target]
        ranked = system.search(query, DEPTH)
        rank = next((i for i, doc_id in enumerate(ranked, 1) if doc_id in targets), None)
        if rank:
            reciprocal += 1 / rank
            at1 += rank == 1
            at10 += rank <= 10
    n = len(items)
    return {"MRR": reciprocal / n, "success@1": at1 / n, "success@10": at10 / n}


def topic_precision(system, records) -> float:
    labels = {r["id"]: set(r.get("tags") or ()) for r in records}
    precisions = []
    for topic, query in TOPICS.items():
        top = system.search(query, 10)
        precisions.append(sum(topic in labels[doc_id] for doc_id in top) / 10)
    return sum(precisions) / len(precisions)


def run(name: str, records: list[dict], args) -> None:
    print(f"\n{name}: {len(records):,} articles, {args.items} known-item queries "
          f"(seed {args.seed})")
    rng = random.Random(args.seed)
    items = known_items(records, args.items, rng)
    same_text = same_story(records)
    with tempfile.TemporaryDirectory() as workdir:
        found = systems(records, Path(workdir))
        header = f"  {'system':<18}{'MRR':>8}{'succ@1':>9}{'succ@10':>9}"
        with_topics = any(r.get("tags") for r in records)
        print(header + (f"{'topic P@10':>12}" if with_topics else ""))
        for system in found:
            scores = known_item_scores(system, items, same_text)
            line = (f"  {system.name:<18}{scores['MRR']:>8.3f}{scores['success@1']:>9.3f}"
                    f"{scores['success@10']:>9.3f}")
            if with_topics:
                line += f"{topic_precision(system, records):>12.3f}"
            print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=400, help="known-item queries per corpus")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--corpus", choices=["bbc", "reuters", "both"], default="both")
    args = parser.parse_args()
    if args.corpus in ("bbc", "both"):
        run("BBC News", corpora.bbc(), args)
    if args.corpus in ("reuters", "both"):
        run("Reuters-21578", corpora.reuters(), args)


if __name__ == "__main__":
    main()
