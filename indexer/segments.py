"""What is read once from an index's segments, kept while it is in use.

A Whoosh segment never changes once written (deleting an article only marks it), so
what is read from one (a column as an array, its vocabulary) holds for as long as the
segment exists, whichever searcher, thread or commit reads it next.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

SEGMENTS = 64  # segments whose readings are kept, the least recently used dropped first

_lock = threading.Lock()


def leaves(reader) -> list:
    """The segment readers of ``reader`` and their first document numbers (none for an
    index of no articles)."""
    return [(leaf, offset) for leaf, offset in reader.leaf_readers() if leaf.doc_count_all()]


def key(leaf) -> tuple:
    """What names a segment: its index's directory and its id."""
    return leaf.storage().folder, leaf.segment().segment_id()


class Kept:
    """Values made by a function of their key, the last ``size`` used kept."""

    def __init__(self, size: int = SEGMENTS):
        self.size, self._values = size, OrderedDict()

    def get(self, key, make):
        with _lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()  # outside the lock: two threads may both make it, once
        with _lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value
