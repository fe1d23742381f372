"""The timeline of coverage above the results: matching articles per year, or per month
when they all fall in one year, laid out as bars of an inline SVG chart."""

from __future__ import annotations

from calendar import month_abbr, month_name
from dataclasses import dataclass

WIDTH, HEIGHT = 600, 90  # the chart's viewBox, bars drawn from the baseline up
LOWEST = 3  # the height of a bar for any articles at all, however few: visible
LABELS = 8  # period labels under the bars, about


@dataclass
class Bar:
    facet: str  # "year" or "month", the filter a click on the bar adds
    period: str  # "1987" or "1987-03"
    count: int
    active: bool
    x: float
    y: float
    width: float
    height: float
    label: str = ""  # the period's name under the bar, on some bars only

    @property
    def slot(self) -> float:
        """The width of the bar's share of the chart (its gap around it included)."""
        return round(self.width / .8, 1)

    @property
    def slot_x(self) -> float:
        return round(self.x - self.width / 8, 1)

    @property
    def centre(self) -> float:
        """The middle of the bar, in percent of the chart's width."""
        return round((self.x + self.width / 2) * 100 / WIDTH, 2)

    @property
    def name(self) -> str:
        """The period as a reader says it: "1987", "March 1987"."""
        if self.facet == "month":
            return f"{month_name[int(self.period[5:])]} {self.period[:4]}"
        return self.period


@dataclass
class Timeline:
    unit: str  # "year" or "month"
    bars: list[Bar]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def total(self) -> int:
        return sum(bar.count for bar in self.bars)


def _periods(facet: str, values: list) -> list[str]:
    """Every period from the first to the last of ``values``, those without articles
    included: years, or the twelve months of the one year."""
    if facet == "month":
        year = values[0].value[:4]
        return [f"{year}-{month:02}" for month in range(1, 13)]
    years = [int(v.value) for v in values]
    return [str(year) for year in range(min(years), max(years) + 1)]


def _labelled(i: int, periods: int, every: int) -> bool:
    """Whether bar ``i`` is named: the first, the last, and every ``every`` bars from
    the first unless too near the last."""
    last = periods - 1
    return i in (0, last) or (i % every == 0 and last - i >= every * .6)


def timeline(facets: dict) -> Timeline | None:
    """The timeline of a result page's date facets; None when no result has a date."""
    facet = "year" if facets.get("year") else "month" if facets.get("month") else None
    if facet is None:
        return None
    values = facets[facet]
    counts = {v.value: v.count for v in values}
    active = {v.value for v in values if v.active}
    periods = _periods(facet, values)
    slot = WIDTH / len(periods)
    tallest = max(counts.values())
    every = -(-len(periods) // LABELS)
    bars = []
    for i, period in enumerate(periods):
        count = counts.get(period, 0)
        height = round(max(HEIGHT * count / tallest, LOWEST), 1) if count else 0
        label = month_abbr[int(period[5:])] if facet == "month" else period
        bars.append(Bar(facet, period, count, period in active, x=round(i * slot + slot * .1, 1),
                        y=round(HEIGHT - height, 1), width=round(slot * .8, 1), height=height,
                        label=label if _labelled(i, len(periods), every) else ""))
    return Timeline(facet, bars)
