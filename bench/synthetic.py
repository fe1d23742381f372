"""Archives of any size made of real news text, for the performance benchmark.

An archive of ``n`` articles holds the real stories of Reuters-21578 (those with a body)
and BBC News first, in a seeded random order, and, beyond them, new articles recombined
from their parts so that term statistics stay those of real news:

- each new article copies the shape of a real one (its template, drawn at random, so
  the mix of sources, sections, bylines, tags and lengths is the real mix): as many
  paragraphs as the template, each either a real paragraph of the same source (half of
  them) or as many real sentences of that source as a real paragraph holds, drawn
  anywhere in the source;
- its headline is a real headline of the same source;
- its date is the template's, moved back by a whole number of years drawn evenly from
  as many years as the archive is larger than the real corpora (so that a 200,000
  article archive spans ten years of 1980s news); undated templates (BBC) stay undated.

Everything is drawn from ``random.Random(seed)``: the same size and seed give the same
archive.
"""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

from . import corpora

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
PER_FILE = 2000  # articles per JSON Lines file of an archive


def real_records() -> list[dict]:
    """Every real story with a body: Reuters-21578, then BBC News."""
    return corpora.reuters() + corpora.bbc()


class _Pool:
    """The parts of the real stories of one source."""

    def __init__(self, records: list[dict]):
        self.records = records
        self.headlines = [r["title"] for r in records if r["title"]]
        self.paragraphs = [p for r in records for p in r["body"].split("\n\n") if p.strip()]
        self.sentences = [s for p in self.paragraphs for s in _SENTENCE_END.split(p)]
        self.sentence_counts = [len(_SENTENCE_END.split(p)) for p in self.paragraphs]


def articles(n: int, seed: int = 7):
    """The ``n`` articles of the archive (dicts in morgue's JSON Lines form)."""
    rng = random.Random(seed)
    real = real_records()
    rng.shuffle(real)
    yield from real[:n]
    if n <= len(real):
        return
    pools = {}
    for record in real:
        pools.setdefault(record["source"], []).append(record)
    pools = {source: _Pool(records) for source, records in pools.items()}
    years = math.ceil(n / len(real))
    for number in range(n - len(real)):
        template = rng.choice(real)
        pool = pools[template["source"]]
        paragraphs = []
        for _ in template["body"].split("\n\n"):
            if rng.random() < 0.5:
                paragraphs.append(rng.choice(pool.paragraphs))
            else:
                count = rng.choice(pool.sentence_counts)
                paragraphs.append(" ".join(rng.choices(pool.sentences, k=count)))
        record = dict(template, id=f"synthetic-{number}", title=rng.choice(pool.headlines),
                      body="\n\n".join(paragraphs))
        if template.get("date"):
            year = int(template["date"][:4]) - rng.randrange(years)
            record["date"] = f"{year:04d}{template['date'][4:]}"
        yield record


def edit(record: dict, rng: random.Random) -> dict:
    """The article with a correction appended to one of its paragraphs (for
    incremental reindexing)."""
    paragraphs = record["body"].split("\n\n")
    i = rng.randrange(len(paragraphs))
    paragraphs[i] += " This paragraph was corrected."
    return dict(record, body="\n\n".join(paragraphs))


def write_archive(directory: Path, n: int, seed: int = 7) -> list[Path]:
    """Write the archive of ``n`` articles as JSON Lines files of PER_FILE articles."""
    directory.mkdir(parents=True, exist_ok=True)
    files, batch = [], []
    for record in articles(n, seed):
        batch.append(record)
        if len(batch) == PER_FILE:
            files.append(corpora.write_jsonl(directory / f"part-{len(files):05d}.jsonl", batch))
            batch = []
    if batch:
        files.append(corpora.write_jsonl(directory / f"part-{len(files):05d}.jsonl", batch))
    return files
