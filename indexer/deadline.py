"""Time limits on the work of one search, enforced rather than hoped for.

A :class:`Deadline` is set when a search starts. Looking up the words a pattern stands
for stops at it (:class:`TimedReader`), and collecting the matching articles stops at it
with the results found so far (:func:`timed_search`).
"""

from __future__ import annotations

import time

from whoosh import collectors
from whoosh.reading import IndexReader

CHECK_EVERY = 512  # index words read between two looks at the clock
LATE_SHARE = 0.1  # of its time, what a search is given to collect even when late


class TooSlow(Exception):
    """The deadline passed before the work was done."""


class Deadline:
    """A moment, ``seconds`` from now, after which a search stops working."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.end

    @property
    def remaining(self) -> float:
        """Seconds left (0 once passed)."""
        return max(self.end - time.monotonic(), 0.0)


class TimedReader:
    """An index reader whose lists of words raise TooSlow once ``deadline`` has passed
    (every other method is the reader's own)."""

    def __init__(self, reader, deadline: Deadline):
        self._reader, self._deadline = reader, deadline

    def __getattr__(self, name):
        return getattr(self._reader, name)

    def terms_from(self, fieldname, prefix):
        for count, term in enumerate(self._reader.terms_from(fieldname, prefix)):
            if count % CHECK_EVERY == 0 and self._deadline.passed:
                raise TooSlow
            yield term

    # Whoosh's own list methods, reading through terms_from above.
    lexicon = IndexReader.lexicon
    expand_prefix = IndexReader.expand_prefix


class _Until(collectors.WrappingCollector):
    """Collects until ``end`` (a time.monotonic() value), then raises TimeLimit.

    Whoosh's TimeLimitCollector is not used: it must wrap a search's FilterCollector,
    and then bypasses its filter; this one goes inside it."""

    def __init__(self, child, end: float):
        self.child, self.end = child, end

    def collect(self, sub_docnum):
        if time.monotonic() >= self.end:
            raise collectors.TimeLimit
        return self.child.collect(sub_docnum)


def timed_search(searcher, query, deadline: Deadline, filter=None, **options):
    """``searcher.search(query, filter=filter, **options)``, stopped at ``deadline``
    (or after LATE_SHARE of its time, if later): (results, True if every match was
    collected)."""
    end = max(deadline.end, time.monotonic() + LATE_SHARE * deadline.seconds)
    collector = _Until(searcher.collector(**options), end)
    if filter is not None:
        collector = collectors.FilterCollector(collector, filter)
    try:
        # needs_current: step through the matches, where the time is checked, instead
        # of taking all of them at once with a matcher's all_ids().
        searcher.search_with_collector(query, collector,
                                       searcher.context(needs_current=True))
    except collectors.TimeLimit:
        return collector.results(), False
    return collector.results(), True
