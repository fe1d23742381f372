"""``date:`` in the query language: a year, month or day, a range of them, or one side.

``date:2014``, ``date:2014-03`` and ``date:2014-03-05`` stand for the whole period;
``date:[2010 TO 2015-06]`` runs from the start of the first period to the end of the
last (``*`` or nothing leaves an end open); ``date:>X`` is after the whole of X,
``date:>=X`` from its start, ``date:<X`` before its start and ``date:<=X`` up to its end.
Dates compare with the ``date`` field: publication dates as printed, in each article's
own time zone. Years run from 1000 to 9998.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

from whoosh import query as wq
from whoosh.qparser import TaggingPlugin, syntax

FORMS = "2014, 2014-03, 2014-03-05, [2010 TO 2015] or >2020-01-01"
_PERIOD = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_TICK = timedelta(microseconds=1)
MIN_YEAR, MAX_YEAR = 1000, 9998


class DateError(ValueError):
    pass


def period(text: str) -> tuple[datetime, datetime]:
    """The first and last instant of the year, month or day ``text``."""
    match = _PERIOD.match(text)
    if not match:
        raise DateError(f"{text!r} is not a date")
    year, month, day = (int(g) if g else None for g in match.groups())
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DateError(f"{text!r} is not a date from {MIN_YEAR} to {MAX_YEAR}")
    try:
        first = datetime(year, month or 1, day or 1)
    except ValueError:
        raise DateError(f"{text!r} is not a date") from None
    if day:
        return first, first + timedelta(days=1) - _TICK
    if month:
        days = calendar.monthrange(year, month)[1]
        return first, first + timedelta(days=days) - _TICK
    return first, datetime(year + 1, 1, 1) - _TICK


def date_range(op: str | None, value: str | None, start: str = "", end: str = ""):
    """The (first, last, turned) instants a ``date:`` expression stands for: ``value``
    with an optional ``op``, or, when ``value`` is None, the range [start TO end] (an
    empty or ``*`` end is open). None for an open end; ``turned`` is True when a range
    was given end first (and turned round)."""
    if value is None:
        first = None if start in ("*", "") else period(start)[0]
        last = None if end in ("*", "") else period(end)[1]
        if first and last and first > last:
            return period(end)[0], period(start)[1], True
        return first, last, False
    first, last = period(value)
    return {None: (first, last), ">": (last + _TICK, None), ">=": (first, None),
            "<": (None, first - _TICK), "<=": (None, last)}[op] + (False,)


class DatePlugin(TaggingPlugin):
    """Reads ``date:`` expressions into date range queries on the ``date`` field."""

    priority = -1  # before FieldsPlugin reads "date:" as a field name
    expr = (r"date:(?:\[\s*(?P<start>[^\s\]]*?)\s*(?i:TO)\s*(?P<end>[^\s\]]*)\s*\]"
            r"|(?P<op>>=|<=|>|<)?(?P<value>[^\s()]+))")

    class DateNode(syntax.SyntaxNode):
        has_fieldname = False

        def __init__(self, start=None, end=None, op=None, value=None):
            self.op, self.value, self.start, self.end = op, value, start or "", end or ""

        def r(self):
            return f"date:{self.op or ''}{self.value or f'[{self.start} TO {self.end}]'}"

        def query(self, parser):
            try:
                first, last, turned = date_range(self.op, self.value, self.start, self.end)
            except DateError as error:
                return wq.error_query(f"{error}; dates are written {FORMS}")
            q = wq.DateRange("date", first, last)
            if turned:
                q.note = "a date range was given end first, so it was turned round"
            return q

    nodetype = DateNode
