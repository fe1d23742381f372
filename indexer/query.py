"""Reading the search box: the query language, and what to do when a query is malformed.

Words are ANDed; ``OR``, ``NOT`` or ``-word``, parentheses, ``field:word``, quoted phrases
(with ``~N`` slop), ``word*`` prefixes, ``word~`` fuzzy matches and ``date:`` filters
work as the README describes. Phrases, prefixes and fuzzy words are matched unstemmed, in
the exact twin of each field. A malformed query is repaired to its best reading, with a
one-line notice saying how.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

from whoosh import query as wq
from whoosh.analysis import STOP_WORDS
from whoosh.qparser import (AndGroup, FieldAliasPlugin, FuzzyTermPlugin, MultifieldParser,
                            OrGroup, PhrasePlugin, Plugin, PlusMinusPlugin, PrefixPlugin,
                            WildcardPlugin, syntax)

from .analysis import TOKEN_PATTERN
from .datequery import DatePlugin
from .deadline import Deadline, TimedReader, TooSlow
from .schema import DEFAULT_FIELDS, EXACT_TWIN, FILTERS, SCHEMA

MAX_QUERY_CHARS = 1000
MAX_EXPANSIONS = 500  # words a prefix or fuzzy pattern may stand for
FIELDS = ("title", "body", "byline", "section", "source", "tag", "date")
_FIELD_PREFIX = re.compile(r"(?<![\w\"])(\w+):")
_WORDS = re.compile(TOKEN_PATTERN)
_EXACT = set(EXACT_TWIN.values())


class ExactTwinPlugin(Plugin):
    """Send phrases, prefixes, wildcards and fuzzy words in a stemmed field to its
    unstemmed twin, where the words are indexed as written."""

    KINDS = (PhrasePlugin.PhraseNode, PrefixPlugin.PrefixNode, WildcardPlugin.WildcardNode,
             FuzzyTermPlugin.FuzzyTermNode)

    def filters(self, parser):
        return [(self.to_twins, 111)]  # after MultifieldPlugin (110) set the fields

    def to_twins(self, parser, group):
        kept, seen = [], set()
        for node in group:
            if isinstance(node, syntax.GroupNode):
                self.to_twins(parser, node)
            elif isinstance(node, self.KINDS):
                if node.fieldname in EXACT_TWIN:
                    node.set_fieldname(EXACT_TWIN[node.fieldname], override=True)
                key = (type(node), node.fieldname, node.text)
                if key in seen:
                    continue  # the twin was searched already, as a default field
                seen.add(key)
            kept.append(node)
        group.nodes = kept
        return group


def _parser(group) -> MultifieldParser:
    parser = MultifieldParser(list(DEFAULT_FIELDS), SCHEMA, fieldboosts=DEFAULT_FIELDS,
                              group=group)
    parser.add_plugins([
        ExactTwinPlugin(), DatePlugin(), FuzzyTermPlugin(),
        # A minus sign negates only at the start of a word: "co-operation" is one word.
        PlusMinusPlugin(minusexpr=r"(?<![^\s(])-"),
        FieldAliasPlugin({"tags": ["tag"]}),
    ])
    return parser


PARSERS = {False: _parser(AndGroup), True: _parser(OrGroup.factory(0.9))}  # by match_any


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


def _refine(query: wq.Query, notices: list[str]) -> wq.Query:
    """Collect the notes and errors that parts of the query carry (dropping the parts in
    error), read a lone ``-word`` as ``NOT word``, drop stop words outside phrases, and
    bound fuzzy words to two edits after a first letter that must match."""

    def visit(q):
        if isinstance(q, wq.AndNot) and isinstance(q.a, wq.And) and not q.a.subqueries:
            return wq.Not(q.b)  # "-word" alone means what "NOT word" does
        if isinstance(q, wq.Term) and q.fieldname in _EXACT and q.text in STOP_WORDS:
            return wq.NullQuery  # a stop word alone, outside a phrase, is no requirement
        if getattr(q, "error", None):
            notices.append(str(q.error))
            return wq.NullQuery
        if getattr(q, "note", None):
            notices.append(q.note)
        if isinstance(q, wq.FuzzyTerm):
            q = q.copy()
            q.maxdist, q.prefixlength = min(q.maxdist, 2), max(q.prefixlength, 1)
        return q

    return query.accept(visit)


def parse_query(text: str, match_any: bool = False) -> ParsedQuery:
    """Parse the search box's text into a Whoosh query, repairing what is malformed.

    Words are all required, or with ``match_any`` any of them may match (explicit
    ``AND`` still joins its two sides).
    """
    parser = PARSERS[match_any]
    text = " ".join((text or "").split())
    notices = []
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notices.append(f"the query was cut to its first {MAX_QUERY_CHARS} characters")
    repaired, balance_notices = _balance(text)
    notices += balance_notices
    for name in dict.fromkeys(_FIELD_PREFIX.findall(repaired)):
        if name not in FIELDS and name != "tags":
            repaired = re.sub(rf"(?<![\w\"]){re.escape(name)}:", "", repaired)
            notices.append(f"there is no field {name!r}, so its words were searched in "
                           f"all fields (fields: {', '.join(FIELDS)})")
    try:
        query = _refine(parser.parse(repaired, normalize=False), notices).normalize()
        unreadable = query is wq.NullQuery and not notices
    except Exception:  # Whoosh's parser fails outright on some runs of operators
        query, unreadable = wq.NullQuery, True
    if unreadable and _WORDS.search(repaired):
        words = [w for w in _WORDS.findall(repaired) if w not in ("AND", "OR", "NOT")]
        query = _refine(parser.parse(" ".join(words), normalize=False), notices).normalize()
        if query is not wq.NullQuery:
            notices.append("the operators could not be read, so the words were searched")
    return ParsedQuery(text, _every_article(query), _sentence(notices))


def _every_article(query: wq.Query) -> wq.Query:
    """``*`` (in any field) as every article: Whoosh would otherwise read every posting
    of the field to find the articles that have one, which takes seconds. Within an
    AND, every article is no condition at all."""
    if _is_every(query):
        return wq.Every()
    if isinstance(query, wq.And):
        kept = [_every_article(q) for q in query.subqueries if not _is_every(q)]
        return wq.And(kept, boost=query.boost).normalize() if kept else wq.Every()
    return query.apply(_every_article)


def _is_every(query: wq.Query) -> bool:
    return isinstance(query, wq.Every) or (
        isinstance(query, wq.Or) and any(_is_every(q) for q in query.subqueries))


def _sentence(notices: list[str]) -> str:
    notice = "; ".join(dict.fromkeys(notices))
    return notice[:1].upper() + notice[1:] + "." if notice else ""


class Expanded(wq.MultiTerm):
    """A pattern (prefix, wildcard, fuzzy word or word range) with the words of the
    index it stands for, looked up once: searching and highlighting use these words."""

    def __init__(self, pattern: wq.MultiTerm, words):
        self.fieldname, self.text = pattern.fieldname, _pattern(pattern)
        self.boost, self.constantscore = pattern.boost, pattern.constantscore
        self.words = tuple(w.decode("utf-8") if isinstance(w, bytes) else w for w in words)

    def __eq__(self, other):
        return (type(other) is Expanded and (self.fieldname, self.text, self.boost) ==
                (other.fieldname, other.text, other.boost))

    def __hash__(self):
        return hash((self.fieldname, self.text, self.boost))

    def __repr__(self):
        return f"Expanded({self.fieldname!r}, {self.text!r}, {len(self.words)} words)"

    def _btexts(self, ixreader):
        return self.words

    def has_terms(self):
        return True

    def terms(self, phrases=False):
        return ((self.fieldname, word) for word in self.words)


def bound_expansions(query: wq.Query, reader,
                     deadline: Deadline | None = None) -> tuple[wq.Query, str]:
    """Look up the words that each prefix, wildcard, fuzzy word and word range in
    ``query`` stands for. A pattern that stands for more than MAX_EXPANSIONS words in a
    field (slow and meaningless), or whose look-up is unfinished at ``deadline``, is
    dropped from the query, in every field, and the notice says so; the others are
    replaced by the words they stand for (an :class:`Expanded`). ``reader`` lists the
    words of the fields: a Whoosh index reader, or the :class:`~indexer.shards.words.Words`
    of a Xapian database (its shards' words together, so that every shard searches the
    same words)."""
    timed = TimedReader(reader, deadline) if deadline else reader
    words, too_many, too_slow = {}, set(), set()
    for q in query.leaves():
        name = _pattern(q) if isinstance(q, wq.MultiTerm) else None
        if name is None or q in words or name in too_many | too_slow:
            continue
        try:
            words[q] = [text for _, text in islice(q.expanded_terms(timed),
                                                  MAX_EXPANSIONS + 1)]
        except TooSlow:
            too_slow.add(name)
            continue
        if len(words[q]) > MAX_EXPANSIONS:
            too_many.add(name)

    def visit(q):
        if not isinstance(q, wq.MultiTerm):
            return q
        return wq.NullQuery if _pattern(q) in too_many | too_slow else Expanded(q, words[q])

    notices = [f"{name!r} matches too many words (over {MAX_EXPANSIONS}), so it was left "
               "out: make it longer" for name in sorted(too_many)]
    notices += [f"looking up the words {name!r} stands for took too long, so it was left "
                "out: make it longer" for name in sorted(too_slow)]
    return query.accept(visit).normalize(), _sentence(notices)


def filter_query(filters) -> wq.Query | None:
    """The query of a search's ``filters`` ((name, value) pairs): values of one facet
    ORed, facets ANDed; None without filters."""
    by_facet: dict[str, list] = {}
    for name, value in filters:
        by_facet.setdefault(name, []).append(wq.Term(FILTERS[name], value))
    return wq.And([wq.Or(terms) for terms in by_facet.values()]) if by_facet else None


def filtered(query: wq.Query, filters) -> wq.Query:
    """``query`` restricted by a search's ``filters`` (see :func:`filter_query`)."""
    restriction = filter_query(filters)
    return query if restriction is None else wq.Require(query, restriction)


def _pattern(q: wq.MultiTerm) -> str:
    """The pattern as the search box writes it."""
    if isinstance(q, wq.FuzzyTerm):
        return f"{q.text}~"
    if isinstance(q, wq.TermRange):
        return f"[{q.start or ''} TO {q.end or ''}]"
    return f"{q.text}*" if isinstance(q, wq.Prefix) else q.text
