"""A segment's columns and field lengths, gathered while its documents are added and
written a batch of values at a time, in the files Whoosh 3's per-document writer makes a
value at a time (:class:`whoosh.codec.whoosh3.W3PerDocWriter`): the same bytes, the
sizes and numbers worked out on arrays."""

from __future__ import annotations

from array import array

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.columns import NumericColumn, VarBytesColumn

from .codec import length_bytes

BATCH = 4096  # byte values of a column joined and written at a time
# Whoosh's array typecodes as NumPy's big-endian types, smallest first: a column of
# sizes or offsets takes the first that holds its largest.
_WIDTHS = (("B", ">u1", 1 << 8), ("H", ">u2", 1 << 16), ("i", ">i4", 1 << 31),
           ("I", ">u4", 1 << 32))
_NUMBERS = {"B": ">u1", "Q": ">u8"}  # the numeric columns morgue's schema has


class Columns:
    """The column values and field lengths of the documents of a segment being written
    by the per-document writer ``perdoc``."""

    def __init__(self, perdoc):
        self.perdoc = perdoc
        self.columns: dict[str, _Column] = {}
        self.lengths: dict[str, tuple[array, array]] = {}  # field -> documents, lengths

    def add(self, name: str, column, docnum: int, value) -> None:
        """The value of column ``name`` (of type ``column``) in document ``docnum``."""
        found = self.columns.get(name)
        if found is None:
            found = self.columns[name] = _Column(self.perdoc._cols.create_file(name), column)
        found.add(docnum, value)

    def add_length(self, name: str, docnum: int, length: int) -> None:
        """The length of field ``name`` (above 0) in document ``docnum``."""
        if name not in self.lengths:
            self.lengths[name] = array("i"), array("i")
        docnums, lengths = self.lengths[name]
        docnums.append(docnum)
        lengths.append(length)

    def write(self) -> None:
        """Finish every column (before the per-document writer closes), and add the
        fields' lengths to its totals."""
        for name, (docnums, lengths) in self.lengths.items():
            lengths = np.frombuffer(lengths, np.int32)
            self.perdoc._fieldlengths[name] += int(lengths.sum(dtype=np.int64))
            column = _Column(self.perdoc._cols.create_file(f"_{name}_len"), LENGTHS_COLUMN)
            column.docnums, column.values = docnums, length_bytes(lengths).tolist()
            column.finish(self.perdoc._doccount)
        for column in self.columns.values():
            column.finish(self.perdoc._doccount)


class _Column:
    """One column's values: byte values written a batch at a time, numbers kept."""

    def __init__(self, file, kind):
        if not (type(kind) is VarBytesColumn or type(kind) is NumericColumn
                and kind._typecode in _NUMBERS):
            raise TypeError(f"no bulk writer for a column of {kind!r}")
        self.file, self.kind = file, kind
        self.docnums, self.sizes, self.values = array("i"), array("q"), []

    def add(self, docnum: int, value) -> None:
        self.docnums.append(docnum)
        self.values.append(value)
        if type(self.kind) is VarBytesColumn and len(self.values) == BATCH:
            self._write_values()

    def _write_values(self) -> None:
        self.sizes.extend(map(len, self.values))
        self.file.write(b"".join(self.values))
        self.values = []

    def finish(self, doccount: int) -> None:
        if type(self.kind) is VarBytesColumn:
            self._write_values()
            self._finish_bytes(doccount)
        else:
            self._finish_numbers()

    def _finish_bytes(self, doccount: int) -> None:
        """After the values, the size of each document's (and its offset, for many
        documents), then their typecodes, as VarBytesColumn's writer has it."""
        sizes = np.zeros(doccount, np.int64)
        sizes[np.frombuffer(self.docnums, np.int32)] = np.frombuffer(self.sizes, np.int64)
        arrays = [sizes]
        if self.kind.allow_offsets and doccount > self.kind.write_offsets_cutoff:
            arrays.append(np.cumsum(sizes) - sizes)
        codes = [_width(found) for found in arrays]
        for found, (_, dtype) in zip(arrays, codes):
            self.file.write(found.astype(dtype).tobytes())
        self.file.write("".join(code for code, _ in codes).encode("ascii") + (
            b"X" if len(arrays) > 1 else b""))

    def _finish_numbers(self) -> None:
        """Each document's number up to the last that is not the default (which the
        others have), as NumericColumn's writer has it."""
        default = self.kind._default
        kept = [(docnum, value) for docnum, value in zip(self.docnums, self.values)
                if value != default]
        if not kept:
            return
        docs, numbers = zip(*kept)
        found = np.full(docs[-1] + 1, default, np.uint64)
        found[list(docs)] = numbers
        self.file.write(found.astype(_NUMBERS[self.kind._typecode]).tobytes())


def _width(found: np.ndarray) -> tuple[str, str]:
    largest = int(found.max(initial=0))
    return next((code, dtype) for code, dtype, limit in _WIDTHS if largest < limit)
