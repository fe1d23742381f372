"""A segment's columns written a batch at a time (indexer.columns) are the bytes Whoosh's
column writers make a value at a time."""

from __future__ import annotations

import random
from io import BytesIO

import pytest
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.filedb.structfile import StructFile

from indexer.columns import _Column


def written(write) -> bytes:
    buffer = BytesIO()
    write(StructFile(buffer))
    return buffer.getvalue()


def whoosh_s(column, docnums, values, doccount) -> bytes:
    def write(file):
        writer = column.writer(file)
        for docnum, value in zip(docnums, values):
            writer.add(docnum, value)
        writer.finish(doccount)
    return written(write)


def morgue_s(column, docnums, values, doccount) -> bytes:
    def write(file):
        writer = _Column(file, column)
        for docnum, value in zip(docnums, values):
            writer.add(docnum, value)
        writer.finish(doccount)
    return written(write)


@pytest.mark.parametrize("doccount, largest", [(500, 200), (40_000, 300), (40_000, 70_000)],
                         ids=["few, small", "many: offsets too", "a value over 64 KB"])
def test_byte_values_are_written_as_whoosh_writes_them(doccount, largest):
    seeded = random.Random(doccount + largest)
    docnums = sorted(seeded.sample(range(doccount - 5), doccount // 3))  # the last ones none
    values = [bytes(seeded.randrange(40)) for _ in docnums]
    values[len(values) // 2] = bytes(largest)
    column = VarBytesColumn()
    assert morgue_s(column, docnums, values, doccount) == \
        whoosh_s(column, docnums, values, doccount)


@pytest.mark.parametrize("column", [LENGTHS_COLUMN, NumericColumn("Q", 2**64 - 1)],
                         ids=["field lengths", "times"])
def test_numbers_are_written_as_whoosh_writes_them(column):
    seeded = random.Random(7)
    docnums = list(range(0, 3000, 2))
    top = 255 if column._typecode == "B" else 2**63
    values = [column._default if n % 5 == 0 else seeded.randrange(1, top) for n in docnums]
    values[-10:] = [column._default] * 10  # the last documents' the default
    assert morgue_s(column, docnums, values, 3000) == whoosh_s(column, docnums, values, 3000)
