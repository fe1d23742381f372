"""The clean article record every source is turned into, and its normalisation."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone

from dateutil import parser as dateparser

MIN_YEAR = 1700
_NO_DATE = datetime(1, 1, 1)
_HTTP_URL = re.compile(r"https?://[^\s]+$", re.I)
_BLANK_LINES = re.compile(r"\n\s*\n+")
# C0/C1 control characters other than tab and newline never belong in article text.
_LANGUAGE = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_line(text: str | None) -> str:
    """NFC-normalise ``text`` and collapse all whitespace into single spaces."""
    if not text:
        return ""
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", str(text)))
    return " ".join(text.split())


def clean_text(text: str | None) -> str:
    """NFC-normalise a body: paragraphs separated by one blank line, the whitespace in
    each (line breaks too) collapsed into single spaces."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = (" ".join(p.split()) for p in _BLANK_LINES.split(_CONTROL.sub(" ", text)))
    return "\n\n".join(p for p in paragraphs if p)


def language_code(value: str | None) -> str:
    """The primary language subtag of a language tag ("en" of "en-GB"), lower case; ""
    when ``value`` is no language tag."""
    found = _LANGUAGE.fullmatch((value or "").strip())
    return found.group(1).lower() if found else ""


def http_url(value: str | None) -> str:
    """``value`` if it is an http(s) URL, else "" (so no ``javascript:`` or ``data:``)."""
    value = clean_line(value)
    return value if _HTTP_URL.match(value) else ""


def parse_date(value) -> datetime | None:
    """Parse a publication date into a timezone-aware datetime (UTC when none is given).

    Returns None for anything that is not a plausible date (no year, before MIN_YEAR,
    or more than a year ahead), instead of raising.
    """
    if isinstance(value, datetime):
        parsed = value
    elif value is None or not str(value).strip():
        return None
    else:
        text = str(value).strip()
        try:  # ISO 8601, as most records write dates, read at once
            parsed = datetime.fromisoformat(text)
        except ValueError:
            try:
                # Missing parts default to year 1, so a date without a year is rejected
                # below.
                parsed = dateparser.parse(text, default=_NO_DATE)
            except (ValueError, OverflowError, TypeError):
                return None
    if not MIN_YEAR <= parsed.year <= datetime.now().year + 1:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


@dataclass
class Article:
    """One cleaned article, ready to be indexed. Text is normalised on creation, and a
    URL that is not http(s) (``javascript:``, ``data:``) is dropped."""

    id: str
    title: str
    body: str
    published: datetime | None = None
    byline: str = ""
    section: str = ""
    source: str = ""
    tags: list[str] = field(default_factory=list)
    url: str = ""
    description: str = ""
    path: str = ""
    language: str = ""  # the primary language subtag, as "en"
    record: str = ""  # a digest of the record it was read from (indexer.sources)

    def __post_init__(self):
        self.id = clean_line(self.id)
        self.title = clean_line(self.title)
        self.body = clean_text(self.body)
        self.byline = clean_line(self.byline)
        self.section = clean_line(self.section)
        self.source = clean_line(self.source)
        self.url = http_url(self.url)
        self.description = clean_line(self.description)
        self.language = language_code(self.language)
        self.tags = sorted({clean_line(t) for t in self.tags if clean_line(t)})

    @property
    def content_hash(self) -> str:
        """A digest of everything indexed about the article except where it was read from."""
        parts = [
            self.id, self.title, self.body,
            self.published.isoformat() if self.published else "",
            self.byline, self.section, self.source, "\x1f".join(self.tags),
            self.url, self.description, self.language,
        ]
        return hashlib.sha1("\x1e".join(parts).encode("utf-8")).hexdigest()
