"""How the index lays out each block of a term's postings: as arrays.

Whoosh's own codec writes a block of up to 128 postings as one compressed pickle of
Python tuples (document numbers, weights, and each posting's positions as a pickle of
its own), so reading a block for any reason unpickles every posting's positions. Here a
block is two compressed parts: the document numbers (as steps from the one before) and
weights as little-endian arrays, which searching reads with ``np.frombuffer``; then the
values (positions), read only by phrases and by Whoosh's own matchers. Everything else
(block headers, term infos, the other files) is Whoosh 3's, so the index opens and
merges as any Whoosh index does; a segment names its codec, so readers need nothing
else.
"""

from __future__ import annotations

import pickle
import struct
import zlib

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3LeafMatcher, W3PostingsWriter
from whoosh.system import emptybytes
from whoosh.util.numeric import length_to_byte

HEAD = struct.Struct("<I")  # the length of a block's first part
LEVEL = 3  # zlib's compression level, as Whoosh's


class Codec(W3Codec):
    """Whoosh 3's codec, writing and reading the postings of terms in array blocks;
    term vectors (postings keyed by terms) stay as Whoosh writes them."""

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


class _BlockWriter(W3PostingsWriter):
    def _write_block(self, last=False):
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        ids = np.asarray(self._ids, np.uint32)
        head = zlib.compress(np.diff(ids, prepend=np.uint32(0)).astype("<u4").tobytes()
                             + np.asarray(self._weights, "<f4").tobytes(), LEVEL)
        data = HEAD.pack(len(head)) + head + _values_bytes(self._values,
                                                          self._format.fixed_value_size())
        # The block header Whoosh 3's matcher reads, compression always on.
        info = pickle.dumps((len(ids), int(ids[-1]), self._maxweight, LEVEL,
                             length_to_byte(self._minlength),
                             length_to_byte(self._maxlength)), 2)
        self._postfile.write_int(-(len(info) + len(data)) if last else len(info) + len(data))
        self._postfile.write(info)
        self._postfile.write(data)
        self._blockcount += 1
        self._new_block()


def _values_bytes(values: list[bytes], fixedsize: int | None) -> bytes:
    """The block's values: nothing when they have no size, else compressed (each one's
    length first when they vary)."""
    if fixedsize == 0:
        return emptybytes
    lengths = emptybytes if fixedsize else np.fromiter(map(len, values), "<u4").tobytes()
    return zlib.compress(lengths + emptybytes.join(values), LEVEL)


class BlockMatcher(W3LeafMatcher):
    """Whoosh 3's matcher over array blocks; :meth:`arrays` gives a block's document
    numbers and weights without reading its values, :meth:`block_values` its values."""

    def _goto(self, position):
        super()._goto(position)
        self._arrays = None

    def _block(self) -> tuple[bytes, int]:
        data = self._postfile.get(self._dataoffset, self._nextoffset - self._dataoffset)
        return data, HEAD.size + HEAD.unpack_from(data)[0]

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """This block's document numbers (int32) and weights (float32)."""
        if self._arrays is None:
            data, end = self._block()
            head, n = zlib.decompress(data[HEAD.size:end]), self._blocklength
            ids = np.cumsum(np.frombuffer(head, "<u4", n), dtype=np.int32)
            self._arrays = ids, np.frombuffer(head, "<f4", n, 4 * n)
        return self._arrays

    def block_values(self) -> list | tuple:
        """This block's encoded values (positions), one per posting."""
        n, fixedsize = self._blocklength, self._fixedsize
        if fixedsize == 0:
            return (None,) * n
        data, end = self._block()
        values = zlib.decompress(data[end:])
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
