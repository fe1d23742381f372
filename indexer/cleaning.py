"""Cleaning a saved news page into article fields with BeautifulSoup (lxml parser).

One walk over the tree, without recursion (so absurdly deep markup cannot exhaust the
stack), gathers the page's metadata and its text split at block boundaries. Metadata
comes from the page's own markup, most trusted first (see :mod:`indexer.pagemeta`). The
main text is chosen the way Readability does: each paragraph scores its parent and
further ancestors by its length and commas; the best container (less its share of link
text, more for hints such as "article-body") is kept, with an ancestor that holds other
near-best ones, siblings that score nearly as well and containers of its class. Inside
them, blocks whose class, id, role or tag says boilerplate (share bars, "related" boxes,
newsletter sign-ups, captions), link lists, bylines, date lines and stock phrases are
dropped. A JSON-LD ``articleBody`` more than twice as long replaces the text found.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

from bs4 import (BeautifulSoup, MarkupResemblesLocatorWarning, NavigableString, Tag,
                 XMLParsedAsHTMLWarning)
from bs4.element import PreformattedString

from . import pagemeta as pm
from .article import clean_line, clean_text, http_url

# Saved pages are read as HTML whatever they look like.
warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)
warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)

# Never text: their subtrees are not walked.
SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "math", "iframe", "object",
             "embed", "canvas", "button", "select", "input", "textarea", "option", "dialog",
             "menu", "audio", "video", "picture", "map", "link", "meta", "title"}
# Page furniture, unless it holds the article (a page wrapped in one <form>).
FURNITURE_TAGS = {"nav", "header", "footer", "aside", "form", "figure", "figcaption"}
BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "div",
              "td", "th", "tr", "dd", "dt", "dl", "section", "article", "main", "ul", "ol",
              "table", "center", "address", "body", "nav", "header", "footer", "aside",
              "form", "figure", "figcaption", "hr", "details", "summary", "fieldset", "caption"}
_NEGATIVE = re.compile(
    r"share|sharing|social|related|newsletter|promo|advert|\bads?\b|sponsor|comment|"
    r"subscri|cookie|consent|sidebar|breadcrumb|popup|modal|signup|sign-up|most-?read|"
    r"most-?popular|recommend|trending|outbrain|taboola|paywall|banner|masthead|toolbar|"
    r"widget|byline|dateline|timestamp|\bdate\b|caption|credit|author|bio\b|tags|skip|"
    r"footer|header|"
    r"\bnav|menu|more-?stories|read-?more|read-?next|see-?also|\bprint|disclaimer|"
    r"copyright|visually-hidden|sr-only|screen-reader|inline-?link|embed|gallery|video|"
    r"player|follow|donate|teaser|pagination|pager|\bcard|\blist-?item")
_POSITIVE = re.compile(r"article|body|content|entry|main|post|story|text|blog|chapter")
_NEGATIVE_ROLES = {"navigation", "banner", "contentinfo", "complementary", "dialog",
                   "alert", "alertdialog", "menu", "menubar", "search", "toolbar", "tablist"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_COMMAS = re.compile(r"[,，、،]")
# Stock phrases that stand alone in a paragraph inside articles and are never the story.
_STOCK = re.compile(
    r"^(advert(isement|ising)?|sponsored|related( articles?| stories| coverage)?|"
    r"\d* ?comments?|leave a (reply|comment).*|tell us what you think.*|"
    r"(this \w+ requires|please enable|you need to enable) javascript.*|"
    r"read (more|next|also)|see also|more:?|share( this( article| story)?)?|"
    r"(click|tap) here\b.*|sign up\b.*|subscribe\b.*|follow us\b.*|"
    r"(image|photo|video|watch|listen)s?:.*|(image|photo|video) (credit|courtesy).*|"
    r"this (story|article) (has been|was) (updated|corrected).*|"
    r"copyright\s*(©|\(c\)|\d{4}).*|all rights reserved.*|©.*|story continues.*|"
    r"continue reading.*|recommended( for you| stories| articles| reading)?:?|"
    r"also read\b.*|"
    r"follow .{0,80}\b(facebook|twitter|instagram|linkedin|newsletter)\b.*|"
    r"(getty|ap|afp|reuters) images?\W*)$", re.I)
# Prose with links in it, not a list of links: a long text that ends a sentence.
_SENTENCES = re.compile(r"^.{60,}[.!?][\"'”’)]?$", re.S)
STOCK_MAX = 120  # longest paragraph checked against the stock phrases
# A photo caption ends with its credit: "... (credit: NASA)", "... (Photo: AP)".
_CAPTION = re.compile(r"\((photo(graph)?s?|images?|pictures?|credits?|fotos?)\s*"
                      r"(credit|by|courtesy)?\s*:[^()]*\)$", re.I)


MAX_MARKUP = 1_000_000
_CODE_START = re.compile(r"<(script|style)\b[^>]*>|<!--", re.I)
_CODE_END = {"script": re.compile(r"</script\s*>", re.I),
             "style": re.compile(r"</style\s*>", re.I), None: re.compile("-->")}


def _without_code(markup: str) -> str:
    """``markup`` without comments, styles and scripts other than JSON-LD, cut the way
    an HTML parser ends them (the first closing tag; an unclosed one runs to the end).
    Linear in the length of the page, however many are left unclosed."""
    kept, at = [], 0
    while match := _CODE_START.search(markup, at):
        kept.append(markup[at:match.start()])
        name = match.group(1) and match.group(1).lower()
        end = _CODE_END[name].search(markup, match.end())
        at = end.end() if end else len(markup)
        if name == "script" and "ld+json" in match.group().lower():
            kept.append(markup[match.start():at])
    kept.append(markup[at:])
    return "".join(kept)


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
    language: str = ""
    tags: list[str] = field(default_factory=list)


@dataclass
class _Paragraph:
    position: int  # where in the walk it ended (see _Element)
    text: str
    links: float  # share of its text inside links
    tag: str  # the innermost block it is in
    noise: "_Element | None"  # the innermost boilerplate element it is in


class _Element:
    """An element met in the walk: its span of positions (every element entered or left
    moves the position on, so a paragraph is inside an element when its position is in
    [start, end)), its text and link text lengths, and its score as a container."""

    __slots__ = ("tag", "parent", "start", "end", "chars", "link_chars", "score", "hints",
                 "block")

    def __init__(self, tag: Tag, parent: "_Element | None", start: int, hints: str,
                 block: bool):
        self.tag, self.parent, self.start, self.end = tag, parent, start, start
        self.chars = self.link_chars = 0
        self.score = 0.0
        self.hints, self.block = hints, block

    def link_density(self) -> float:
        return min(self.link_chars / self.chars, 1.0) if self.chars else 0.0

    def contains(self, position: int) -> bool:
        return self.start <= position < self.end


class _Walk:
    """Metadata and paragraphs of a page, gathered in one walk over its tree."""

    def __init__(self, soup: BeautifulSoup):
        self.meta: dict[str, str] = {}
        self.json_ld: list[str] = []
        self.titles: list[str] = []
        self.canonical = ""
        self.language = ""
        self.times: list[str] = []
        self.bylines: list[Tag] = []
        self.dates: list[Tag] = []  # elements whose class says publication date
        self.paragraphs: list[_Paragraph] = []
        self.headings: list[tuple[bool, str]] = []  # (not an <h1>, text)
        self.candidates: list[_Element] = []
        self._walk(soup)

    def by_headline(self, title: str) -> list[str]:
        """The paragraphs just before and after the headline (the title, else the first
        ``<h1>``), where pages put the byline and the date."""
        at = next((i for i, p in enumerate(self.paragraphs) if p.text == title), None)
        if at is None:
            at = next((i for i, p in enumerate(self.paragraphs) if p.tag == "h1"), None)
        return [] if at is None else [p.text for p in self.paragraphs[max(at - 5, 0):at + 15]]

    def _collect(self, tag: Tag, name: str, attrs: dict) -> None:
        """Note the metadata an element carries."""
        if name == "meta":
            key = (attrs.get("property") or attrs.get("name") or attrs.get("itemprop")
                   or attrs.get("http-equiv") or "").lower()
            content = attrs.get("content") or attrs.get("datetime") or ""
            if key and content.strip():
                if key == "article:tag" and key in self.meta:
                    self.meta[key] += "," + content
                else:
                    self.meta.setdefault(key, content)
        elif name == "script":
            if "ld+json" in (attrs.get("type") or "").lower():
                self.json_ld.append(tag.string or "")
        elif name == "title":
            self.titles.append(tag.get_text())
        elif name == "link":
            if "canonical" in (attrs.get("rel") or "").lower().split() and not self.canonical:
                self.canonical = attrs.get("href") or ""
        elif name == "html":
            self.language = attrs.get("lang") or attrs.get("xml:lang") or ""
        elif name == "time" and attrs.get("datetime"):
            self.times.append(attrs["datetime"])
        itemprop = (attrs.get("itemprop") or "").lower()
        if itemprop == "datepublished" and name != "meta":
            self.meta.setdefault("datepublished", attrs.get("datetime") or attrs.get("content")
                                 or tag.get_text(" "))
        if (itemprop == "author" or "author" in (attrs.get("rel") or "").lower()
                or _is_byline(attrs.get("class") or "")) and len(self.bylines) < 10:
            self.bylines.append(tag)
        if _is_date(attrs.get("class") or "") and len(self.dates) < 10:
            self.dates.append(tag)

    def _walk(self, soup: BeautifulSoup) -> None:
        position = 0
        parts: list[str] = []
        link_chars = 0
        root = self.root = _Element(soup, None, 0, "", True)
        # Each frame: the innermost element with a record of its own (blocks and
        # boilerplate), the children left to walk, the innermost block, the innermost
        # boilerplate element, whether inside a link, whether the frame owns the record.
        stack = [(root, iter(soup.contents), root, None, False, True)]

        def flush(block: _Element, noise, at: int) -> None:
            nonlocal link_chars
            if not parts:
                return
            text = clean_line("".join(parts))
            if text:
                self.paragraphs.append(_Paragraph(at, text, min(link_chars / len(text), 1.0),
                                                  block.tag.name, noise))
                if block.tag.name in _HEADING_TAGS and len(self.headings) < 40:
                    self.headings.append((block.tag.name != "h1", text))
                self._score(block, text)
            parts.clear()
            link_chars = 0

        while stack:
            element, children, block, noise, in_link, owner = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                if owner:
                    if element.block:
                        flush(element, noise, position)
                    position += 1
                    element.end = position
                    if element.parent is not None:
                        element.parent.chars += element.chars
                        element.parent.link_chars += element.link_chars
                continue
            if type(child) is not Tag:
                if isinstance(child, NavigableString) and \
                        not isinstance(child, PreformattedString):
                    parts.append(child)
                    size = len(child.strip())
                    element.chars += size
                    if in_link:
                        element.link_chars += size
                        link_chars += size
                continue
            name, attrs = child.name, child.attrs
            if name in _METADATA_TAGS or (attrs and (
                    "itemprop" in attrs or "author" in (attrs.get("rel") or "")
                    or _is_marked(attrs.get("class") or ""))):
                self._collect(child, name, attrs)
            if name in SKIP_TAGS:
                continue
            if name == "br":
                flush(block, noise, position)
                continue
            hints = ""
            is_noise = name in FURNITURE_TAGS
            if attrs:
                if "hidden" in attrs or ("style" in attrs and _HIDDEN_STYLE.search(attrs["style"])):
                    continue
                hints = (f"{attrs.get('class') or ''} {attrs.get('id') or ''} "
                         f"{attrs.get('itemprop') or ''}")
                is_noise = (is_noise or _is_noise(hints)
                            or (attrs.get("role") or "").lower() in _NEGATIVE_ROLES
                            or attrs.get("aria-hidden") == "true")
            is_block = name in BLOCK_TAGS
            link = in_link or name == "a"
            if not (is_block or is_noise):
                stack.append((element, iter(child.contents), block, noise, link, False))
                continue
            if is_block:
                flush(block, noise, position)
            position += 1
            new = _Element(child, element, position, hints, is_block)
            stack.append((new, iter(child.contents), new if is_block else block,
                          new if is_noise else noise, link, True))
        flush(root, None, position)

    def _score(self, block: _Element, text: str) -> None:
        """Add a paragraph's score to its block's parent and further ancestors."""
        if len(text) < 25:
            return
        score = 1 + len(_COMMAS.findall(text)) + min(len(text) // 100, 3)
        ancestor = block.parent if block.tag.name in _PARAGRAPH_TAGS else block
        for level in range(5):
            if ancestor is None or ancestor.parent is None:
                break
            if not ancestor.score:
                self.candidates.append(ancestor)
            ancestor.score += score / (1 if level == 0 else 2 if level == 1 else level * 3)
            ancestor = ancestor.parent


_HEADING_TAGS = {"h1", "h2", "h3", "dt"}
_METADATA_TAGS = {"meta", "script", "title", "link", "html", "time"}
_PARAGRAPH_TAGS = {"p", "pre", "td", "blockquote", "li", "h2", "h3", "h4", "h5", "h6", "dd"}


@lru_cache(maxsize=4096)
def _is_noise(hints: str) -> bool:
    """Whether class and id name boilerplate: a negative word and no positive one, or a
    name that ends in a negative word ("story-byline", "article__share")."""
    hints = hints.lower()
    if not _NEGATIVE.search(hints):
        return False
    return not _POSITIVE.search(hints) or any(
        _NEGATIVE.search(_LAST_PART.split(name)[-1]) for name in hints.split())


_LAST_PART = re.compile(r"[-_]+")


@lru_cache(maxsize=4096)
def _is_marked(classes: str) -> bool:
    """Whether a class names a byline or a publication date."""
    return _is_byline(classes) or _is_date(classes)


@lru_cache(maxsize=4096)
def _is_date(classes: str) -> bool:
    return bool(re.search(r"publish|pubdate|post-?date|entry-?date|article-?date", classes,
                          re.I))


@lru_cache(maxsize=4096)
def _is_byline(classes: str) -> bool:
    return bool(re.search(r"\bbyline\b|\bauthor-?name\b|\bbyline__", classes, re.I))


@lru_cache(maxsize=4096)
def _hint_weight(hints: str, name: str) -> float:
    hints, weight = hints.lower(), 1.0
    if name in ("article", "main") or _POSITIVE.search(hints):
        weight *= 1.25
    if _NEGATIVE.search(hints):
        weight *= 0.75
    return weight


def clean_html(markup: str) -> CleanPage:
    """Extract the article text and metadata from one HTML page.

    Comments, scripts (but JSON-LD) and styles are cut out before parsing, and of what is
    left only the first MAX_MARKUP characters are read, so that time is bounded on any
    page: a real article page is far smaller.
    """
    markup = _without_code(markup)[:MAX_MARKUP]
    soup = BeautifulSoup(markup, "lxml", multi_valued_attributes=None)
    walk = _Walk(soup)
    meta = walk.meta
    ld = pm.json_ld_article(walk.json_ld)
    url = pm.first(*(http_url(u) for u in (walk.canonical, meta.get("og:url"),
                                           pm.text_of(ld.get("url")),
                                           pm.text_of(ld.get("mainEntityOfPage")))))
    source = pm.first(*map(pm.not_url, (meta.get("og:site_name"), pm.person(ld.get("publisher")),
                                        meta.get("application-name"))),
                      meta.get("twitter:site", "").lstrip("@")).split(" | ")[0]
    title = pm.title([pm.text_of(ld.get("headline")), meta.get("og:title"),
                      meta.get("twitter:title"), meta.get("title"), *walk.titles],
                     [text for _, text in sorted(walk.headings, key=lambda h: h[0])], [source], url)
    page = CleanPage(
        title=title,
        date=pm.date(ld, meta, walk.times, [url, meta.get("og:url", "")],
                     [_first_line(t) for t in walk.dates] + walk.by_headline(title),
                     walk.json_ld),
        byline=pm.byline([pm.person(ld.get("author")), pm.not_url(meta.get("author")),
                          pm.not_url(meta.get("article:author")), meta.get("dc.creator"),
                          meta.get("sailthru.author"), meta.get("parsely-author"),
                          *map(_first_line, walk.bylines)], source),
        section=pm.first(pm.text_of(ld.get("articleSection")), meta.get("article:section"),
                         meta.get("section"), meta.get("parsely-section")),
        source=source,
        url=url,
        description=pm.first(meta.get("description"), meta.get("og:description"),
                             pm.text_of(ld.get("description"))),
        language=pm.first(walk.language, meta.get("content-language"),
                          pm.text_of(ld.get("inLanguage")), meta.get("og:locale")
                          ).replace("_", "-"),
        tags=pm.tags(meta, ld),
    )
    body = _main_text(walk, title)
    ld_body = clean_text(pm.text_of(ld.get("articleBody")))
    if len(ld_body) > 2 * len(body):
        body = ld_body
    page.body = body
    return page


def _first_line(tag: Tag) -> str:
    """The text of ``tag`` up to its first line break or block that follows some text
    (a byline's names, not the date or the agency on the next line)."""
    parts: list[str] = []
    for node in tag.descendants:
        if isinstance(node, Tag):
            if (node.name == "br" or node.name in BLOCK_TAGS) and "".join(parts).strip():
                break
        elif not isinstance(node, PreformattedString) and node.parent.name not in SKIP_TAGS:
            parts.append(node)
            if sum(map(len, parts)) > 200:
                break
    return "".join(parts)


def _best(walk: _Walk) -> list[_Element]:
    """The elements that hold the article, in document order: the best-scoring container,
    its siblings that score nearly as well and containers of its class."""
    if not walk.candidates:
        return []
    for candidate in walk.candidates:
        candidate.score *= (1 - candidate.link_density()) * \
            _hint_weight(candidate.hints, candidate.tag.name)
    ranked = sorted(walk.candidates, key=lambda c: c.score, reverse=True)
    best = ranked[0]
    # An article split into several columns: the nearest ancestor of the best container
    # that also holds two other near-best ones holds the whole article.
    rivals = [set(_ancestors(c)) for c in ranked[1:5] if c.score >= 0.75 * best.score]
    if len(rivals) >= 2:
        best = next((a for a in _ancestors(best)[1:]
                     if a.parent is not None and sum(a in r for r in rivals) >= 2), best)
    # Climb while the parent scores higher (paragraphs spread over its children).
    parent = best.parent
    while parent is not None and parent.parent is not None and parent.score > best.score:
        best, parent = parent, parent.parent
    if best.parent is None:
        return [best]
    # Siblings that score well, and containers of the best one's class elsewhere (an
    # article interrupted by a box and resumed).
    threshold = max(10.0, best.score * 0.2)
    chosen = sorted((c for c in walk.candidates if c is best or (
        c.score >= threshold and (c.parent is best.parent or
                                  (best.hints.strip() and c.hints == best.hints)))),
                    key=lambda c: c.start)
    outermost: list[_Element] = []
    for candidate in chosen:
        if not outermost or candidate.start >= outermost[-1].end:
            outermost.append(candidate)
    return outermost


def _ancestors(element: _Element, limit: int = 50) -> list[_Element]:
    """``element`` and up to ``limit`` of its ancestors, nearest first."""
    found = []
    while element is not None and len(found) <= limit:
        found.append(element)
        element = element.parent
    return found


def _main_text(walk: _Walk, title: str) -> str:
    """The text of the paragraphs in the chosen containers, less boilerplate."""
    chosen = iter(_best(walk) or [walk.root])  # in document order, none inside another
    holder = next(chosen)
    kept = []
    for paragraph in walk.paragraphs:
        while holder is not None and paragraph.position >= holder.end:
            holder = next(chosen, None)
        if holder is None:
            break
        if not holder.contains(paragraph.position):
            continue
        noise = paragraph.noise
        if noise is not None and noise.start > holder.start and \
                noise.chars < 0.4 * holder.chars:
            continue
        text = paragraph.text
        if not (text == title or _CAPTION.search(text)
                or (paragraph.links > 0.5 and not _SENTENCES.search(text))
                or (len(text) <= STOCK_MAX and (_STOCK.match(text) or pm.is_byline_line(text)
                                                or pm.is_date_line(text)))):
            kept.append(text)
    return "\n\n".join(kept)
