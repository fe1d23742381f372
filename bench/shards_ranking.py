"""How alike the two backends rank: the top ten of each query on Whoosh and on Xapian.

    python -m bench.shards_ranking [--items 6000] [--grid]

Indexes the first ``items`` Reuters-21578 stories with morgue (Whoosh), writes the same
articles into one Xapian database with the sharded backend's layout, and for each query
of a list (words, fields, phrases, patterns, the "some of the words" fallback) compares
the ten best articles of Whoosh's BM25F with those of Xapian's BM25 as the sharded
backend weighs them (``indexer.shards.translate.weighting``): the share of Whoosh's ten
(or fewer) that Xapian's ten has, per query and on average, beside the same with
Whoosh's own BM25 parameters (b 0.75). The matches themselves are the same
(tests/test_shards_query.py); only the order differs. Then how good each ranking is, by
bench.relevance's known-item queries (MRR and success@10 within the top 100; a query
that matches nothing is searched again for some of its words). ``--grid`` also tries
other BM25 parameters on Xapian's side.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
from pathlib import Path

import xapian
from whoosh.scoring import BM25F

from indexer.deadline import Deadline
from indexer.query import bound_expansions, parse_query
from indexer.shards import layout, translate
from indexer.shards.words import Words
from indexer.store import open_live
from indexer.writing import index_paths, stored_article

from . import corpora
from .relevance import known_items, same_story

QUERIES = [
    "oil", "oil prices", '"oil prices"', "oil OR gold", "oil -prices", "said", "bank rates",
    "(crude OR oil) AND NOT opec", "japan's", '"the company said"', '"oil prices"~3',
    "title:oil", "japan security pact", "cocoa", "coffee brazil", "wheat exports",
    "interest rates", "dollar yen", "trade deficit", "opec output", "tag:acq", "gold~",
    "pri*", "u.s. trade", "bank of england", "stock split", "quarterly dividend",
    "net loss", "takeover bid", "federal reserve", "grain", "sugar", "crude oil prices",
    "merger", "tax", "shares", "title:bank", "money supply", "strike", "earthquake",
    "pri* oil", "title:pe*", "bank*", "export* wheat", "gold~ prices", "coc?a",
]
SOME_WORDS = ["oil gold cocoa", "japan trade deficit yen", "bank merger takeover",
              "wheat grain corn exports", "opec saudi output quota"]
DEPTH = 100


def _xapian(searcher, path: Path) -> xapian.Database:
    db = xapian.WritableDatabase(str(path), xapian.DB_CREATE)
    for stored in searcher.all_stored_fields():
        db.add_document(layout.document(stored_article(stored), stored.get("cluster", "")))
    db.commit()
    return db


class Rankings:
    """The best articles for a query on each backend."""

    def __init__(self, searcher, db: xapian.Database):
        self.searcher, self.db = searcher, db

    def whoosh(self, text: str, match_any: bool = False, depth: int = 10) -> list[str]:
        query, _ = bound_expansions(parse_query(text, match_any).query,
                                    self.searcher.reader(), Deadline(60))
        return [hit["id"] for hit in self.searcher.search(query, limit=depth)]

    def xapian(self, text: str, weighting, match_any: bool = False,
               depth: int = 10) -> list[str]:
        query, _ = bound_expansions(parse_query(text, match_any).query, Words(self.db),
                                    Deadline(60))
        enquire = xapian.Enquire(self.db)
        enquire.set_weighting_scheme(weighting)
        enquire.set_query(translate.to_xapian(query, self.db))
        return [layout.stored(m.document)["id"] for m in enquire.get_mset(0, depth)]


def overlaps(rankings: Rankings, queries, weighting) -> dict:
    """The share of Whoosh's top ten (or fewer) that Xapian's top ten has, per query
    that matches anything."""
    shares = {}
    for text, match_any in queries:
        best = rankings.whoosh(text, match_any)
        if best:
            found = rankings.xapian(text, weighting, match_any)
            shares[text, match_any] = len(set(found) & set(best)) / len(best)
    return shares


def known_item_scores(rank, items, same) -> tuple[float, float]:
    """MRR and success@10 of ``rank`` (a query's text -> ids, best first)."""
    reciprocal = at10 = 0
    for text, target in items:
        ranked = rank(text)
        found = next((n for n, doc_id in enumerate(ranked, 1) if doc_id in same[target]), 0)
        reciprocal += 1 / found if found else 0
        at10 += 0 < found <= 10
    return reciprocal / len(items), at10 / len(items)


def _fallback(rank):
    """``rank`` of all the words, else of some of them."""
    return lambda text: rank(text, False) or rank(text, True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=6000)
    parser.add_argument("--known", type=int, default=400, help="known-item queries")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--grid", action="store_true")
    options = parser.parse_args()
    queries = [(q, False) for q in QUERIES] + [(q, True) for q in SOME_WORDS]
    records = corpora.reuters(options.items)
    weightings = {f"Xapian BM25 k1 {translate.K1} b {translate.B} (morgue's)":
                  translate.weighting(),
                  "Xapian BM25 k1 1.2 b 0.75 (Whoosh's)": xapian.BM25Weight(1.2, 0, 1, .75, .5)}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpora.write_jsonl(root / "reuters.jsonl", records)
        index_paths([root / "reuters.jsonl"], root / "index")
        with open_live(root / "index").searcher(weighting=BM25F()) as searcher:
            rankings = Rankings(searcher, _xapian(searcher, root / "xapian"))
            shares = overlaps(rankings, queries, translate.weighting())
            for (text, match_any), share in shares.items():
                print(f"{share:5.0%}  {text}{'  (some of the words)' if match_any else ''}")
            print(f"\ntop-10 overlap with Whoosh, {len(shares)} queries, "
                  f"{len(records):,} stories:")
            for name, weighting in weightings.items():
                shares = overlaps(rankings, queries, weighting).values()
                print(f"  {name:<40} mean {statistics.mean(shares):.1%}, "
                      f"median {statistics.median(shares):.0%}")
            items = known_items(records, options.known, random.Random(options.seed))
            same = same_story(records)
            print(f"\nknown items ({len(items)} queries, seed {options.seed}): MRR, success@10")
            print("  {:<40} {:.3f}  {:.3f}".format("Whoosh BM25F", *known_item_scores(
                _fallback(lambda t, a: rankings.whoosh(t, a, DEPTH)), items, same)))
            for name, weighting in weightings.items():
                print("  {:<40} {:.3f}  {:.3f}".format(name, *known_item_scores(_fallback(
                    lambda t, a: rankings.xapian(t, weighting, a, DEPTH)), items, same)))
            if options.grid:
                print("\ntop-10 overlap with Whoosh by Xapian's BM25 parameters:")
                for k1 in (0.8, 1.2, 1.6):
                    for b in (0.75, 0.5, 0.3, 0.2, 0.1):
                        shares = overlaps(rankings, queries,
                                          xapian.BM25Weight(k1, 0, 1, b, 0.5)).values()
                        print(f"  k1 {k1:3}  b {b:4}: mean {statistics.mean(shares):.1%}")


if __name__ == "__main__":
    main()
