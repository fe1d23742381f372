"""Whole result sets as CSV or JSON Lines, produced a line at a time (for streaming)."""

from __future__ import annotations

import csv
import io
import json
from typing import Iterable, Iterator

FIELDS = ("id", "date", "source", "section", "byline", "title", "url", "score", "cluster",
          "copies")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def _inert(value):
    """A text cell that a spreadsheet would run as a formula, quoted so it stays text."""
    if isinstance(value, str) and value[:1] in _FORMULA_START:
        return "'" + value
    return value


def csv_lines(rows: Iterable[dict]) -> Iterator[str]:
    """A header line, then one CSV line per row (cells that would be read as formulas
    by a spreadsheet are prefixed with an apostrophe)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _inert(value) for key, value in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def jsonl_lines(rows: Iterable[dict]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


def lines(rows: Iterable[dict], fmt: str) -> Iterator[str]:
    """``rows`` in format ``fmt`` (one of FORMATS)."""
    return csv_lines(rows) if fmt == "csv" else jsonl_lines(rows)
