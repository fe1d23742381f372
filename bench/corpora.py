"""The real news corpora beside the repository (../shared/corpora), as morgue records."""

from __future__ import annotations

import json
import lzma
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
REUTERS = SHARED / "reuters-21578" / "reuters-21578.jsonl.xz"
BBC = SHARED / "bbc-news" / "bbc-news.jsonl"


def reuters(limit: int | None = None) -> list[dict]:
    """The first ``limit`` (or all) Reuters-21578 stories that have a body, with their
    topics as tags (paragraphs, which the original marks by indentation, separated by
    blank lines)."""
    records = []
    with lzma.open(REUTERS, "rt", encoding="utf-8") as lines:
        for line in lines:
            story = json.loads(line)
            if story["body"].strip():
                records.append(dict(
                    id=story["id"], title=story["title"],
                    body=story["body"].replace("\n    ", "\n\n"), date=story["date"],
                    byline=story["author"], source="Reuters", tags=story["topics"]))
            if len(records) == limit:
                break
    return records


def bbc() -> list[dict]:
    """The BBC News stories, their class as the section."""
    with open(BBC, encoding="utf-8") as lines:
        return [dict(id=s["id"], title=s["title"], body=s["body"], source="BBC News",
                     section=s["category"]) for s in map(json.loads, lines)]


def write_jsonl(path: Path, records) -> Path:
    with open(path, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")
    return path
