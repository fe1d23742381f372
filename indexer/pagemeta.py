"""Article metadata from what a page says about itself: JSON-LD, ``<meta>`` tags, the
``<title>`` and ``<h1>``, ``<time>``, bylines, and the date in the URL."""

from __future__ import annotations

import html
import json
import re

from bs4 import BeautifulSoup

from .article import clean_line, http_url, parse_date

NEWS_TYPES = {"newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle",
              "blogposting", "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle",
              "socialmediaposting", "liveblogposting", "report", "webpage", "posting",
              "scholarlyarticle", "techarticle", "satiricalarticle", "askpublicnewsarticle"}
DATE_KEYS = ("article:published_time", "datepublished", "og:published_time", "pubdate",
             "publishdate", "publish-date", "publish_date", "published_time",
             "article.published", "dc.date.issued", "dcterms.created", "dc.date", "date",
             "sailthru.date", "parsely-pub-date", "cxenseparse:recs:publishtime",
             "article:published", "datecreated")
# Separators between a headline and the site's name in a <title>.
_TITLE_SEPARATOR = re.compile(r"\s+[|\-–—:·•»]\s+|\s+::\s+")
_NOT_ALNUM = re.compile(r"\W+")
_URL_DATE = re.compile(
    r"/((?:19|20)\d\d)[/-](0?[1-9]|1[0-2]|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    r"[/-](0?[1-9]|[12]\d|3[01])(?:/|[-_]|\.html?|$)", re.I)
_URL_DAY = re.compile(r"[/_-]((?:19|20)\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?:[/_.-]|$)")
_MONTHS = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_TEXT_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\.?\s+(?:{_MONTHS})\.?,?\s+\d{{4}}|"
    rf"(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{4}}-\d\d-\d\d)\b"
    r"(?:,?\s+(?:at\s+)?\d{1,2}[:.]\d\d(?:\s*[ap]\.?m\b\.?)?)?", re.I)
_UPDATED = re.compile(r"updat|modif|edited", re.I)
# Other meta tags that name a publication date: "sn-post-date", "pub_date", ...
_DATE_KEY = re.compile(r"(?:pub|post|creat|releas).{0,12}(?:date|time)|"
                       r"date.{0,3}(?:pub|post|creat|releas)", re.I)
_DATE_LINE_WORDS = {"published", "posted", "updated", "last", "on", "at", "am", "pm", "a.m",
                    "p.m", "date", "time", "", "|", "-", "–", "—", "•", "·", "/", "monday",
                    "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mon",
                    "tue", "wed", "thu", "fri", "sat", "sun"}
_CLOCK = re.compile(r"\d{1,2}[:.]\d\d(?::\d\d)?(?:[ap]\.?m\.?)?,?", re.I)
_BYLINE_END = re.compile(rf"\s(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|[|•·]|{_TEXT_DATE.pattern})",
                         re.I)
_ROLE = re.compile(r"\b(?:writer|correspondent|editor|reporter|staff|press|contributor|"
                   r"columnist|bureau|news)\b|\.(?:com|net|org|co)\b", re.I)
_NOT_NAMES = {"admin", "administrator", "editor", "staff", "guest", "anonymous"}
# Lower-case words in a list of names.
_NAME_WORDS = {"and", "&", "de", "da", "del", "der", "di", "du", "la", "le", "van", "von"}
_BY = re.compile(r"^\s*(?:written\s+|posted\s+)?by[:\s]+", re.I)


def json_ld_article(scripts: list[str]) -> dict:
    """The first JSON-LD object of a news or article type among ``scripts``, else {}."""
    for script in scripts:
        try:
            data = json.loads(script, strict=False)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                types = item.get("@type", [])
                types = types if isinstance(types, list) else [types]
                if any(str(t).lower() in NEWS_TYPES for t in types) and (
                        item.get("headline") or item.get("articleBody")):
                    return item
                stack.extend(v for k, v in item.items() if k in ("@graph", "mainEntity"))
    return {}


def first(*values) -> str:
    """The first non-empty value as plain text: entities that the page escaped twice are
    decoded, and markup inside a metadata value is reduced to its text."""
    for value in values:
        value = html.unescape(value or "")
        if "<" in value:
            fragment = BeautifulSoup(value, "lxml")
            for tag in fragment.find_all(["script", "style", "noscript", "template"]):
                tag.decompose()
            value = fragment.get_text(" ")
        value = clean_line(value)
        if value:
            return value
    return ""


def text_of(value) -> str:
    """The text of a JSON-LD value: a string, the first of a list, or an object's name/@id."""
    if isinstance(value, list):
        return next((t for t in map(text_of, value) if t), "")
    if isinstance(value, dict):
        return text_of(value.get("name") or value.get("@id") or value.get("url"))
    return str(value) if isinstance(value, (str, int, float)) else ""


def person(value) -> str:
    """Names from a JSON-LD author or publisher (one, or several joined by commas)."""
    values = value if isinstance(value, list) else [value]
    names = [not_url(text_of(v.get("name") if isinstance(v, dict) else v)) for v in values]
    return ", ".join(dict.fromkeys(n for n in names if n))


def not_url(value) -> str:
    return "" if not value or http_url(value) else value


def byline(candidates, site: str) -> str:
    """The names in the first of ``candidates`` that has some: without a leading "By",
    what follows a date or a separator, and a last part after a comma that is a job or
    the site ("Ana Silva, AP Writer", "Tom Lee, Example.com"); a CMS account such as
    "admin" is no name."""
    for candidate in candidates:
        text = _BY.sub("", first(candidate))
        end = _BYLINE_END.search(text)
        text = text[:end.start()] if end else text
        head, comma, last = text.rpartition(",")
        if comma and (_ROLE.search(last) or (_squash(last) and _squash(last) in _squash(site))):
            text = head
        text = text.strip(" ,;-–—|")
        if 0 < len(text) < 100 and text.lower() not in _NOT_NAMES:
            return text
    return ""


def is_byline_line(text: str) -> bool:
    """Whether ``text`` is "By" and a few names ("By Ana Silva and Tom Lee"), not a
    phrase ("By the numbers")."""
    words = text.replace(",", " ").split()
    return 1 < len(words) <= 12 and words[0].lower() == "by" and all(
        word[0].isupper() or word.lower() in _NAME_WORDS for word in words[1:])


def _squash(text: str) -> str:
    return _NOT_ALNUM.sub("", text.lower())


def title(candidates: list[str], headings: list[str], sites: list[str], url: str) -> str:
    """The headline: the first candidate, shortened to a heading of the page it contains
    (so "Opinion | Headline - Site" becomes "Headline"; ``headings`` come ``<h1>`` first)
    or completed by one it begins (a headline the site cut short in its metadata),
    else with the part that names the site (from ``sites`` or the URL's host) cut off its
    start or end."""
    raw = first(*candidates)
    if not raw:
        return first(*headings)
    folded = raw.casefold()
    for heading in headings:
        if heading and (len(heading) >= len(raw) / 2 and heading.casefold() in folded or
                        len(heading) < 2 * len(raw) and heading.casefold().startswith(folded)):
            return heading
    parts = _TITLE_SEPARATOR.split(raw)
    if len(parts) < 2:
        return raw
    host = re.sub(r"^www\d?\.", "", url.split("/")[2].lower()) if url.count("/") >= 2 else ""
    names = {_squash(s) for s in sites if s} | {_squash(host), _squash(host.split(".")[0])}
    names.discard("")

    def names_site(part: str) -> bool:
        part = _squash(part)
        return bool(part) and any(part == n or (len(part) > 3 and part in n) or
                                  (len(n) > 3 and n in part and len(part) <= 2 * len(n) + 2)
                                  for n in names)
    if names_site(parts[-1]):
        parts = parts[:-1]
    elif names_site(parts[0]):
        parts = parts[1:]
    return raw if not parts else _rejoin(raw, parts)


def _rejoin(raw: str, parts: list[str]) -> str:
    """The stretch of ``raw`` from the first of ``parts`` to the last."""
    start = raw.find(parts[0])
    end = raw.rfind(parts[-1]) + len(parts[-1])
    return raw[start:end].strip() if 0 <= start < end else raw


def url_date(url: str) -> str:
    """The date in a URL's path (/2019/11/18/, /2019/nov/18/, /2019-11-18-, -20191118/),
    else ""."""
    match = _URL_DATE.search(url or "") or _URL_DAY.search(url or "")
    return " ".join(match.groups()) if match else ""


def text_date(lines: list[str]) -> str:
    """The first date written out in one of ``lines`` ("November 18, 2019", "18 Nov 2019
    at 3:45 pm", "2019-11-18") that is not an update's, else ""."""
    for line in lines:
        if len(line) <= 120 and not _UPDATED.search(line):
            match = _TEXT_DATE.search(line)
            if match and parse_date(match.group()):
                return match.group()
    return ""


def is_date_line(text: str) -> bool:
    """Whether ``text`` is a date with nothing but words of a date line around it
    ("Published Nov. 20, 2019 6:02 AM EST", "Monday, November 18, 2019")."""
    match = _TEXT_DATE.search(text)
    if not match:
        return False
    others = (text[:match.start()] + " " + text[match.end():]).split()
    return all(word.strip(",:.()").lower() in _DATE_LINE_WORDS or _CLOCK.fullmatch(word)
               or (word.isupper() and len(word) <= 4) for word in others)


def date(ld: dict, meta: dict[str, str], times: list[str], urls: list[str],
         lines: list[str], scripts: list[str]) -> str:
    """The publication date as the page gives it: JSON-LD, the usual meta tags,
    ``<time>``, a date in one of ``urls``, a date written in the ``lines`` (those marked
    as the date, those by the headline), other meta tags that name one, another JSON-LD
    object's (a ClaimReview's), and last the date of an update."""
    return first(text_of(ld.get("datePublished")), *(meta.get(k) for k in DATE_KEYS),
                 *times, text_of(ld.get("dateCreated")), *map(url_date, urls),
                 text_date(lines), *(v for k, v in meta.items() if _DATE_KEY.search(k)),
                 _any_json_ld_date(scripts),
                 text_of(ld.get("dateModified")), meta.get("article:modified_time"))


def _any_json_ld_date(scripts: list[str]) -> str:
    """The first "datePublished" in any of the JSON-LD ``scripts``."""
    for script in scripts:
        match = re.search(r'"datePublished"\s*:\s*"([^"]{6,40})"', script)
        if match:
            return match.group(1)
    return ""


def tags(meta: dict[str, str], ld: dict) -> list[str]:
    raw = ",".join(filter(None, [meta.get("article:tag"), meta.get("news_keywords"),
                                 meta.get("keywords")]))
    keywords = ld.get("keywords")
    if isinstance(keywords, list):
        raw += "," + ",".join(map(text_of, keywords))
    elif isinstance(keywords, str):
        raw += "," + keywords
    return list(dict.fromkeys(t for t in map(clean_line, raw.split(",")) if t))
