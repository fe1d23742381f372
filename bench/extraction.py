"""Article extraction benchmark: morgue's cleaner against hand-checked article text.

    python -m bench.extraction

Over the real news pages of ../shared/corpora/zyte-extraction, scored as the published
benchmark scores body extraction (see its SOURCE.md): texts become multisets of word
4-grams; per page, precision and recall of the shared 4-grams; both averaged over pages,
F1 of the averages. Pages scoring under 0.7 on either are listed.
"""

from __future__ import annotations

import gzip
import json
import re
import time
from collections import Counter

from indexer.cleaning import clean_html
from indexer.decoding import decode

from .corpora import SHARED

ZYTE = SHARED / "zyte-extraction"


def shingles(text: str) -> Counter:
    tokens = re.findall(r"\w+", text)
    return Counter(tuple(tokens[i:i + 4]) for i in range(max(len(tokens) - 3, 1)))


def main() -> None:
    truth = json.loads((ZYTE / "ground-truth.json").read_text("utf-8"))
    precision = recall = 0.0
    poor = []
    started = time.perf_counter()
    for key, expected in sorted(truth.items()):
        page = clean_html(decode(gzip.decompress((ZYTE / "html" / f"{key}.html.gz")
                                                  .read_bytes()), is_html=True))
        got, want = shingles(page.body), shingles(expected["articleBody"])
        shared = sum((got & want).values())
        p = shared / max(sum(got.values()), 1)
        r = shared / max(sum(want.values()), 1)
        precision, recall = precision + p, recall + r
        if p < 0.7 or r < 0.7:
            poor.append(f"{key[:12]} P {p:.2f} R {r:.2f} {page.title[:50]!r}")
    n = len(truth)
    precision, recall = precision / n, recall / n
    f1 = 2 * precision * recall / (precision + recall)
    print(f"Extraction, {n} pages in {time.perf_counter() - started:.1f} s: precision "
          f"{precision:.3f}, recall {recall:.3f}, F1 {f1:.3f}")
    for line in poor:
        print("  " + line)


if __name__ == "__main__":
    main()
