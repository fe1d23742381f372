"""How the index lays out each block of a term's postings: as arrays.

Whoosh's own codec writes a block of up to 128 postings as one compressed pickle of
Python tuples (document numbers, weights, and each posting's positions as a pickle of
its own), so reading a block for any reason unpickles every posting's positions. Here a
block is two compressed parts: the document numbers (as steps from the one before) and
weights as little-endian arrays, which searching reads with ``np.frombuffer``; then the
values (positions), read only by phrases and by Whoosh's own matchers. Whoosh's writers
give the postings one at a time, morgue's segment writer (:mod:`indexer.pool`) a term's
at once. Everything else (block headers, term infos, the other files) is Whoosh 3's, so
the index opens and merges as any Whoosh index does; a segment names its codec, so
readers need nothing else.
"""

from __future__ import annotations

import pickle
import struct
import zlib
from array import array
from operator import sub

import numpy as np
from whoosh.codec.whoosh3 import (WHOOSH3_HEADER_MAGIC, W3Codec, W3FieldWriter, W3LeafMatcher,
                                  W3PostingsWriter, W3TermInfo)
from whoosh.filedb.filetables import OrderedHashWriter
from whoosh.system import emptybytes, pack_int, pack_long, pack_ushort
from whoosh.util.numeric import _length_byte_cache, length_to_byte

# Raised whenever a block's layout changes: a Whoosh index of another one is rebuilt.
LAYOUT = 2
HEAD = struct.Struct("<I")  # the length of a block's first part, and which parts are raw
_RAW_FIRST, _RAW_VALUES = 1 << 31, 1 << 30
_LENGTH = _RAW_VALUES - 1
SMALL = 64  # a part of fewer bytes is kept raw: zlib would take time to make it no smaller
_KEY_VALUE = struct.Struct("!ii")  # the lengths before each key and value of a hash file
LEVEL = 3  # zlib's compression level, as Whoosh's
BATCH = 4096  # terms of one block written at a time
_LENGTHS = np.array(_length_byte_cache, np.int64)
_NONE = np.iinfo(np.int64).max  # no length: the field is empty in every document


def _block(steps: bytes, weights: bytes, sizes: bytes, values: bytes, fixedsize,
           info: tuple, last: bool) -> bytes:
    """One block as written: its size (negative for a term's last), the header Whoosh
    3's matcher reads (``info``, compression always on), then two parts, each
    compressed unless SMALL: the documents as steps from the one before and the weights
    (little-endian uint32 and float32), then the values (each one's size first when
    they vary)."""
    first = steps + weights
    raw = _RAW_FIRST if len(first) < SMALL else 0
    data = first if raw else zlib.compress(first, LEVEL)
    head = len(data) | raw
    if fixedsize != 0:
        values = (emptybytes if fixedsize else sizes) + values
        if len(values) < SMALL:
            head |= _RAW_VALUES
        data += values if head & _RAW_VALUES else zlib.compress(values, LEVEL)
    data = HEAD.pack(head) + data
    header = pickle.dumps(info, 2)
    return pack_int(-(len(header) + len(data)) if last else len(header) + len(data)) \
        + header + data


def length_bytes(lengths: np.ndarray) -> np.ndarray:
    """``length_to_byte`` of each of ``lengths`` (_NONE for None)."""
    return np.where(lengths == _NONE, 0, np.minimum(np.searchsorted(_LENGTHS, lengths), 255))


class Codec(W3Codec):
    """Whoosh 3's codec, writing and reading the postings of terms in array blocks;
    term vectors (postings keyed by terms) stay as Whoosh writes them."""

    def field_writer(self, storage, segment):
        return _FieldWriter(self, storage, segment)

    def postings_writer(self, dbfile, byteids=False):
        if byteids:
            return super().postings_writer(dbfile, byteids)
        return _BlockWriter(dbfile, blocklimit=self._blocklimit, compression=LEVEL,
                            inlinelimit=self._inlinelimit)

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term, scorer)
        offset, length = terminfo.extent()
        return BlockMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


class _FieldWriter(W3FieldWriter):
    def add_term(self, term: bytes, *postings) -> None:
        """Write a term and all its postings at once (see :meth:`_BlockWriter.add_arrays`)."""
        self.start_term(term)
        self._postwriter.add_arrays(*postings)
        self.finish_term()

    def add_terms(self, terms, lengths: np.ndarray) -> None:
        """Write the terms of the field started and their postings: (term, documents,
        weights, value sizes, values joined) of each, in order of terms, ``lengths``
        the field's length in each document. Most terms fill one block: those are
        written a batch at a time, their figures worked out on arrays."""
        batch, limit = [], self._postwriter._blocklimit
        for term in terms:
            if len(term[1]) > limit:
                self._add_blocks(batch, lengths)
                batch = []
                self.add_term(*term, lengths[term[1]])
                continue
            batch.append(term)
            if len(batch) == BATCH:
                self._add_blocks(batch, lengths)
                batch = []
        self._add_blocks(batch, lengths)

    def _add_blocks(self, batch: list[tuple], lengths: np.ndarray) -> None:
        """Write terms of one block each, as ``add_term`` would."""
        if not batch:
            return
        terms, docs, weights, sizes, values = zip(*batch)
        counts = np.fromiter(map(len, docs), np.int64, len(docs))
        ends = np.cumsum(counts)
        starts = ends - counts
        docs = np.concatenate(docs).astype(np.int64)
        weights = np.concatenate(weights).astype("<f4")
        steps, heavy, shortest, longest = _block_figures(docs, weights, lengths[docs], starts)
        steps, weights_, sizes = (steps.astype("<u4").tobytes(), weights.tobytes(),
                                  np.concatenate(sizes).astype("<u4").tobytes())
        figures = zip(terms, counts.tolist(), starts.tolist(), ends.tolist(),
                      np.add.reduceat(weights.astype(np.float64), starts).tolist(),
                      heavy.tolist(), length_bytes(shortest).tolist(),
                      length_bytes(longest).tolist(), docs[starts].tolist(),
                      docs[ends - 1].tolist(), values)
        fixedsize, postfile, key = self._format.fixed_value_size(), self._postwriter._postfile, \
            pack_ushort(self._fieldid)
        offset, written, infos = postfile.tell(), [], []
        for term, n, start, stop, total, heaviest, least, most, first, last, value in figures:
            block = WHOOSH3_HEADER_MAGIC + _block(
                steps[4 * start:4 * stop], weights_[4 * start:4 * stop],
                sizes[4 * start:4 * stop], value, fixedsize,
                (n, last, heaviest, LEVEL, least, most), True)
            written.append(block)
            infos.append(W3TermInfo._struct.pack(False, total, n, least, most, heaviest,
                                                 first, last)
                         + pack_long(offset) + pack_int(len(block)))
            offset += len(block)
        postfile.write(emptybytes.join(written))
        _add_keys(self._tindex, [key + term for term in terms], infos)


def _block_figures(docs: np.ndarray, weights: np.ndarray, lengths: np.ndarray,
                   starts: np.ndarray) -> tuple[np.ndarray, ...]:
    """For postings in blocks from ``starts``: the documents as steps from the one
    before in their block, and each block's heaviest weight and shortest (_NONE for
    none) and longest field length, given the field's length in each posting's
    document (0 where it keeps none)."""
    steps = docs.copy()
    steps[1:] -= docs[:-1]
    steps[starts] = docs[starts]
    return (steps, np.maximum.reduceat(weights, starts),
            np.minimum.reduceat(np.where(lengths > 0, lengths, _NONE), starts),
            np.maximum.reduceat(lengths, starts))


def _add_keys(writer: OrderedHashWriter, keys: list[bytes], values: list[bytes]) -> None:
    """``writer.add`` of each of ``keys`` (ascending, after those added before) and its
    value, written at once."""
    if keys[0] <= writer.lastkey:
        raise ValueError(f"Keys must increase: {writer.lastkey!r}..{keys[0]!r}")
    dbfile, buckets, hashed = writer.dbfile, writer.buckets, writer.hashfn
    records = [_KEY_VALUE.pack(len(key), len(value)) + key + value
               for key, value in zip(keys, values)]
    places = np.cumsum([dbfile.tell(), *map(len, records[:-1])]).tolist()
    dbfile.write(emptybytes.join(records))
    for key, place in zip(keys, places):
        found = hashed(key)
        buckets[found & 255].append((found, place))
    index = writer.index
    try:  # widened first if the last place does not fit its type, as append would
        array(index.typecode, places[-1:])
    except OverflowError:
        index._retype(places[-1])
    index.array.extend(places)
    writer.lastkey = keys[-1]


class _BlockWriter(W3PostingsWriter):
    """Whoosh 3's postings writer, writing array blocks: a posting at a time as Whoosh's
    writers add them, or a term's postings at once (:meth:`add_arrays`)."""

    def _write_block(self, last=False):
        self._terminfo.add_block(self)
        self._put(self._ids.tolist(), self._weights, [len(v) for v in self._values],
                  emptybytes.join(self._values), self._maxweight, self._minlength,
                  self._maxlength, last)
        self._new_block()

    def add_arrays(self, ids, weights, sizes, values: bytes, lengths) -> None:
        """Write the postings of the term started, all at once: the documents
        (ascending), weights, each value's size and the values joined, and the length of
        the field in each document (0 where it keeps none). Each block's figures are
        worked out on arrays, as :meth:`_FieldWriter._add_blocks` does for terms of one."""
        terminfo, n = self._terminfo, len(ids)
        ids, lengths = ids.astype(np.int64), np.asarray(lengths, np.int64)
        starts = np.arange(0, n, self._blocklimit)
        ends = np.append(starts[1:], n)
        steps, heaviest, shortest, longest = _block_figures(ids, weights, lengths, starts)
        steps, weights_, sizes_ = (steps.astype("<u4").tobytes(), weights.astype("<f4").tobytes(),
                                   np.asarray(sizes).astype("<u4").tobytes())
        heaviest = heaviest.tolist()
        bounds = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        terminfo._weight += sum(weights.tolist())
        terminfo._df += n
        terminfo._minid, terminfo._maxid = int(ids[0]), int(ids[-1])
        least = int(shortest.min())
        if least != _NONE:
            terminfo._minlength = min(terminfo._minlength or least, least)
        terminfo._maxlength = max(terminfo._maxlength, int(longest.max()))
        terminfo._maxweight = max(terminfo._maxweight, max(heaviest))
        fixedsize = self._format.fixed_value_size()
        blocks = [_block(steps[4 * start:4 * stop], weights_[4 * start:4 * stop],
                         sizes_[4 * start:4 * stop], values[first:last], fixedsize,
                         (stop - start, last_id, heavy, LEVEL, low, high), stop == n)
                  for start, stop, first, last, last_id, heavy, low, high in zip(
                      starts.tolist(), ends.tolist(), bounds[starts].tolist(),
                      bounds[ends].tolist(), ids[ends - 1].tolist(), heaviest,
                      length_bytes(shortest).tolist(), length_bytes(longest).tolist())]
        if not self._blockcount:
            blocks.insert(0, WHOOSH3_HEADER_MAGIC)
        self._postfile.write(emptybytes.join(blocks))
        self._blockcount += len(starts)

    def _put(self, ids: list[int], weights, sizes, values: bytes, heaviest, shortest,
             longest, last):
        """Write one block (see :func:`_block`), after Whoosh's magic for a term's first."""
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        steps = np.array([ids[0], *map(sub, ids[1:], ids)], "<u4")
        self._postfile.write(_block(
            steps.tobytes(), np.asarray(weights, "<f4").tobytes(),
            np.asarray(sizes, "<u4").tobytes(), values, self._format.fixed_value_size(),
            (len(ids), ids[-1], heaviest, LEVEL, length_to_byte(shortest),
             length_to_byte(longest)), last))
        self._blockcount += 1


class BlockMatcher(W3LeafMatcher):
    """Whoosh 3's matcher over array blocks; :meth:`arrays` gives a block's document
    numbers and weights without reading its values, :meth:`block_values` its values."""

    def _goto(self, position):
        super()._goto(position)
        self._arrays = None

    def _block(self) -> tuple[bytes, int, int]:
        """This block's bytes, where its values start, and its head (see _block)."""
        data = self._postfile.get(self._dataoffset, self._nextoffset - self._dataoffset)
        head = HEAD.unpack_from(data)[0]
        return data, HEAD.size + (head & _LENGTH), head

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """This block's document numbers (int32) and weights (float32)."""
        if self._arrays is None:
            data, end, raw = self._block()
            head, n = data[HEAD.size:end], self._blocklength
            if not raw & _RAW_FIRST:
                head = zlib.decompress(head)
            ids = np.cumsum(np.frombuffer(head, "<u4", n), dtype=np.int32)
            self._arrays = ids, np.frombuffer(head, "<f4", n, 4 * n)
        return self._arrays

    def block_values(self) -> list | tuple:
        """This block's encoded values (positions), one per posting."""
        n, fixedsize = self._blocklength, self._fixedsize
        if fixedsize == 0:
            return (None,) * n
        data, end, raw = self._block()
        values = data[end:] if raw & _RAW_VALUES else zlib.decompress(data[end:])
        if fixedsize:
            return [values[i:i + fixedsize] for i in range(0, n * fixedsize, fixedsize)]
        ends = (np.cumsum(np.frombuffer(values, "<u4", n), dtype=np.int64) + 4 * n).tolist()
        return [values[start:stop] for start, stop in zip([4 * n, *ends], ends)]

    def _read_ids(self):
        self._ids = self.arrays()[0].tolist()

    def _read_weights(self):
        self._weights = self.arrays()[1].tolist()

    def _read_values(self):
        self._values = self.block_values()
