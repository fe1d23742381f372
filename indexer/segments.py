"""What is read once from an index's segments, kept while it is in use.

A Whoosh segment never changes once written (deleting an article only marks it), so
what is read from one (a column as an array, its vocabulary) holds for as long as the
segment exists, whichever searcher, thread or commit reads it next.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.util.numeric import byte_to_length

from . import duplicates

BANDS = ".bands"  # of the file beside a segment's that keeps its band run (see band_run)
SEGMENTS = 64  # segments whose readings are kept, the least recently used dropped first

_lock = threading.Lock()
# The field length each byte of Whoosh's length columns stands for.
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], np.int64)


def leaves(reader) -> list:
    """The segment readers of ``reader`` and their first document numbers (none for an
    index of no articles)."""
    return [(leaf, offset) for leaf, offset in reader.leaf_readers() if leaf.doc_count_all()]


def key(leaf) -> tuple:
    """What names a segment: its index's directory and its id."""
    return leaf.storage().folder, leaf.segment().segment_id()


def version(reader) -> tuple:
    """What names the state of an index: its segments, and how many articles of each
    are deleted."""
    return tuple((*key(leaf), len(leaf.deleted_docs_set)) for leaf, _ in leaves(reader))


def field_lengths(perdoc, fieldname: str, count: int) -> np.ndarray:
    """The length of field ``fieldname`` in each of the ``count`` documents of a
    segment's per-document reader (0 where none is stored), from the hidden column of
    one byte per document where Whoosh keeps them, read whole."""
    codes = np.zeros(count, np.uint8)
    name = f"_{fieldname}_len"
    if perdoc.has_column(name):
        column = perdoc.column_reader(name, LENGTHS_COLUMN)
        stored = column._dbfile.get(column._basepos, column._count)
        codes[:len(stored)] = np.frombuffer(stored, np.uint8)
    return _LENGTHS[codes]


def column_bytes(leaf, name: str, text: bool = False) -> list[bytes] | list[str]:
    """The value of the column ``name`` (of Whoosh's VarBytesColumn, as ID and COLUMN
    fields keep) of each document of segment reader ``leaf`` (empty where none is
    stored), read whole rather than a value at a time; decoded from UTF-8 if ``text``."""
    count = leaf.doc_count_all()
    if not leaf.has_column(name):
        return ["" if text else b""] * count
    column = leaf.column_reader(name, translate=False)
    lengths = np.asarray(column._lengths, np.int64)
    ends = np.cumsum(lengths)
    data = column._dbfile.get(column._basepos, int(ends[-1])) if count else b""
    spans = zip((ends - lengths).tolist(), ends.tolist())
    if text and not data.isascii():
        return [data[start:end].decode() for start, end in spans]
    if text:  # decoded at once: an ASCII text's characters are its bytes
        data = data.decode("ascii")
    return [data[start:end] for start, end in spans]


def band_run(leaf) -> np.ndarray:
    """The band keys of the near-duplicate signatures of the documents of segment reader
    ``leaf``, sorted and numbered by document (see :func:`indexer.duplicates.band_run`):
    kept beside the segment by the writer that wrote it (mapped, not read), else (for a
    segment Whoosh merged) worked out from its column."""
    path = os.path.join(leaf.storage().folder, leaf.segment().make_filename(BANDS))
    if os.path.exists(path):  # an empty file cannot be mapped
        return np.memmap(path, np.uint64, "r") if os.path.getsize(path) else np.empty(0, np.uint64)
    return duplicates.band_run(column_bytes(leaf, "minhash"))


class Kept:
    """Values made by a function of their key, the last used kept while their weights
    (1 each, or ``weight(value)``) add up to ``size`` or less."""

    def __init__(self, size: int = SEGMENTS, weight=lambda value: 1):
        self.size, self._weight = size, weight
        self._values, self._total = OrderedDict(), 0

    def get(self, key, make):
        """The value kept for ``key``, else ``make()``, kept."""
        value = self.find(key)
        if value is None:
            value = make()  # outside the lock: two threads may both make it, once
            self.keep(key, value)
        return value

    def find(self, key):
        """The value kept for ``key``, or None."""
        with _lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        return None

    def keep(self, key, value) -> None:
        with _lock:
            if key not in self._values:
                self._values[key] = value
                self._total += self._weight(value)
            while self._total > self.size:
                self._total -= self._weight(self._values.popitem(last=False)[1])
