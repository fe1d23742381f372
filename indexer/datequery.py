"""``date:`` in the query language: a year, month or day, a range of them, or one side.

``date:2014``, ``date:2014-03`` and ``date:2014-03-05`` stand for the whole period;
``date:[2010 TO 2015-06]`` runs from the start of the first period to the end of the
last (``*`` leaves an end open); ``date:>X`` is after the whole of X, ``date:>=X`` from its
start, ``date:<X`` before its start and ``date:<=X`` up to its end. Dates compare with
the ``date`` field: publication dates as printed, in each article's own time zone.
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


class DateError(ValueError):
    pass


def period(text: str) -> tuple[datetime, datetime]:
    """The first and last instant of the year, month or day ``text``."""
    match = _PERIOD.match(text)
    if not match:
        raise DateError(f"{text!r} is not a date")
    year, month, day = (int(g) if g else None for g in match.groups())
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


def date_range(op: str | None, start: str | None, end: str | None):
    """The (first, last, reversed) instants a ``date:`` expression stands for; None for
    an open end. ``reversed`` is True when a range was given end first (and turned)."""
    if start is not None and end is not None:  # [start TO end]
        first = None if start == "*" else period(start)[0]
        last = None if end == "*" else period(end)[1]
        if first and last and first > last:
            return period(end)[0], period(start)[1], True
        return first, last, False
    first, last = period(start)
    return {None: (first, last), ">": (last + _TICK, None), ">=": (first, None),
            "<": (None, first - _TICK), "<=": (None, last)}[op] + (False,)


class DatePlugin(TaggingPlugin):
    """Reads ``date:`` expressions into date range queries on the ``date`` field."""

    priority = -1  # before FieldsPlugin reads "date:" as a field name
    expr = (r"date:(?:\[\s*(?P<start>\S+)\s+(?i:TO)\s+(?P<end>[^\s\]]+)\s*\]"
            r"|(?P<op>>=|<=|>|<)?(?P<value>[^\s()\[\]]+))")

    class DateNode(syntax.SyntaxNode):
        has_fieldname = False

        def __init__(self, start=None, end=None, op=None, value=None):
            self.op, self.start, self.end = op, start or value, end

        def r(self):
            return f"date:{self.op or ''}{self.start}..{self.end}"

        def query(self, parser):
            try:
                first, last, turned = date_range(self.op, self.start, self.end)
            except DateError as error:
                return wq.error_query(f"{error}; dates are written {FORMS}")
            q = wq.DateRange("date", first, last)
            if turned:
                q.note = "a date range was given end first, so it was turned round"
            return q

    nodetype = DateNode
