"""Near-duplicates: the same story republished with small edits, grouped into clusters.

Each body is reduced to the set of its word 3-grams (shingles), each hashed from the
CRC-32s of its folded words, summarised by a MinHash signature of 128 permutations
(datasketch). Two bodies are near-duplicates when the estimated Jaccard similarity of
their shingle sets is at least JACCARD. Candidates are found by locality-sensitive
hashing: the signature is cut into 32 bands of 4 values, and articles that agree on a
whole band are compared; a pair at Jaccard 0.5 agrees on some band with probability
0.87, at 0.6 with 0.99. Signatures are kept in the index (a column), and the bands in
memory while an indexing run lasts.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from .analysis import Lexicon

NUM_PERM = 128
BANDS, ROWS = 32, 4
SHINGLE = 3
JACCARD = 0.5
SCHEME = "affine32"  # datasketch's permutation scheme: 32-bit values
# Odd 64-bit multipliers that mix the four values of a band into one key, and a salt
# for each band, so that the keys of all bands can be kept in one sorted array.
_MIX = np.random.default_rng(1).integers(1, 2**63, size=ROWS, dtype=np.uint64) | np.uint64(1)
_SALT = np.random.default_rng(2).integers(0, 2**63, size=BANDS, dtype=np.uint64)
# Odd 64-bit multipliers that mix the words of a 3-gram into its hash.
_SHINGLE_MIX = np.random.default_rng(3).integers(1, 2**63, size=SHINGLE, dtype=np.uint64) \
    | np.uint64(1)
_LOW = np.uint64(0xFFFFFFFF)
_HIGH = ~_LOW
_MERGE_EVERY = 1024  # signatures added before they are merged into the sorted keys


@cache
def _empty():
    """An empty MinHash of hash values given as ints. datasketch is imported when first
    needed: with the SciPy it imports, that takes 0.2 s, which a process that only
    compares signatures (an incremental run's indexing process) is spared."""
    from datasketch import MinHash
    return MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME, hashfunc=int)


def signature(text: str, lexicon: Lexicon | None = None) -> np.ndarray | None:
    """The MinHash signature of ``text`` (NUM_PERM 32-bit values), its words numbered in
    ``lexicon`` (a new one unless given); None when it has no words."""
    lexicon = lexicon or Lexicon()
    numbers = lexicon.words(text)
    return hashes_signature(lexicon.hashes[numbers])


def hashes_signature(hashes: np.ndarray) -> np.ndarray | None:
    """The MinHash signature of a text whose folded words have the CRC-32s ``hashes``:
    of its set of 3-grams, each hashed from its words' (of its words, for a text too
    short for any); None when it has no words."""
    if not len(hashes):
        return None
    words = np.zeros(max(len(hashes), SHINGLE), np.uint64)
    words[:len(hashes)] = hashes
    count = len(words) - SHINGLE + 1
    grams = words[:count] * _SHINGLE_MIX[0]
    for n in range(1, SHINGLE):
        grams += words[n:n + count] * _SHINGLE_MIX[n]
    minhash = _empty().copy()
    minhash.update_batch(np.unique(grams >> np.uint64(32)).tolist())
    return minhash.hashvalues.astype(np.uint32)


def _band_keys(signatures: np.ndarray) -> np.ndarray:
    """One 64-bit key per band of each signature (rows of ``signatures``)."""
    bands = signatures.reshape(len(signatures), BANDS, ROWS)
    keys = bands[:, :, 0].astype(np.uint64) * _MIX[0]
    for row in range(1, ROWS):  # a sum along the short last axis is far slower
        keys += bands[:, :, row].astype(np.uint64) * _MIX[row]
    return keys ^ _SALT


def _placed(old: np.ndarray, new: np.ndarray, at: np.ndarray, is_old: np.ndarray):
    """The values ``old`` and ``new`` in one array, ``new`` at the places ``at`` and
    ``old`` in order at the others (``is_old``)."""
    merged = np.empty(len(is_old), old.dtype)
    merged[at] = new
    merged[is_old] = old
    return merged


class Clusters:
    """Puts each article of an indexing run into a cluster of near-duplicates: the
    cluster of its most similar earlier article, if similar enough, else a cluster of
    its own (named by its id). Earlier articles are those already in the index (given
    with ``add_existing``) and those assigned before in the run.

    Signatures live in a matrix, and the keys of all their bands in one sorted array
    for binary search, each key's high 32 bits above its row's number (a key shared by
    chance only adds a candidate to compare), into which the latest signatures, kept in
    a small buffer that is searched directly, are merged from time to time.
    """

    def __init__(self):
        self.ids: list[str] = []
        self.clusters: list[str] = []
        self.signatures = np.empty((0, NUM_PERM), dtype=np.uint32)
        self.sorted_keys = np.empty(0, dtype=np.uint64)  # key << 32 | row, see above
        self.buffer = np.empty((_MERGE_EVERY, NUM_PERM), dtype=np.uint32)
        self.buffer_keys = np.empty((_MERGE_EVERY, BANDS), dtype=np.uint64)
        self.buffered = 0
        self.existing: list[bytes] = []  # signatures given to add_existing, not yet merged

    def add_existing(self, doc_id: str, cluster: str, data: bytes) -> None:
        """Remember an article already in the index, by its stored signature (they are
        all merged into the matrix at once, before the next assignment)."""
        if data:
            self.ids.append(doc_id)
            self.clusters.append(cluster)
            self.existing.append(data)

    def assign(self, doc_id: str, text: str) -> tuple[str, bytes]:
        """The cluster of the article ``doc_id`` with body ``text``, and its signature
        as bytes to store (empty for an empty text)."""
        return self.assign_signature(doc_id, signature(text))

    def assign_signature(self, doc_id: str, values: np.ndarray | None) -> tuple[str, bytes]:
        """:meth:`assign`, given the signature of the text (None when empty)."""
        if values is None:
            return doc_id, b""
        if self.existing:
            self._merge()
        keys = _band_keys(values[None, :])[0]
        rows = [row for row in self._candidates(keys) if self.ids[row] != doc_id]
        cluster = doc_id
        if rows:
            similar = (self._signatures(rows) == values).mean(axis=1)
            best = int(np.argmax(similar))
            if similar[best] >= JACCARD:
                cluster = self.clusters[rows[best]]
        self._add(doc_id, cluster, values, keys)
        return cluster, values.tobytes()

    def _add(self, doc_id: str, cluster: str, values: np.ndarray, keys: np.ndarray) -> None:
        self.ids.append(doc_id)
        self.clusters.append(cluster)
        self.buffer[self.buffered] = values
        self.buffer_keys[self.buffered] = keys
        self.buffered += 1
        if self.buffered == _MERGE_EVERY:
            self._merge()

    def _merge(self) -> None:
        """Move the buffered signatures, then those of add_existing, into the matrix and
        merge their band keys into the sorted ones."""
        existing = np.frombuffer(b"".join(self.existing), dtype=np.uint32).reshape(-1, NUM_PERM)
        new = np.concatenate([self.buffer[:self.buffered], existing])
        self.existing = []
        self.buffered = 0
        rows = np.repeat(np.arange(len(self.signatures), len(self.signatures) + len(new),
                                   dtype=np.uint64), BANDS)
        keys = np.sort(_band_keys(new).ravel() & _HIGH | rows)
        # Where each new key goes among the old ones, both sorted (np.insert would sort
        # these places again).
        at = np.searchsorted(self.sorted_keys, keys) + np.arange(len(keys))
        old = np.ones(len(self.sorted_keys) + len(keys), bool)
        old[at] = False
        self.sorted_keys = _placed(self.sorted_keys, keys, at, old)
        self.signatures = np.concatenate([self.signatures, new])

    def _signatures(self, rows: list[int]) -> np.ndarray:
        merged = len(self.signatures)
        return np.array([self.signatures[r] if r < merged else self.buffer[r - merged]
                         for r in rows])

    def _candidates(self, keys: np.ndarray) -> list[int]:
        """Rows of the articles that agree with band ``keys`` on at least one band."""
        high = keys & _HIGH
        low = np.searchsorted(self.sorted_keys, high, side="left")
        high = np.searchsorted(self.sorted_keys, high | _LOW, side="right")
        found = {key & 0xFFFFFFFF for band in np.nonzero(high > low)[0]
                 for key in self.sorted_keys[low[band]:high[band]].tolist()}
        hits = np.nonzero((self.buffer_keys[:self.buffered] == keys).any(axis=1))[0]
        found.update((hits + len(self.signatures)).tolist())
        return sorted(found)
