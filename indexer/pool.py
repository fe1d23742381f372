"""The postings of a segment being written, kept as sorted arrays.

Whoosh's writer hands its pool each posting as a tuple (field, term, document, weight,
value). Whoosh's own pool pickles each one into a sorted run file whenever its memory is
full and merges the runs back one posting at a time, and the codec then takes them one
at a time: most of the time of writing a segment, all of it in Python per posting. Here
the postings are appended to a list as they come; every ``CHUNK`` of them is sorted by
field and term (documents come in order) and written to files as arrays. Writing the
segment reads the chunks back in order of their terms, a window at a time, and gives
the codec each term's postings at once.
"""

from __future__ import annotations

import heapq
import os
import pickle
from itertools import groupby, repeat
from operator import itemgetter

import numpy as np

CHUNK = 1 << 20  # postings sorted and written at a time
WINDOW = 1 << 16  # postings of a chunk read back at a time
KEYS = 1 << 16  # terms of a chunk pickled at a time
COLUMNS = (("docs", np.int32), ("weights", np.float32), ("sizes", np.uint32))


class ArrayPool:
    """Postings in chunk files named ``prefix``-n.*; :attr:`add` takes one posting."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.chunks: list[_Chunk] = []
        self._start()

    def _start(self):
        self._postings: list[tuple] = []
        self.add = self._postings.append

    def save_if_full(self) -> None:
        if len(self._postings) >= CHUNK:
            self.save()

    def save(self) -> None:
        """Sort the postings added since the last chunk and write them as one."""
        if self._postings:
            self.chunks.append(_Chunk(f"{self.prefix}-{len(self.chunks)}", self._postings))
            self._start()

    def terms(self):
        """(field, term, documents, weights, value sizes, values joined) of each term, in
        the order of fields and terms."""
        self.save()
        readers = [_Reader(chunk) for chunk in self.chunks]
        keys = heapq.merge(*(zip(reader.keys(), repeat(n)) for n, reader in enumerate(readers)))
        for (fieldname, term), found in groupby(keys, key=itemgetter(0)):
            parts = [readers[n].take() for _, n in found]
            if len(parts) == 1:
                yield fieldname, term, *parts[0]
            else:
                yield (fieldname, term, *(np.concatenate(arrays) for arrays in
                                          list(zip(*parts))[:3]),
                       b"".join(values for *_, values in parts))
        for reader in readers:
            reader.close()

    def cleanup(self) -> None:
        for chunk in self.chunks:
            chunk.remove()
        self.chunks = []


class _Chunk:
    """Postings sorted by field and term, as files: the terms (pickled a batch at a
    time), and the documents, weights, value sizes and values of the postings."""

    def __init__(self, prefix: str, postings: list[tuple]):
        self.prefix = prefix
        fields, terms, docs, weights, values = zip(*postings)
        # Each term is numbered by its first posting, then ranked in the sorted terms.
        first = {}
        firsts = np.fromiter(map(first.setdefault, zip(fields, terms), range(len(docs))),
                             np.int64, len(docs))
        keys = sorted(first)
        rank = np.empty(len(docs), np.int32)
        rank[np.fromiter(map(first.__getitem__, keys), np.int64, len(keys))] = \
            np.arange(len(keys), dtype=np.int32)
        ranks = rank[firsts]
        order = np.argsort(ranks, kind="stable")  # documents stay in order in each term
        self.counts = np.bincount(ranks, minlength=len(keys))
        columns = {"docs": docs, "weights": weights,
                   "sizes": np.fromiter(map(len, values), np.uint32, len(values))}
        for name, dtype in COLUMNS:
            np.asarray(columns[name], dtype)[order].tofile(self.path(name))
        with open(self.path("values"), "wb") as file:
            file.write(b"".join(map(values.__getitem__, order.tolist())))
        with open(self.path("keys"), "wb") as file:
            for start in range(0, len(keys), KEYS):
                pickle.dump(keys[start:start + KEYS], file, pickle.HIGHEST_PROTOCOL)

    def path(self, name: str) -> str:
        return f"{self.prefix}.{name}"

    def remove(self) -> None:
        for name in ("keys", "values", *dict(COLUMNS)):
            if os.path.exists(self.path(name)):
                os.remove(self.path(name))


class _Reader:
    """A chunk read back in order: its terms, and each term's postings in turn."""

    def __init__(self, chunk: _Chunk):
        self.chunk, self.counts, self.next = chunk, chunk.counts.tolist(), 0
        self.files = {name: open(chunk.path(name), "rb")
                      for name in ("keys", "values", *dict(COLUMNS))}
        self.columns = {name: np.zeros(0, dtype) for name, dtype in COLUMNS}
        self.values, self.ends, self.at = b"", [0], 0

    def keys(self):
        file = self.files["keys"]
        while file.tell() < os.fstat(file.fileno()).st_size:
            yield from pickle.load(file)

    def take(self) -> tuple:
        """The documents, weights, value sizes and values of the next term."""
        count = self.counts[self.next]
        self.next += 1
        if self.at + count > len(self.columns["docs"]):
            self._read(max(WINDOW, count))
        start, stop = self.at, self.at + count
        self.at = stop
        return (*(self.columns[name][start:stop] for name, _ in COLUMNS),
                self.values[self.ends[start]:self.ends[stop]])

    def _read(self, count: int) -> None:
        """Keep the postings not taken yet, and read ``count`` more."""
        for name, dtype in COLUMNS:
            self.columns[name] = np.concatenate([self.columns[name][self.at:], np.fromfile(
                self.files[name], dtype, count)])
        kept = self.values[self.ends[self.at]:]
        sizes = self.columns["sizes"]
        self.ends = [0, *np.cumsum(sizes, dtype=np.int64).tolist()]
        self.values = kept + self.files["values"].read(self.ends[-1] - len(kept))
        self.at = 0

    def close(self) -> None:
        for file in self.files.values():
            file.close()
        self.chunk.remove()

