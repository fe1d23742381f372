"""Article extraction benchmark: morgue's cleaner, trafilatura and readability-lxml over
real news pages with hand-checked article text.

    python -m bench.extraction [--verbose]

Pages: ../shared/corpora/zyte-extraction (see its SOURCE.md). Every extractor gets the
same text, the page's bytes decoded by morgue. Body text is scored exactly as the
published benchmark scores it: texts become multisets of ``\\w+`` word 4-grams; per page,
precision and recall of the shared 4-grams; each averaged over the pages where it is
defined (precision over pages with some predicted text, recall over pages with some true
text); F1 of the two averages.

The ground truth holds the body and the URL only, no title or date, so those are checked
against what is there: a date against the date in the page's URL (year, month and day in
the path, the publisher's local day: a time found with its offset counts when it falls on
that day somewhere on Earth), on the pages whose URL has one; a title by agreement
between the extractors.
Speed is pages per second on one core (extraction alone, from decoded text), with the
median page size. trafilatura and readability-lxml (``pip install -e '.[bench]'``) are
run the way the published benchmark runs them, and are left out when not installed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from indexer.article import parse_date
from indexer.cleaning import clean_html
from indexer.decoding import decode

from .corpora import SHARED

ZYTE = SHARED / "zyte-extraction"
_TOKEN = re.compile(r"\w+")
_URL_DATE = re.compile(r"/((?:19|20)\d\d)/(\d\d?|[a-z]{3})/(\d\d?)/", re.I)


@dataclass
class Extract:
    """What one extractor found in one page."""

    body: str
    title: str = ""
    date: str = ""  # YYYY-MM-DD, a time in ISO 8601 with its offset, or ""


def shingles(text: str) -> Counter:
    """The multiset of word 4-grams of ``text`` (one shorter n-gram for a short text)."""
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + 4]) for i in range(max(1, len(tokens) - 3))
                   if tokens[i:i + 4])


def matching(true: str, predicted: str) -> tuple[float | None, float | None]:
    """Precision and recall of one page's body (None where the published benchmark leaves
    the page out of that average)."""
    want, got = shingles(true), shingles(predicted)
    tp = sum((want & got).values())
    fp, fn = sum(got.values()) - tp, sum(want.values()) - tp
    if fp == fn == 0:
        return 1.0, 1.0
    return (tp / (tp + fp) if tp + fp else None), (tp / (tp + fn) if tp + fn else None)


def url_date(url: str) -> str:
    """The publication date written in a URL's path as /YYYY/MM/DD/, else ""."""
    match = _URL_DATE.search(url)
    parsed = parse_date(" ".join(match.groups())) if match else None
    return parsed.date().isoformat() if parsed else ""


def same_day(found: str, day: str) -> bool:
    """Whether a found date (YYYY-MM-DD, or a time with its offset) falls on ``day``: a
    time does when it is on that day somewhere on Earth (UTC-12 to UTC+14), as the day in
    a URL is the publisher's local one."""
    if "T" not in found:
        return found == day
    moment = datetime.fromisoformat(found).astimezone(timezone.utc)
    return day in {(moment + timedelta(hours=h)).date().isoformat() for h in range(-12, 15)}


def morgue(markup: str) -> Extract:
    page = clean_html(markup)
    published = parse_date(page.date)
    has_time = published and re.search(r"\d:\d\d", page.date)
    return Extract(page.body, page.title, (published.isoformat() if has_time else
                                           published.date().isoformat()) if published else "")


def trafilatura_extractor() -> Callable[[str], Extract]:
    import trafilatura

    def extract(markup: str) -> Extract:
        found = trafilatura.bare_extraction(markup, include_comments=False,
                                            with_metadata=True)
        if found is None:
            return Extract("")
        return Extract(found.text or "", found.title or "", found.date or "")
    return extract


def readability_extractor() -> Callable[[str], Extract]:
    import html_text
    from readability import Document

    def extract(markup: str) -> Extract:
        document = Document(markup)
        return Extract(html_text.extract_text(document.summary(html_partial=True)),
                       document.short_title())
    return extract


def extractors() -> dict[str, Callable[[str], Extract] | str]:
    """Each extractor by name, or why it is left out."""
    found: dict[str, Callable[[str], Extract] | str] = {"morgue": morgue}
    for name, make in (("trafilatura", trafilatura_extractor),
                       ("readability-lxml", readability_extractor)):
        try:
            found[name] = make()
        except ImportError as error:
            found[name] = f"not installed ({error.name}); pip install -e '.[bench]'"
    return found


def load_pages() -> list[tuple[str, dict, bytes, str]]:
    """(key, ground truth, raw bytes, decoded text) of every page."""
    truth = json.loads((ZYTE / "ground-truth.json").read_text("utf-8"))
    pages = []
    for key, expected in sorted(truth.items()):
        data = gzip.decompress((ZYTE / "html" / f"{key}.html.gz").read_bytes())
        pages.append((key, expected, data, decode(data, is_html=True)))
    return pages


def _mean(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true",
                        help="List morgue's weak pages, wrong dates and disputed titles.")
    args = parser.parse_args()
    pages = load_pages()
    dated = {key: url_date(expected["url"]) for key, expected, _, _ in pages}
    dated = {key: day for key, day in dated.items() if day}
    print(f"{len(pages)} pages, median size "
          f"{statistics.median(len(data) for _, _, data, _ in pages) / 1024:.0f} KB; "
          f"{len(dated)} with a date in their URL. The ground truth has no titles or dates.")
    print(f"{'extractor':<18}{'precision':>10}{'recall':>8}{'F1':>7}{'dated':>7}"
          f"{'date=URL':>10}{'pages/s':>9}")
    results: dict[str, dict[str, Extract]] = {}
    for name, extract in extractors().items():
        if isinstance(extract, str):
            print(f"{name:<18}{extract}")
            continue
        started = time.process_time()
        results[name] = {key: extract(text) for key, _, _, text in pages}
        speed = len(pages) / max(time.process_time() - started, 1e-9)
        scores = [matching(expected["articleBody"], results[name][key].body)
                  for key, expected, _, _ in pages]
        precision, recall = _mean(p for p, _ in scores), _mean(r for _, r in scores)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        dates = sum(same_day(results[name][key].date, day) for key, day in dated.items())
        found = sum(bool(r.date) for r in results[name].values()) / len(pages)
        date_rate = f"{dates / len(dated):.3f}" if found else "-"
        print(f"{name:<18}{precision:>10.3f}{recall:>8.3f}{f1:>7.3f}{found:>7.3f}"
              f"{date_rate:>10}{speed:>9.1f}")
    _print_titles(results, len(pages))
    if args.verbose:
        _print_details(pages, results.get("morgue", {}), dated)


def _print_titles(results: dict[str, dict[str, Extract]], n: int) -> None:
    """How often morgue's title and date are the same as each other extractor's."""
    mine = results.get("morgue", {})
    for name, found in results.items():
        if name != "morgue":
            same = sum(found[key].title == page.title for key, page in mine.items())
            print(f"title same as {name}'s on {same / n:.3f} of pages", end="")
            both = [key for key, page in mine.items() if page.date and found[key].date]
            same = sum(same_day(mine[key].date, found[key].date) for key in both)
            print(f", date on {same} of the {len(both)} both date" if both else "")


def _print_details(pages, mine: dict[str, Extract], dated: dict[str, str]) -> None:
    for key, expected, _, _ in pages:
        precision, recall = matching(expected["articleBody"], mine[key].body)
        if (precision or 0) < 0.9 or (recall or 0) < 0.9:
            print(f"  body  {key[:12]} P {precision or 0:.2f} R {recall or 0:.2f} "
                  f"{expected['url'][:70]}")
    for key, day in dated.items():
        if not same_day(mine[key].date, day):
            print(f"  date  {key[:12]} {mine[key].date or '(none)'} URL {day}")
    for key, _, _, _ in pages:
        print(f"  title {key[:12]} {mine[key].title!r} date {mine[key].date or '(none)'}")


if __name__ == "__main__":
    main()
