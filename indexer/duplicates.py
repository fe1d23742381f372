"""Near-duplicates: the same story republished with small edits, grouped into clusters.

Each body is reduced to the set of its word 3-grams (shingles), each hashed from the
CRC-32s of its folded words, summarised by a MinHash signature: the least hash of its
3-grams under each of 128 hash functions. Two bodies are near-duplicates when the
estimated Jaccard similarity of their shingle sets is at least JACCARD. Candidates are
found by locality-sensitive hashing: the signature is cut into 32 bands of 4 values, and
articles that agree on a whole band are compared; a pair at Jaccard 0.5 agrees on some
band with probability 0.87, at 0.6 with 0.99. Signatures are kept in the index (a
column), and so are the band keys of each segment's, sorted (see band_run), for an
incremental run to search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .analysis import Lexicon

NUM_PERM = 128
BANDS, ROWS = 32, 4
SHINGLE = 3
JACCARD = 0.5
# Odd 64-bit multipliers that mix the four values of a band into one key, and a salt
# for each band, so that the keys of all bands can be kept in one sorted array.
_MIX = np.random.default_rng(1).integers(1, 2**63, size=ROWS, dtype=np.uint64) | np.uint64(1)
_SALT = np.random.default_rng(2).integers(0, 2**63, size=BANDS, dtype=np.uint64)
# Odd 64-bit multipliers that mix the words of a 3-gram into its hash.
_SHINGLE_MIX = np.random.default_rng(3).integers(1, 2**63, size=SHINGLE, dtype=np.uint64) \
    | np.uint64(1)
# The NUM_PERM hash functions of a signature, each the high 32 bits of a * x + b modulo
# 2**64 for a 32-bit x (multiply-add-shift: a universal family), a odd and b random.
_PERMUTE = np.random.default_rng(4).integers(0, 2**64, size=(NUM_PERM, 2), dtype=np.uint64) \
    | np.array([1, 0], np.uint64)
_GRAMS = 2048
_LOW = np.uint64(0xFFFFFFFF)
_HIGH = ~_LOW


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
    grams = np.unique(grams >> np.uint64(32))
    values = np.full(NUM_PERM, _LOW, np.uint64)
    for start in range(0, len(grams), _GRAMS):  # a bounded table of hashes at a time
        hashed = _PERMUTE[:, :1] * grams[start:start + _GRAMS] + _PERMUTE[:, 1:]
        values = np.minimum(values, hashed.min(axis=1) >> np.uint64(32))
    return values.astype(np.uint32)


def _band_keys(signatures: np.ndarray) -> np.ndarray:
    """One 64-bit key per band of each signature (rows of ``signatures``)."""
    bands = signatures.reshape(len(signatures), BANDS, ROWS)
    keys = bands[:, :, 0].astype(np.uint64) * _MIX[0]
    for row in range(1, ROWS):  # a sum along the short last axis is far slower
        keys += bands[:, :, row].astype(np.uint64) * _MIX[row]
    return keys ^ _SALT


def numbered_keys(signatures: np.ndarray, numbers) -> np.ndarray:
    """The band keys of ``signatures`` (rows), each key's high 32 bits above the number
    of its row in ``numbers`` (a key shared by chance only adds a candidate to compare)."""
    return _numbered(_band_keys(signatures), numbers)


def _numbered(keys: np.ndarray, numbers) -> np.ndarray:
    return keys.ravel() & _HIGH | np.repeat(np.asarray(numbers, np.uint64), BANDS)


def band_run(signatures: list[bytes]) -> np.ndarray:
    """The band keys of stored ``signatures`` (empty for an empty text, which has none),
    each numbered by its signature's place in the list (see numbered_keys), sorted."""
    places = [n for n, data in enumerate(signatures) if data]
    matrix = np.frombuffer(b"".join(signatures[n] for n in places), np.uint32)
    return np.sort(numbered_keys(matrix.reshape(-1, NUM_PERM), places))


@dataclass
class Signed:
    """The signatures of the articles already in an index, each article by its place in
    the index's lists (see :meth:`Clusters.add_existing`): runs of sorted band keys (see
    band_run), each with the place of the article each number in its keys stands for
    (-1 for none: deleted since), and a function giving the stored signature of the
    article at a place."""

    runs: list[tuple[np.ndarray, np.ndarray]]
    stored: Callable[[int], bytes]

    @classmethod
    def of(cls, signatures: list[bytes]) -> "Signed":
        """From the stored signature of each article (empty for none)."""
        return cls([(band_run(signatures), np.arange(len(signatures)))], signatures.__getitem__)

    def signatures(self, places: np.ndarray) -> np.ndarray:
        """The signatures (rows) of the articles at ``places``."""
        return np.stack([np.frombuffer(self.stored(n), np.uint32) for n in places.tolist()])


class Clusters:
    """Puts each article of an indexing run into a cluster of near-duplicates: the
    cluster of its most similar earlier article, if similar enough, else a cluster of
    its own (named by its id). Earlier articles are those already in the index (given
    with ``add_existing``) and those assigned before in the run.

    Each article is a row: first those in the index, then those of the run. The band
    keys of the run's articles are kept in a few sorted runs for binary search, numbered
    by row (see numbered_keys), beside the runs of the index's (see Signed). Each batch's
    keys make a run, and two runs of the same size are merged into one, as a binary
    counter carries: a key is merged a few times, and a batch searches a few runs.
    """

    def __init__(self):
        self.ids: list[str] = []  # of each row
        self.clusters: list[str] = []
        self.existing = Signed.of([])
        self.first = 0  # the first row of the run's articles
        self.signatures = np.empty((0, NUM_PERM), dtype=np.uint32)  # theirs, and room
        self.rows = 0
        self.runs: list[np.ndarray] = []  # sorted numbered keys of theirs, largest first

    def add_existing(self, ids: list[str], clusters: list[str], signed: Signed):
        """Remember the articles already in the index, in their clusters, whose
        signatures are ``signed``; before any article of the run is assigned."""
        self.ids, self.clusters, self.existing = list(ids), list(clusters), signed
        self.first = self.rows = len(ids)

    def assign(self, doc_id: str, text: str) -> str:
        """The cluster of the article ``doc_id`` with body ``text``."""
        return self.assign_signatures([doc_id], [signature(text)])[0]

    def assign_signatures(self, ids: list[str], signatures: list) -> list[str]:
        """The cluster of each article of ``ids`` in turn, given the signature of its
        text (None when empty), each compared with all articles before it."""
        clusters = list(ids)
        signed = [n for n, values in enumerate(signatures) if values is not None]
        if not signed:
            return clusters
        first = self.rows
        keys = self._add(np.stack([signatures[n] for n in signed]))
        found = self._candidates(keys)
        self.runs.append(np.sort(_numbered(keys, range(first, self.rows))))
        while len(self.runs) > 1 and len(self.runs[-2]) <= len(self.runs[-1]):
            last = self.runs.pop()
            # Two sorted runs end to end: a stable sort (timsort) merges them in one pass.
            self.runs[-1] = np.sort(np.concatenate([self.runs[-1], last]), kind="stable")
        for row, n, candidates in zip(range(first, self.rows), signed, found):
            rows = [r for r in candidates.tolist() if self.ids[r] != ids[n]]
            if rows:
                similar = (self._signatures(rows) == self.signatures[row - self.first]).mean(axis=1)
                best = int(np.argmax(similar))
                if similar[best] >= JACCARD:
                    clusters[n] = self.clusters[rows[best]]
            self.ids.append(ids[n])
            self.clusters.append(clusters[n])
        return clusters

    def _add(self, values: np.ndarray) -> np.ndarray:
        """Add rows of signatures ``values``; their band keys (rows, not numbered)."""
        start, self.rows = self.rows - self.first, self.rows + len(values)
        if self.rows - self.first > len(self.signatures):  # room for a quarter more at least
            room = np.empty((max(len(values) + start * 5 // 4, 2 * len(self.signatures)),
                             NUM_PERM), np.uint32)
            room[:start] = self.signatures[:start]
            self.signatures = room
        self.signatures[start:start + len(values)] = values
        return _band_keys(values)

    def _signatures(self, rows: list[int]) -> np.ndarray:
        """The signatures of earlier ``rows``, the index's articles' or the run's."""
        rows = np.asarray(rows)
        old = rows < self.first
        found = np.empty((len(rows), NUM_PERM), np.uint32)
        if old.any():
            found[old] = self.existing.signatures(rows[old])
        found[~old] = self.signatures[rows[~old] - self.first]
        return found

    def _candidates(self, keys: np.ndarray) -> list[np.ndarray]:
        """For each row of band ``keys`` (the rows just added, in turn), the earlier
        rows that agree with it on at least one band, in order."""
        later, earlier = [], []  # pairs: a row of keys, and an earlier row sharing a key
        first = self.rows - len(keys)
        high = (keys & _HIGH).ravel()
        order = np.argsort(high)  # sorted, they are found several times faster
        high = high[order]
        for run, places in [*self.existing.runs, *((run, None) for run in self.runs)]:
            if not len(run):
                continue
            low = np.searchsorted(run, high)
            hits = np.flatnonzero(run[np.minimum(low, len(run) - 1)] & _HIGH == high)
            counts = np.searchsorted(run, high[hits] | _LOW, side="right") - low[hits]
            hit = np.repeat(np.arange(len(hits)), counts)  # of each key found
            found = low[hits][hit] + np.arange(len(hit)) - (np.cumsum(counts) - counts)[hit]
            rows = (run[found] & _LOW).astype(np.int64)
            later.append(order[hits][hit] // BANDS)
            earlier.append(rows if places is None else places[rows])
        # Among these rows, by their whole keys: each finds the earlier ones.
        flat = keys.ravel()
        order = np.argsort(flat, kind="stable")  # rows stay in order within a key
        starts = np.flatnonzero(np.diff(flat[order], prepend=~flat[order[:1]]))
        sizes = np.diff(starts, append=len(flat))
        for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist()):
            rows = order[start:start + size] // BANDS
            before, after = np.triu_indices(size, 1)
            later.append(rows[after])
            earlier.append(rows[before] + first)
        later = np.concatenate([np.empty(0, np.int64), *later]) + first
        earlier = np.concatenate([np.empty(0, np.int64), *earlier])
        kept = (earlier >= 0) & (earlier < later)  # a place of none (deleted), or itself
        pairs = np.unique((later[kept] - first) << 32 | earlier[kept])  # by row, then earlier
        bounds = np.searchsorted(pairs >> 32, np.arange(len(keys) + 1))
        rows = pairs & int(_LOW)
        return [rows[start:end] for start, end in zip(bounds[:-1], bounds[1:])]
