"""Cleaning a saved news page into article fields with BeautifulSoup.

Metadata comes from the page's own markup, most trusted first: JSON-LD ``NewsArticle``,
Open Graph and other ``<meta>`` tags, microdata, ``<time>``, then visible text. The main
text is the block of paragraphs that scores best on text length, commas and link density,
after scripts, navigation, forms and boilerplate containers are dropped.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, Comment, Doctype, NavigableString, ProcessingInstruction, Tag

from .article import clean_line, clean_text, http_url

CODE_TAGS = ["script", "style", "noscript", "template"]
DROP_TAGS = [
    "nav", "header", "footer", "aside", "form",
    "iframe", "object", "embed", "svg", "canvas", "button", "select", "input", "textarea",
    "figure", "figcaption", "dialog", "menu", "link", "meta",
]
BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "div",
              "td", "dd", "dt", "section", "article", "main", "ul", "ol", "table"}
TEXT_BLOCKS = ["p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "div", "td", "dd"]
NEWS_TYPES = {"newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle",
              "blogposting", "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle",
              "socialmediaposting", "liveblogposting", "report", "webpage"}
_NEGATIVE = re.compile(
    r"share|social|related|newsletter|promo|advert|sponsor|comment|subscribe|cookie|"
    r"sidebar|breadcrumb|popup|modal|signup|sign-up|most-?read|most-?popular|recommend|"
    r"trending|outbrain|taboola|paywall|banner|masthead|toolbar|widget|byline|dateline|"
    r"caption|credit|author-bio|tags|skip", re.I)
_POSITIVE = re.compile(r"article|body|content|entry|main|post|story|text", re.I)


@dataclass
class CleanPage:
    """What was found in one page; empty strings where nothing was."""

    title: str = ""
    body: str = ""
    date: str = ""
    byline: str = ""
    section: str = ""
    source: str = ""
    url: str = ""
    description: str = ""
    tags: list[str] = field(default_factory=list)


def clean_html(markup: str) -> CleanPage:
    """Extract the article text and metadata from one HTML page."""
    soup = BeautifulSoup(markup, "lxml")
    ld = _json_ld_article(soup)
    for tag in soup.find_all(CODE_TAGS):
        tag.decompose()
    meta = _meta_tags(soup)
    page = CleanPage(
        title=_first(_text_of(ld.get("headline")), meta.get("og:title"),
                     meta.get("twitter:title"), _tag_text(soup.find("h1")),
                     _tag_text(soup.title)),
        date=_first(_text_of(ld.get("datePublished")), meta.get("article:published_time"),
                    meta.get("datepublished"), meta.get("pubdate"), meta.get("publishdate"),
                    meta.get("dc.date.issued"), meta.get("dc.date"), meta.get("date"),
                    meta.get("sailthru.date"), meta.get("parsely-pub-date"), _time_tag(soup)),
        byline=_first(_person(ld.get("author")), _not_url(meta.get("author")),
                      _not_url(meta.get("article:author")), meta.get("dc.creator"),
                      meta.get("sailthru.author"), meta.get("parsely-author"),
                      _visible_byline(soup)),
        section=_first(_text_of(ld.get("articleSection")), meta.get("article:section"),
                       meta.get("section"), meta.get("parsely-section")),
        source=_first(meta.get("og:site_name"), _person(ld.get("publisher")),
                      meta.get("application-name")),
        url=_first(*(http_url(u) for u in (_canonical(soup), meta.get("og:url"),
                                         _text_of(ld.get("url")),
                                         _text_of(ld.get("mainEntityOfPage"))))),
        description=_first(meta.get("description"), meta.get("og:description"),
                           _text_of(ld.get("description"))),
        tags=_tags(meta, ld),
    )
    body = _main_text(soup, page.title)
    ld_body = clean_text(_text_of(ld.get("articleBody")))
    if len(ld_body) > 2 * len(body):
        body = ld_body
    page.body = body
    return page


def _first(*values) -> str:
    """The first non-empty value as plain text: entities that the page escaped twice are
    decoded, and markup inside a metadata value is reduced to its text."""
    for value in values:
        value = html.unescape(value or "")
        if "<" in value:
            fragment = BeautifulSoup(value, "lxml")
            for tag in fragment.find_all(CODE_TAGS):
                tag.decompose()
            value = fragment.get_text(" ")
        value = clean_line(value)
        if value:
            return value
    return ""


def _text_of(value) -> str:
    """The text of a JSON-LD value: a string, the first of a list, or an object's name/@id."""
    if isinstance(value, list):
        return next((t for t in map(_text_of, value) if t), "")
    if isinstance(value, dict):
        return _text_of(value.get("name") or value.get("@id") or value.get("url"))
    return str(value) if isinstance(value, (str, int, float)) else ""


def _person(value) -> str:
    """Names from a JSON-LD author or publisher (one, or several joined by commas)."""
    values = value if isinstance(value, list) else [value]
    names = [_not_url(_text_of(v.get("name") if isinstance(v, dict) else v)) for v in values]
    return ", ".join(dict.fromkeys(n for n in names if n))


def _not_url(value) -> str:
    return "" if not value or http_url(value) else value


def _tag_text(tag) -> str:
    return tag.get_text(" ", strip=True) if tag else ""


def _json_ld_article(soup: BeautifulSoup) -> dict:
    """The first JSON-LD object of a news or article type in the page, else {}."""
    for script in soup.find_all("script", type=re.compile("ld\\+json", re.I)):
        try:
            data = json.loads(script.string or "", strict=False)
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


def _meta_tags(soup: BeautifulSoup) -> dict[str, str]:
    """The page's ``<meta>`` contents keyed by lower-cased property, name or itemprop.

    ``article:tag`` may repeat: its values are joined with commas.
    """
    found: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        key = (tag.get("property") or tag.get("name") or tag.get("itemprop") or "").lower()
        content = tag.get("content") or tag.get("datetime") or ""
        if not key or not content.strip():
            continue
        if key == "article:tag" and key in found:
            found[key] += "," + content
        else:
            found.setdefault(key, content)
    for tag in soup.find_all(attrs={"itemprop": re.compile("^datePublished$", re.I)}):
        if tag.name != "meta":
            found.setdefault("datepublished", tag.get("datetime") or tag.get("content")
                             or _tag_text(tag))
    return found


def _time_tag(soup: BeautifulSoup) -> str:
    time = soup.find("time", attrs={"datetime": True})
    return time["datetime"] if time else ""


def _canonical(soup: BeautifulSoup) -> str:
    link = soup.find("link", rel=lambda rel: rel and "canonical" in rel, href=True)
    return link["href"] if link else ""


def _visible_byline(soup: BeautifulSoup) -> str:
    for query in ({"rel": "author"}, {"itemprop": "author"},
                  {"class": re.compile(r"\bbyline\b|\bauthor-?name\b", re.I)}):
        tag = soup.find(attrs=query)
        text = _tag_text(tag)
        if text and len(text) < 100:
            return re.sub(r"^\s*by\s+", "", text, flags=re.I)
    return ""


def _tags(meta: dict[str, str], ld: dict) -> list[str]:
    raw = ",".join(filter(None, [meta.get("article:tag"), meta.get("news_keywords"),
                                 meta.get("keywords")]))
    keywords = ld.get("keywords")
    if isinstance(keywords, list):
        raw += "," + ",".join(map(_text_of, keywords))
    elif isinstance(keywords, str):
        raw += "," + keywords
    return list(dict.fromkeys(t for t in map(clean_line, raw.split(",")) if t))


def _drop_boilerplate(soup: BeautifulSoup) -> None:
    """Drop comments, non-content elements and containers whose class or id says
    boilerplate, except those holding most of the page's text (whole-page forms, or a
    "sidebar" class on the column the article is in)."""
    for node in soup.find_all(string=lambda s: isinstance(s, (Comment, Doctype,
                                                              ProcessingInstruction))):
        node.extract()
    page_text = len((soup.body or soup).get_text(" ", strip=True))
    for tag in soup.find_all(True):
        if tag.decomposed or tag.name in ("html", "body", "article", "main"):
            continue
        hints = " ".join(tag.get("class", [])) + " " + (tag.get("id") or "")
        if (tag.name in DROP_TAGS or tag.get("hidden") is not None
                or tag.get("aria-hidden") == "true"
                or (_NEGATIVE.search(hints) and not _POSITIVE.search(hints))) \
                and len(tag.get_text(" ", strip=True)) < 0.4 * page_text:
            tag.decompose()


def _link_density(tag: Tag) -> float:
    text = len(tag.get_text(strip=True)) or 1
    return sum(len(a.get_text(strip=True)) for a in tag.find_all("a")) / text


def _text_blocks(root: Tag):
    """The innermost block elements under ``root``: those that carry text of their own."""
    return (b for b in root.find_all(TEXT_BLOCKS) if not b.find(BLOCK_TAGS))


def _best_container(soup: BeautifulSoup) -> Tag | None:
    """The element holding the article's paragraphs, scored like Readability does."""
    scores: dict[int, float] = {}
    tags: dict[int, Tag] = {}
    for p in _text_blocks(soup):
        text = p.get_text(" ", strip=True)
        if len(text) < 25:
            continue
        score = 1 + text.count(",") + min(len(text) // 100, 3)
        for depth, ancestor in enumerate((p.parent, p.parent.parent if p.parent else None)):
            if ancestor is None or ancestor.name in ("html", "[document]"):
                break
            tags[id(ancestor)] = ancestor
            scores[id(ancestor)] = scores.get(id(ancestor), 0) + score / (1 + depth)
    for key, tag in tags.items():
        hints = " ".join(tag.get("class", [])) + " " + (tag.get("id") or "")
        bonus = 1.25 if tag.name in ("article", "main") or tag.get("itemprop") == "articleBody" \
            or _POSITIVE.search(hints) else 1
        scores[key] *= bonus * (1 - _link_density(tag))
    if not scores:
        return None
    best = tags[max(scores, key=scores.get)]
    # Sibling paragraphs split across several containers of one parent belong together.
    parent = best.parent
    if parent is not None and parent.name not in ("body", "html", "[document]") and \
            scores.get(id(parent), 0) > scores[id(best)]:
        best = parent
    return best


def _paragraphs(root: Tag) -> list[tuple[str, float]]:
    """The text of ``root`` split at block boundaries, in order, each paragraph with the
    share of its text inside links. Walks the tree without recursion, so that absurdly
    deep markup cannot exhaust the stack."""
    paragraphs, parts, link_chars = [], [], 0

    def flush():
        nonlocal link_chars
        text = clean_line("".join(parts))
        if text:
            paragraphs.append((text, min(link_chars / len(text), 1.0)))
        parts.clear()
        link_chars = 0

    stack = [(iter(root.children), False, 0)]
    while stack:
        children, is_block, in_link = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if is_block:
                flush()
        elif isinstance(child, NavigableString):
            parts.append(str(child))
            link_chars += len(child.strip()) if in_link else 0
        elif child.name == "br":
            flush()
        else:
            block = child.name in BLOCK_TAGS
            if block:
                flush()
            stack.append((iter(child.children), block, in_link + (child.name == "a")))
    flush()
    return paragraphs


def _main_text(soup: BeautifulSoup, title: str) -> str:
    _drop_boilerplate(soup)
    container = _best_container(soup) or soup.body or soup
    paragraphs = [text for text, links in _paragraphs(container)
                  if text != title and links <= 0.5]
    return "\n\n".join(dict.fromkeys(paragraphs))
