"""Finding source files and reading them into articles.

Formats, by file extension:

- ``.html``/``.htm``: one article per saved page, cleaned by :mod:`indexer.cleaning`.
- ``.jsonl``: one article per line, a JSON object with the keys in ``JSONL_KEYS``.
- ``.txt``: one article: the first line is the title, the rest the body.
- ``.sgm``/``.sgml``: newswire in the SGML of the Reuters-21578 collection, one article
  per ``<REUTERS>`` element.

Any of these may be compressed (``.gz``, ``.bz2``, ``.xz``). Anything else is skipped with
a reason, as is a file or line that cannot be read.

Each article is read from a record, named by a digest of its text and place
(:func:`record_digest`), so that a reader given the digests of records read before need
not read them again: a line of a JSON Lines file and its number, a story of an SGML file,
or the whole text of a file of one article.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import re
from dataclasses import dataclass, replace
from functools import cached_property, partial
from pathlib import Path
from typing import Iterator, Mapping

from bs4 import BeautifulSoup

from .article import Article, http_url, parse_date
from .cleaning import clean_html
from .decoding import DecodeError, decode

# Accepted keys of a JSON Lines record; ``body`` or ``html`` holds the text.
JSONL_KEYS = ("id", "title", "body", "html", "date", "url", "byline", "section", "source",
              "tags", "description", "language")


@dataclass(frozen=True)
class Skip:
    """A file, or a line of one, that was not indexed, and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True)
class SourceFile:
    """A file to read, with the root it was found under (for path-based ids)."""

    path: Path
    root: Path

    @property
    def format(self) -> str:
        """The extension that names the format, behind any compression suffix."""
        suffixes = [s.lower() for s in self.path.suffixes] or [""]
        return suffixes[-2] if suffixes[-1] in DECOMPRESS and len(suffixes) > 1 else suffixes[-1]

    @cached_property  # each record's digest takes it in
    def name(self) -> str:
        """The path relative to its root, or the file name when given directly."""
        if self.root == self.path:
            return self.path.name
        return self.path.relative_to(self.root).as_posix()


@dataclass(frozen=True)
class Known:
    """A record left unread because its digest was given as known, and what it was
    given as: the content hash of the article it was read as before."""

    record: str  # the digest
    content_hash: str


class SourceError(ValueError):
    """The whole file cannot be read as articles."""


def find_sources(paths, exclude: Path | None = None) -> Iterator[SourceFile | Skip]:
    """Source files under ``paths`` (directories recursively, hidden ones and ``exclude``
    left out), in a stable order; a Skip for each unsupported or missing one."""
    exclude = exclude.resolve() if exclude else None
    for given in paths:
        root = Path(given).resolve()
        if root.is_dir():
            for directory, subdirs, files in os.walk(root):
                subdirs[:] = sorted(d for d in subdirs if not d.startswith(".")
                                    and Path(directory, d) != exclude)
                for name in sorted(files):
                    if not name.startswith("."):
                        yield _source(Path(directory) / name, root)
        elif root.is_file():
            yield _source(root, root)
        else:
            yield Skip(str(given), "no such file or directory")


def _source(path: Path, root: Path) -> SourceFile | Skip:
    source = SourceFile(path, root)
    if source.format in READERS:
        return source
    return Skip(str(path), f"unsupported file type {source.format or '(no extension)'}")


def read_articles(source: SourceFile, data: bytes, known: Mapping[str, str] | None = None
                  ) -> tuple[list[Article | Known], list[Skip]]:
    """The articles in one file's bytes, and a Skip for each part that is not one. Each
    article has the digest of the record it was read from as ``record``; a record whose
    digest ``known`` maps to the content hash of its article is not read but given as a
    Known.

    Raises SourceError when nothing in the file can be read.
    """
    compression = source.path.suffix.lower()
    if compression in DECOMPRESS:
        data = _decompress(data, compression)
    if not data.strip():
        raise SourceError("empty file")
    try:
        text = decode(data, is_html=source.format in (".html", ".htm"))
    except DecodeError as error:
        raise SourceError(str(error)) from None
    known = known or {}
    articles, skips = [], []
    for where, record, read in READERS[source.format](source, text):
        digest = record_digest(source, record)
        if digest in known:
            articles.append(Known(digest, known[digest]))
            continue
        article = read()
        if isinstance(article, str):
            skips.append(Skip(where, article))
        elif not article.title and not article.body:
            skips.append(Skip(where, "empty article (no title or text)"))
        elif len(article.id) > MAX_LINE_CHARS:
            skips.append(Skip(where, f"id longer than {MAX_LINE_CHARS} characters"))
        else:
            article = _bounded(article)
            article.record = digest
            articles.append(article)
    return articles, skips


def record_digest(source: SourceFile, record: str) -> str:
    """A digest of a record's text and place in ``source``, and of the name the file has
    under its root, which ids may be made of."""
    return hashlib.blake2b(f"{source.name}\n{record}".encode("utf-8", "surrogatepass"),
                           digest_size=8).hexdigest()


def _bounded(article: Article) -> Article:
    """``article`` with its text cut to MAX_BODY_CHARS and its title and other one-line
    fields to MAX_LINE_CHARS, at a space: a record or file can hold any amount, an
    article does not, and memory and time to index it grow with its size."""
    lines = {name: getattr(article, name) for name in (
        "title", "byline", "section", "source", "description")}
    if len(article.body) <= MAX_BODY_CHARS and len(article.tags) <= MAX_TAGS and all(
            len(text) <= MAX_LINE_CHARS for text in [*lines.values(), *article.tags]):
        return article
    return replace(article, body=_cut(article.body, MAX_BODY_CHARS),
                   tags=[_cut(tag, MAX_LINE_CHARS) for tag in article.tags[:MAX_TAGS]],
                   **{name: _cut(text, MAX_LINE_CHARS) for name, text in lines.items()})


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit + 1].rsplit(" ", 1)[0][:limit]


def _decompress(data: bytes, compression: str) -> bytes:
    """The decompressed bytes, at most MAX_DECOMPRESSED of them."""
    try:
        with DECOMPRESS[compression](io.BytesIO(data)) as stream:
            data = stream.read(MAX_DECOMPRESSED + 1)
    except (OSError, EOFError, lzma.LZMAError) as error:
        raise SourceError(f"cannot decompress ({error})") from None
    if len(data) > MAX_DECOMPRESSED:
        raise SourceError(f"decompresses to more than {MAX_DECOMPRESSED >> 20} MB")
    return data


# Each reader yields, for each part of a file: where it is (for a Skip), the text and place
# of the record, and a function that reads it as an Article (or as the reason it is none).

def _read_html(source: SourceFile, text: str):
    yield str(source.path), text, partial(_page_article, source, text)


def _page_article(source: SourceFile, text: str) -> Article:
    page = clean_html(text)
    return Article(
        id=page.url or source.name, title=page.title, body=page.body,
        published=parse_date(page.date), byline=page.byline, section=page.section,
        source=page.source, tags=page.tags, url=page.url, description=page.description,
        path=str(source.path), language=page.language)


def _read_text(source: SourceFile, text: str):
    title, _, body = text.strip().partition("\n")
    yield str(source.path), text, partial(Article, id=source.name, title=title, body=body,
                                        path=str(source.path))


def _read_jsonl(source: SourceFile, text: str):
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield (f"{source.path}:{number}", f"{number}\n{line}",
                   partial(_line_article, source, number, line))


def _line_article(source: SourceFile, number: int, line: str) -> Article | str:
    try:
        record = json.loads(line, object_hook=_whole_characters)
    except ValueError as error:
        return f"not valid JSON ({error.msg})"
    if not isinstance(record, dict):
        return "not a JSON object"
    return _record_article(record, source, number)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _whole_characters(record: dict) -> dict:
    """``record`` with the halves of characters that JSON escapes can write (and no text
    can hold) replaced by U+FFFD, in its strings and lists of strings."""
    def whole(value):
        if isinstance(value, str):
            return _SURROGATE.sub("\ufffd", value)
        return [whole(v) for v in value] if isinstance(value, list) else value
    return {key: whole(value) for key, value in record.items()}


def _record_article(record: dict, source: SourceFile, number: int) -> Article:
    """An article from a JSON Lines record; an ``html`` value is cleaned like a page."""
    fields = {key: record.get(key) for key in JSONL_KEYS}
    page = clean_html(fields["html"]) if isinstance(fields["html"], str) and \
        not fields["body"] else None
    tags = fields["tags"] or (page.tags if page else [])
    if isinstance(tags, str):
        tags = tags.split(",")

    def pick(key):
        value = fields[key]
        return str(value) if value not in (None, "") else getattr(page, key, "") or ""

    return Article(
        id=pick("id") or http_url(pick("url")) or f"{source.name}#{number}",
        title=pick("title"), body=pick("body"), published=parse_date(pick("date")),
        byline=pick("byline"), section=pick("section"), source=pick("source"),
        tags=[str(t) for t in tags if isinstance(t, (str, int, float))],
        url=pick("url"), description=pick("description"), path=str(source.path),
        language=pick("language"))


# A story runs to its end tag, or else to the next story or the end of the file.
_REUTERS_STORY = re.compile(r"<REUTERS\b.*?(?:</REUTERS\s*>|(?=<REUTERS\b)|\Z)", re.S | re.I)
_REUTERS_NEWID = re.compile(r"""<REUTERS\b[^>]*?\bNEWID\s*=\s*["']?([^"'\s>]*)""", re.I)
_REUTERS_PARAGRAPH = re.compile(r"\n {2,}")
_REUTERS_SIGN_OFF = re.compile(r"\s*Reuter\W*$")


def _read_sgml(source: SourceFile, text: str):
    """Stories in the SGML of Reuters-21578: ``<REUTERS NEWID>`` with ``<DATE>``,
    ``<TITLE>``, ``<AUTHOR>``, ``<BODY>`` (paragraphs indented), ``<TOPICS>`` and
    ``<PLACES>`` (both become tags). Each story is a record, read by itself."""
    for found in _REUTERS_STORY.finditer(text):
        story = found.group()
        newid = _REUTERS_NEWID.match(story)
        where = f"{source.path}: NEWID {newid.group(1) if newid else '?'}"
        yield where, story, partial(_story_article, source, where, story)


def _story_article(source: SourceFile, where: str, text: str) -> Article:
    story = BeautifulSoup(text, "html.parser").find("reuters")
    title, body = _child_text(story, "title"), _child_text(story, "body")
    if not story.find("title"):
        # An unprocessed story: raw text in <TEXT>, its first line a headline.
        title, _, body = _child_text(story, "text").strip("\x02\x03 \n").partition("\n")
    body = _REUTERS_SIGN_OFF.sub("", body)
    codes = [d.get_text() for name in ("topics", "places") if story.find(name)
             for d in story.find(name).find_all("d")]
    return Article(
        id=f"reuters-{story.get('newid') or where}", title=title,
        body=_REUTERS_PARAGRAPH.sub("\n\n", body),
        published=parse_date(_child_text(story, "date")),
        byline=re.sub(r"^\s*by\s+", "", _child_text(story, "author"), flags=re.I),
        source="Reuters", tags=codes, path=str(source.path))


def _child_text(tag, name: str) -> str:
    child = tag.find(name)
    return child.get_text() if child else ""


READERS = {".html": _read_html, ".htm": _read_html, ".jsonl": _read_jsonl, ".txt": _read_text,
           ".sgm": _read_sgml, ".sgml": _read_sgml}
DECOMPRESS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
MAX_DECOMPRESSED = 256 << 20
MAX_BODY_CHARS = 1_000_000  # as much as the cleaner reads of a page
MAX_LINE_CHARS = 2_000  # of an id, title, byline, section, source, description or tag
MAX_TAGS = 200
