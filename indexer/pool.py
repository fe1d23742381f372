"""The postings of a segment being written, kept as sorted arrays.

Whoosh's writer hands its pool each posting as a tuple (field, term, document, weight,
value). Whoosh's own pool pickles each one into a sorted run file whenever its memory is
full and merges the runs back one posting at a time, and the codec then takes them one
at a time: most of the time of writing a segment, all of it in Python per posting. Here
a text field's tokens come as arrays (term numbers and positions, see
:class:`indexer.schema.Tokens`) and other postings as tuples; every ``CHUNK`` of them
is turned into postings sorted by field and term (documents come in order), values
encoded all at once, and written to files as arrays. Writing the segment reads the
chunks back in order of their terms, a window at a time, and gives the codec each term's
postings at once.
"""

from __future__ import annotations

import heapq
import os
import pickle
from itertools import groupby, repeat
from operator import itemgetter

import numpy as np
from whoosh.formats import Positions

CHUNK = 1 << 20  # tokens and postings sorted and written at a time
WINDOW = 1 << 14  # postings of a chunk read back at a time
KEYS = 1 << 12  # terms of a chunk pickled at a time
COLUMNS = (("docs", np.int32), ("weights", np.float32), ("sizes", np.uint32))


class ArrayPool:
    """Postings in chunk files named ``prefix``-n.*: :attr:`add` takes one posting,
    :meth:`add_tokens` a text field's tokens in one document."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.chunks: list[_Chunk] = []
        self._start()

    def _start(self):
        self._postings: list[tuple] = []
        self.add = self._postings.append
        self._fields: dict[str, _FieldTokens] = {}
        self._tokens = 0

    def add_tokens(self, fieldname: str, docnum: int, tokens, boost: float) -> None:
        """Add the Tokens (see :class:`indexer.schema.Tokens`) of a field of weight
        ``boost`` in document ``docnum``."""
        field = self._fields.get(fieldname)
        if field is None:
            field = self._fields[fieldname] = _FieldTokens(tokens.terms, boost)
        field.add(docnum, tokens)
        self._tokens += len(tokens)

    def save_if_full(self) -> None:
        if len(self._postings) + self._tokens >= CHUNK:
            self.save()

    def save(self) -> None:
        """Sort the postings added since the last chunk and write them as one."""
        if self._postings or self._tokens:
            pieces = [piece for piece in _pieces(self._postings) + [
                field.piece(name) for name, field in self._fields.items()] if piece[0]]
            pieces.sort(key=lambda piece: piece[0][0][0])  # by field: each holds one
            self.chunks.append(_Chunk(f"{self.prefix}-{len(self.chunks)}", pieces))
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


# A piece of a chunk, the postings of one field sorted by term: the (field, term) keys,
# each key's number of postings, and the documents, weights, value sizes and values
# joined of the postings.
Piece = tuple[list, np.ndarray, np.ndarray, np.ndarray, np.ndarray, bytes]


def _pieces(postings: list[tuple]) -> list[Piece]:
    """Postings given one at a time, (field, term, document, weight, value) in order of
    documents, as a piece for each field."""
    if not postings:
        return []
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
    counts = np.bincount(ranks, minlength=len(keys))
    docs = np.asarray(docs, np.int32)[order]
    weights = np.asarray(weights, np.float32)[order]
    values = [values[n] for n in order.tolist()]
    sizes = np.fromiter(map(len, values), np.uint32, len(values))
    pieces, key_start, start = [], 0, 0
    for _, field_keys in groupby(keys, key=itemgetter(0)):
        key_stop = key_start + len(list(field_keys))
        stop = start + int(counts[key_start:key_stop].sum())
        pieces.append((keys[key_start:key_stop], counts[key_start:key_stop], docs[start:stop],
                       weights[start:stop], sizes[start:stop], b"".join(values[start:stop])))
        key_start, start = key_stop, stop
    return pieces


class _FieldTokens:
    """The tokens of a text field given to the pool since its last chunk, and the
    encoded term of each term number."""

    def __init__(self, terms: list[bytes], boost: float):
        self.terms, self.boost = terms, boost
        self.numbers, self.positions, self.docs, self.counts = [], [], [], []

    def add(self, docnum: int, tokens) -> None:
        self.numbers.append(tokens.numbers)
        self.positions.append(tokens.positions)
        self.docs.append(docnum)
        self.counts.append(len(tokens))

    def piece(self, fieldname: str) -> Piece:
        """The postings of these tokens: one per term in each document, weighing its
        frequency, its value its positions as Whoosh's Positions format encodes them."""
        numbers = np.concatenate(self.numbers)
        present = np.unique(numbers).tolist()
        found = [self.terms[n] for n in present]
        order = sorted(range(len(found)), key=found.__getitem__)
        rank = np.empty(present[-1] + 1 if present else 0, np.int32)
        rank[np.array(present, np.int64)[order]] = np.arange(len(order), dtype=np.int32)
        ranks = rank[numbers]
        tokens = np.argsort(ranks, kind="stable")  # documents and positions stay in order
        ranks = ranks[tokens]
        docs = np.repeat(np.array(self.docs, np.int32), self.counts)[tokens]
        positions = np.concatenate(self.positions)[tokens]
        new = np.ones(len(tokens), bool)
        new[1:] = (ranks[1:] != ranks[:-1]) | (docs[1:] != docs[:-1])
        starts = np.flatnonzero(new)
        frequencies = np.diff(np.append(starts, len(tokens)))
        sizes, values = positions_values(positions, starts, frequencies)
        return ([(fieldname, found[n]) for n in order],
                np.bincount(ranks[starts], minlength=len(order)), docs[starts],
                (frequencies * self.boost).astype(np.float32), sizes, values)


_LIST = b"\x80\x02]q\x00"  # a pickle (protocol 2) of a list, kept in the memo
_MARK, _APPEND, _APPENDS, _STOP = b"(", b"a", b"e", b"."
_BATCH = 1000  # items a pickle appends to a list at a time
_INT_CODES = np.frombuffer(b"KMJ", np.uint8)  # a 1-, 2- and 4-byte int


def positions_values(positions: np.ndarray, starts: np.ndarray, counts: np.ndarray
                     ) -> tuple[np.ndarray, bytes]:
    """The size of each value, and the values joined, of runs of ``positions`` (each
    from one of ``starts``, of ``counts`` positions) as Whoosh's Positions format
    encodes them: the number of positions (4 bytes, big-endian), then a pickle of the
    list of steps from each position to the next (from 0 to the first)."""
    if not len(starts):
        return np.zeros(0, np.uint32), b""
    steps = positions.astype(np.int64)
    steps[1:] -= positions[:-1]
    steps[starts] = positions[starts]
    kind = (steps >= 256).astype(np.int64) + (steps >= 65536)  # K, M or J
    item = np.array([2, 3, 5])[kind]
    run = np.repeat(np.arange(len(starts)), counts)
    many = (counts > 1).astype(np.int64)
    sizes = 4 + len(_LIST) + many + np.add.reduceat(item, starts) + 2
    long = np.flatnonzero(counts > _BATCH)  # pickled in batches: encoded one at a time
    encoded = [Positions().encode(positions[starts[n]:starts[n] + counts[n]].tolist())
               for n in long.tolist()]
    sizes[long] = [len(value) for value in encoded]
    ends = np.cumsum(sizes)
    at = ends - sizes
    data = np.zeros(int(ends[-1]), np.uint8)
    for n in range(4):
        data[at + n] = (counts >> (8 * (3 - n))) & 255
    for n, byte in enumerate(_LIST):
        data[at + 4 + n] = byte
    data[at[many > 0] + 4 + len(_LIST)] = _MARK[0]
    before = np.cumsum(item) - item
    places = at[run] + 4 + len(_LIST) + many[run] + before - before[starts][run]
    short = counts[run] <= _BATCH
    places, steps, kind = places[short], steps[short], kind[short]
    data[places] = _INT_CODES[kind]
    for n in range(4):  # the int's bytes, little-endian
        wide = kind >= (0, 1, 2, 2)[n]
        data[places[wide] + 1 + n] = (steps[wide] >> (8 * n)) & 255
    data[ends - 2] = np.where(many > 0, _APPENDS[0], _APPEND[0])
    data[ends - 1] = _STOP[0]
    for n, value in zip(long.tolist(), encoded):
        data[at[n]:ends[n]] = np.frombuffer(value, np.uint8)
    return sizes.astype(np.uint32), data.tobytes()


class _Chunk:
    """Postings sorted by field and term, as files: the keys (pickled a batch at a
    time), and the documents, weights, value sizes and values of the postings."""

    def __init__(self, prefix: str, pieces: list[Piece]):
        self.prefix = prefix
        keys = [key for piece in pieces for key in piece[0]]
        self.counts = np.concatenate([piece[1] for piece in pieces])
        for n, (name, dtype) in enumerate(COLUMNS, 2):
            np.concatenate([piece[n] for piece in pieces]).astype(dtype).tofile(self.path(name))
        with open(self.path("values"), "wb") as file:
            for piece in pieces:
                file.write(piece[5])
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
        self.docs, self.weights, self.sizes = (np.zeros(0, dtype) for _, dtype in COLUMNS)
        self.values, self.ends, self.at = b"", [0], 0

    def keys(self):
        file = self.files["keys"]
        while file.tell() < os.fstat(file.fileno()).st_size:
            yield from pickle.load(file)

    def take(self) -> tuple:
        """The documents, weights, value sizes and values of the next term."""
        count = self.counts[self.next]
        self.next += 1
        start, stop = self.at, self.at + count
        if stop > len(self.docs):
            self._read(max(WINDOW, count))
            start, stop = 0, count
        self.at = stop
        return (self.docs[start:stop], self.weights[start:stop], self.sizes[start:stop],
                self.values[self.ends[start]:self.ends[stop]])

    def _read(self, count: int) -> None:
        """Keep the postings not taken yet, and read ``count`` more."""
        self.docs, self.weights, self.sizes = (
            np.concatenate([kept[self.at:], np.fromfile(self.files[name], dtype, count)])
            for kept, (name, dtype) in zip((self.docs, self.weights, self.sizes), COLUMNS))
        kept = self.values[self.ends[self.at]:]
        self.ends = [0, *np.cumsum(self.sizes, dtype=np.int64).tolist()]
        self.values = kept + self.files["values"].read(self.ends[-1] - len(kept))
        self.at = 0

    def close(self) -> None:
        for file in self.files.values():
            file.close()
        self.chunk.remove()

