"""The index's postings in array blocks (indexer.codec) hold exactly what Whoosh's own
codec holds: the same documents written through each give the same postings, read
through Whoosh's matchers and through the arrays searching reads, before and after
Whoosh merges the segments."""

from __future__ import annotations

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import ID, KEYWORD, TEXT, Schema

from conftest import reuters_records
from indexer.codec import _RAW_FIRST, _RAW_VALUES, SMALL, BlockMatcher, Codec
from indexer.matches import _blocks
from indexer.store import open_index

# A field of each kind of posting value: positions (of varying size), frequencies (a
# fixed size) and none.
SCHEMA = Schema(id=ID(stored=True), body=TEXT(), topics=KEYWORD(scorable=True))


def _write(folder, codec, records, optimize=False):
    """An index of ``records`` in ``folder``, written through ``codec`` in two commits
    (two segments), one article deleted; merged into one if ``optimize``."""
    ix = whoosh_index.create_in(folder, SCHEMA)
    half = len(records) // 2
    for part in (records[:half], records[half:]):
        with ix.writer(codec=codec) as writer:
            writer.merge = False
            for record in part:
                writer.add_document(id=record["id"], body=record["body"],
                                    topics=" ".join(record.get("topics", [])) or "none")
    with ix.writer(codec=codec) as writer:
        writer.merge = False
        writer.delete_by_term("id", records[3]["id"])
    if optimize:
        ix.optimize()  # Whoosh's merge, reading and writing through ``codec``
    return ix


def _postings(ix) -> dict:
    """Every term's postings as Whoosh's matchers read them: (doc, weight, value)."""
    with ix.searcher() as searcher:
        reader = searcher.reader()
        return {(field, text): _items(reader.postings(field, text))
                for field, text in reader.all_terms()}


def _items(matcher):
    found = []
    while matcher.is_active():
        found.append((matcher.id(), matcher.weight(), matcher.value()))
        matcher.next()
    return found


@pytest.fixture(scope="module")
def records():
    return reuters_records(400)


@pytest.fixture(scope="module")
def whoosh_postings(records, tmp_path_factory):
    return _postings(_write(str(tmp_path_factory.mktemp("w3")), W3Codec(), records))


@pytest.mark.parametrize("optimize", [False, True], ids=["two segments", "merged"])
def test_the_same_postings_as_whooshs_own_codec(records, tmp_path, optimize):
    (tmp_path / "w3").mkdir(), (tmp_path / "morgue").mkdir()
    ix = _write(str(tmp_path / "morgue"), Codec(), records, optimize)
    assert len(ix.reader().leaf_readers()) == (1 if optimize else 2)
    postings = _postings(ix)
    assert postings == _postings(_write(str(tmp_path / "w3"), W3Codec(), records, optimize))
    # Terms long enough to fill several blocks are there, in each kind of field.
    assert max(len(p) for (field, _), p in postings.items() if field == "body") > 300
    assert max(len(p) for (field, _), p in postings.items() if field == "topics") > 200


def test_searching_reads_the_same_arrays_and_values(records, whoosh_postings, tmp_path):
    ix = _write(str(tmp_path), Codec(), records)
    with ix.searcher() as searcher:
        for (field, text), expected in whoosh_postings.items():
            got = []
            for leaf, offset in searcher.reader().leaf_readers():
                deleted = leaf.deleted_docs_set
                for ids, weights, values in _blocks(leaf, field, text, values=True):
                    assert ids.dtype == np.int32 and weights.dtype == np.float32
                    got += [(int(i) + offset, float(w), v) for i, w, v
                            in zip(ids, weights, values) if int(i) not in deleted]
            assert got == expected, (field, text)


def test_parts_of_a_block_too_small_to_gain_from_compression_are_kept_raw(records, tmp_path):
    ix = _write(str(tmp_path), Codec(), records)
    kinds = set()
    with ix.reader() as reader:
        leaf = reader.leaf_readers()[0][0]
        for text in leaf.lexicon("body"):
            postings = leaf.postings("body", text)
            postings = getattr(postings, "child", postings)  # deletions not left out
            while postings.is_active():  # each block of the term in turn
                _, _, head = postings._block()
                values = postings.block_values()
                first = 8 * len(values) < SMALL  # a document step and a weight each
                raw = 4 * len(values) + sum(map(len, values)) < SMALL  # sizes, values
                assert (bool(head & _RAW_FIRST), bool(head & _RAW_VALUES)) == (first, raw)
                kinds.add((first, raw))
                postings._next_block()
    assert kinds == {(True, True), (True, False), (False, False)}


def test_morgue_writes_every_segment_in_array_blocks(index_dir):
    ix = open_index(index_dir / "current")
    with ix.searcher() as searcher:
        leaves = [leaf for leaf, _ in searcher.reader().leaf_readers()]
        assert leaves and all(type(leaf.segment().codec()) is Codec for leaf in leaves)
        leaf = leaves[0]
        word = max(leaf.lexicon("body"), key=lambda t: leaf.doc_frequency("body", t))
        postings = leaf.postings("body", word)
        assert isinstance(getattr(postings, "child", postings), BlockMatcher)
        ids = np.concatenate([ids for ids, _, _ in _blocks(leaf, "body", word)])
        assert len(ids) > 128 and list(ids) == list(postings.all_ids())
