"""Reading the search box: the query language, and what to do when a query is malformed.

Words are ANDed; ``OR``, ``NOT``, parentheses and ``field:word`` work as in Whoosh's
default syntax. A quoted phrase is matched unstemmed, in the exact twin of each field.
A malformed query is repaired to its best reading, with a one-line notice saying how.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from whoosh import query as wq
from whoosh.qparser import AndGroup, MultifieldParser, PhrasePlugin

from .analysis import TOKEN_PATTERN
from .schema import DEFAULT_FIELDS, EXACT_TWIN, SCHEMA

MAX_QUERY_CHARS = 1000
SEARCHABLE_FIELDS = ("title", "body", "byline", "section", "source", "tags")
_FIELD_PREFIX = re.compile(r"(?<![\w\"])(\w+):")
_WORDS = re.compile(TOKEN_PATTERN)


class ExactPhrasePlugin(PhrasePlugin):
    """Quoted phrases search the unstemmed twin of a stemmed field."""

    class PhraseNode(PhrasePlugin.PhraseNode):
        def query(self, parser):
            if self.fieldname in EXACT_TWIN:
                self.fieldname = EXACT_TWIN[self.fieldname]
            return super().query(parser)

    class PhraseTagger(PhrasePlugin.PhraseTagger):
        def create(self, parser, match):
            slop = match.group("slop")
            return ExactPhrasePlugin.PhraseNode(match.group("text"), match.start("text"),
                                                int(slop) if slop else 1)


def _parser() -> MultifieldParser:
    parser = MultifieldParser(list(DEFAULT_FIELDS), SCHEMA, group=AndGroup)
    parser.remove_plugin_class(PhrasePlugin)
    parser.add_plugin(ExactPhrasePlugin())
    return parser


PARSER = _parser()


@dataclass
class ParsedQuery:
    text: str
    query: wq.Query
    notice: str = ""

    @property
    def empty(self) -> bool:
        return self.query is wq.NullQuery


def _balance(text: str) -> tuple[str, list[str]]:
    notices = []
    if text.count('"') % 2:
        cut = text.rfind('"')
        text = text[:cut] + text[cut + 1:]
        notices.append("an unmatched quote mark was ignored")
    depth, kept = 0, []
    for char in text:
        if char == ")" and depth == 0:
            char = " "
        depth += {"(": 1, ")": -1}.get(char, 0)
        kept.append(char)
    balanced = _drop_open("".join(kept), depth)
    if balanced != text:
        notices.append("unmatched parentheses were ignored")
    return balanced, notices


def _drop_open(text: str, count: int) -> str:
    """Remove the last ``count`` opening parentheses, which have no closing partner
    (``title:(word`` becomes ``title:word``)."""
    for _ in range(count):
        cut = text.rfind("(")
        text = text[:cut] + ("" if text[cut - 1:cut] == ":" else " ") + text[cut + 1:]
    return text


def parse_query(text: str) -> ParsedQuery:
    """Parse the search box's text into a Whoosh query, repairing what is malformed."""
    text = " ".join((text or "").split())
    notices = []
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notices.append(f"the query was cut to its first {MAX_QUERY_CHARS} characters")
    repaired, balance_notices = _balance(text)
    notices += balance_notices
    for name in dict.fromkeys(_FIELD_PREFIX.findall(repaired)):
        if name not in SEARCHABLE_FIELDS:
            repaired = re.sub(rf"(?<![\w\"]){re.escape(name)}:", "", repaired)
            notices.append(f"there is no field {name!r}, so its words were searched in "
                           f"all fields (fields: {', '.join(SEARCHABLE_FIELDS)})")
    query = PARSER.parse(repaired)
    if query is wq.NullQuery and _WORDS.search(repaired):
        words = [w for w in _WORDS.findall(repaired) if w not in ("AND", "OR", "NOT")]
        query = PARSER.parse(" ".join(words))
        if query is not wq.NullQuery:
            notices.append("the operators could not be read, so the words were searched")
    notice = "; ".join(notices)
    return ParsedQuery(text, query, notice[:1].upper() + notice[1:] + "." if notice else "")
