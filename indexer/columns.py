"""A segment's columns and field lengths, gathered as lists while its documents are added
and written at once, in the files Whoosh 3's per-document writer makes a value at a time
(:class:`whoosh.codec.whoosh3.W3PerDocWriter`): the same bytes, worked out on arrays."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.columns import NumericColumn, VarBytesColumn

from .codec import length_bytes

# Whoosh's array typecodes as NumPy's big-endian types, smallest first: a column of
# sizes or offsets takes the first that holds its largest.
_WIDTHS = (("B", ">u1", 1 << 8), ("H", ">u2", 1 << 16), ("i", ">i4", 1 << 31),
           ("I", ">u4", 1 << 32))
_NUMBERS = {"B": ">u1", "Q": ">u8"}  # the numeric columns morgue's schema has


class Columns:
    """The column values and field lengths of the documents of a segment being written."""

    def __init__(self):
        self.values: dict[str, tuple] = {}  # name -> (column type, docnums, values)
        self.lengths: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))

    def add(self, name: str, column, docnum: int, value) -> None:
        """The value of column ``name`` (of type ``column``) in document ``docnum``."""
        found = self.values.get(name)
        if found is None:
            found = self.values[name] = (column, [], [])
        found[1].append(docnum)
        found[2].append(value)

    def add_length(self, name: str, docnum: int, length: int) -> None:
        """The length of field ``name`` (above 0) in document ``docnum``."""
        docnums, lengths = self.lengths[name]
        docnums.append(docnum)
        lengths.append(length)

    def write(self, perdoc) -> None:
        """Write every column into the per-document writer ``perdoc`` (before it closes),
        and add the fields' lengths to its totals."""
        for name, (docnums, lengths) in self.lengths.items():
            perdoc._fieldlengths[name] += sum(lengths)
            self.values[f"_{name}_len"] = (LENGTHS_COLUMN, docnums, length_bytes(
                np.array(lengths, np.int64)).tolist())
        for name, (column, docnums, values) in self.values.items():
            file = perdoc._cols.create_file(name)
            if type(column) is VarBytesColumn:
                _write_bytes(file, column, docnums, values, perdoc._doccount)
            elif type(column) is NumericColumn and column._typecode in _NUMBERS:
                _write_numbers(file, column, docnums, values)
            else:
                raise TypeError(f"no bulk writer for column {name!r} ({column!r})")


def _write_bytes(file, column: VarBytesColumn, docnums: list[int], values: list[bytes],
                 doccount: int) -> None:
    """The values, then the size of each document's (and its offset, for many
    documents), then their typecodes, as VarBytesColumn's writer has it."""
    file.write(b"".join(values))
    sizes = np.zeros(doccount, np.int64)
    sizes[docnums] = [len(value) for value in values]
    arrays = [sizes]
    if column.allow_offsets and doccount > column.write_offsets_cutoff:
        arrays.append(np.cumsum(sizes) - sizes)
    codes = [_width(array) for array in arrays]
    for array, (_, dtype) in zip(arrays, codes):
        file.write(array.astype(dtype).tobytes())
    file.write("".join(code for code, _ in codes).encode("ascii") + (
        b"X" if len(arrays) > 1 else b""))


def _width(array: np.ndarray) -> tuple[str, str]:
    largest = int(array.max(initial=0))
    return next((code, dtype) for code, dtype, limit in _WIDTHS if largest < limit)


def _write_numbers(file, column: NumericColumn, docnums: list[int], values: list) -> None:
    """Each document's number up to the last that is not the default (which the others
    have), as NumericColumn's writer has it."""
    default = column._default
    kept = [(docnum, value) for docnum, value in zip(docnums, values) if value != default]
    if not kept:
        return
    docs, numbers = zip(*kept)
    found = np.full(docs[-1] + 1, default, np.uint64)
    found[list(docs)] = numbers
    file.write(found.astype(_NUMBERS[column._typecode]).tobytes())
