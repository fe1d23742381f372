"""What a search asks for: query, filters, sort and page, read from and written to URL
arguments, so that the whole state of a search is in its address."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

from .schema import FILTERS

SORTS = ("relevance", "newest", "oldest")
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 10
MAX_PAGE = 1000  # deepest page served: a deeper one means the search should be narrowed
MAX_PAGE_NUMBER = 10**9  # larger page numbers are read as this one


class RequestError(ValueError):
    """An argument of a search is not valid (reported to API clients as a 400)."""


@dataclass(frozen=True)
class SearchRequest:
    """One search: ``filters`` are (facet, value) pairs, values of one facet ORed."""

    q: str = ""
    filters: tuple[tuple[str, str], ...] = ()
    sort: str = "relevance"
    page: int = 1
    size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def from_args(cls, args: Mapping, strict: bool = False) -> "SearchRequest":
        """The request in URL arguments (a Flask ``request.args`` or a dict of lists).

        Numbers above their bound are lowered to it. Unreadable or too small numbers and
        unknown sorts are replaced by the defaults or, when ``strict``, raise RequestError.
        """
        def values(name):
            got = args.getlist(name) if hasattr(args, "getlist") else args.get(name, [])
            return [got] if isinstance(got, str) else list(got)

        def first(name, default):
            found = values(name)
            return found[0] if found else default

        sort = first("sort", "relevance")
        if sort not in SORTS:
            if strict:
                raise RequestError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
            sort = "relevance"
        return cls(
            q=first("q", ""),
            filters=tuple(sorted({(name, value) for name in FILTERS
                                  for value in values(name) if value})),
            sort=sort,
            page=_number(first("page", 1), "page", 1, MAX_PAGE_NUMBER, 1, strict),
            size=_number(first("size", DEFAULT_PAGE_SIZE), "size", 1, MAX_PAGE_SIZE,
                         DEFAULT_PAGE_SIZE, strict),
        )

    def args(self, **changes) -> dict:
        """URL arguments for this request with ``changes``, defaults left out."""
        request = replace(self, **changes)
        found: dict = {"q": request.q} if request.q else {}
        for name, value in request.filters:
            found.setdefault(name, []).append(value)
        if request.sort != "relevance":
            found["sort"] = request.sort
        if request.page != 1:
            found["page"] = request.page
        if request.size != DEFAULT_PAGE_SIZE:
            found["size"] = request.size
        return found

    def with_filter(self, name: str, value: str) -> "SearchRequest":
        """This search narrowed to ``value`` of facet ``name``, from its first page."""
        return replace(self, filters=tuple(sorted(set(self.filters) | {(name, value)})), page=1)

    def without_filter(self, name: str, value: str) -> "SearchRequest":
        return replace(self, filters=tuple(f for f in self.filters if f != (name, value)),
                       page=1)

    def filter_values(self, name: str) -> list[str]:
        return [value for facet, value in self.filters if facet == name]


def _number(value, name: str, low: int, high: int, default: int, strict: bool) -> int:
    """``value`` as a whole number within [low, high] (see SearchRequest.from_args)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        if strict:
            raise RequestError(f"{name} must be a whole number, not {value!r}") from None
        return default
    if strict and number < low:
        raise RequestError(f"{name} must be at least {low}, not {number}")
    return max(low, min(number, high))
