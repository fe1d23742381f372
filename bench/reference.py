"""Reference search engines for the benchmarks, each used the straightforward way.

- Whoosh with a default writer and a new searcher per query, its analyzer the
  StandardAnalyzer (``stemming=False``) or the StemmingAnalyzer, results highlighted by
  ``Hit.highlights`` over the stored body;
- SQLite FTS5 (Python's ``sqlite3``, unicode61 tokenizer, ``bm25()``, ``snippet()``);
- tantivy with its default tokenizer (PyPI ``tantivy``, in the ``bench`` extra).

Each indexes id, title and body, and the source, section, byline, year and date of
each article for facets, date ranges and sorting. ``search`` gives the ids of the best
``depth`` results of a query of words; ``page`` does the work of a result page for a
:class:`Search` (ten results, the total, facet counts and ten highlighted snippets).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from whoosh import fields as wf
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import StemmingAnalyzer
from whoosh.qparser import MultifieldParser

FACETS = ("source", "section", "byline", "year")
PAGE = 10


@dataclass(frozen=True)
class Search:
    """One search of a benchmark's mix: all of ``words`` (a quoted phrase when
    ``phrase``; in the title alone when ``field`` is "title"), published within
    ``dates`` (first and last day, ISO) when given, best first or ``newest`` first."""

    words: tuple[str, ...]
    phrase: bool = False
    field: str = ""
    dates: tuple[str, str] | None = None
    newest: bool = False

    def text(self, quote=lambda word: word) -> str:
        """The words in a query language where ``"..."`` is a phrase and ``field:`` a
        field, each plain word written by ``quote``."""
        if self.phrase:
            return '"' + " ".join(self.words) + '"'
        prefix = f"{self.field}:" if self.field else ""
        return " ".join(prefix + quote(word) for word in self.words)


def _fields(record: dict) -> dict:
    date = record.get("date") or ""
    return dict(id=record["id"], title=record.get("title") or "", body=record["body"],
                source=record.get("source") or "", section=record.get("section") or "",
                byline=record.get("byline") or "", year=date[:4], date=date[:10])


class WhooshPlain:
    """Whoosh with a default writer and a new searcher for every query."""

    def __init__(self, workdir: Path, stemming: bool = False):
        self.store = workdir / ("whoosh-stemming" if stemming else "whoosh")
        self.name = "plain whoosh" if stemming else "whoosh defaults"
        self.stemming = stemming

    def build(self, records) -> None:
        text = (lambda: wf.TEXT(StemmingAnalyzer(), stored=True)) if self.stemming \
            else (lambda: wf.TEXT(stored=True))
        facet = lambda: wf.ID(stored=True, sortable=True)  # noqa: E731
        schema = wf.Schema(id=wf.ID(stored=True), title=text(), body=text(),
                           date=wf.DATETIME(sortable=True),
                           **{name: facet() for name in FACETS})
        self.store.mkdir()
        ix = whoosh_index.create_in(str(self.store), schema)
        with ix.writer() as writer:
            for record in records:
                fields = _fields(record)
                date = fields.pop("date")
                if date:
                    fields["date"] = datetime.fromisoformat(date)
                writer.add_document(**{k: v for k, v in fields.items() if v})

    def open(self) -> None:
        self.ix = whoosh_index.open_dir(str(self.store))
        self.parser = MultifieldParser(["title", "body"], self.ix.schema)

    def search(self, query: str, depth: int) -> list[str]:
        with self.ix.searcher() as searcher:
            return [hit["id"] for hit in searcher.search(self.parser.parse(query), limit=depth)]

    def page(self, search: Search):
        query = self.parser.parse(search.text())
        if search.dates:
            start, end = (datetime.fromisoformat(d) for d in search.dates)
            query = wq.And([query, wq.DateRange("date", start, end.replace(hour=23))])
        with self.ix.searcher() as searcher:
            results = searcher.search(query, limit=PAGE, groupedby=list(FACETS),
                                      sortedby="date" if search.newest else None,
                                      reverse=search.newest)
            facets = {name: results.groups(name) for name in FACETS}
            snippets = [hit.highlights("body") for hit in results]
            return len(results), facets, snippets


class SqliteFts5:
    """SQLite FTS5: one table, ranked by ``bm25()``, highlighted by ``snippet()``."""

    name = "sqlite fts5"

    def __init__(self, workdir: Path):
        self.store = workdir / "fts5.db"

    def build(self, records) -> None:
        db = sqlite3.connect(self.store)
        db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, "
                   "source UNINDEXED, section UNINDEXED, byline UNINDEXED, year UNINDEXED, "
                   "date UNINDEXED)")
        columns = ("id", "title", "body", *FACETS, "date")
        db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       ([_fields(r)[c] for c in columns] for r in records))
        db.commit()
        db.close()

    def open(self) -> None:
        self.db = sqlite3.connect(self.store, check_same_thread=False)

    @staticmethod
    def _match(words) -> str:
        return " ".join('"' + word.replace('"', '""') + '"' for word in words)

    def search(self, query: str, depth: int) -> list[str]:
        rows = self.db.execute("SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) "
                               "LIMIT ?", (self._match(query.split()), depth))
        return [row[0] for row in rows]

    def page(self, search: Search):
        match = search.text(lambda word: self._match([word]))
        where, args = "docs MATCH ?", [match.replace("title:", "title : ")]
        if search.dates:
            where += " AND date BETWEEN ? AND ?"
            args += list(search.dates)
        order = "date DESC" if search.newest else "bm25(docs)"
        rows = self.db.execute(
            "SELECT id, title, snippet(docs, 2, '<mark>', '</mark>', ' … ', 24) FROM docs "
            f"WHERE {where} ORDER BY {order} LIMIT {PAGE}", args).fetchall()
        total = self.db.execute(f"SELECT count(*) FROM docs WHERE {where}", args).fetchone()[0]
        facets = {name: self.db.execute(
            f"SELECT {name}, count(*) FROM docs WHERE {where} GROUP BY {name} "
            "ORDER BY 2 DESC LIMIT 10", args).fetchall() for name in FACETS}
        return total, facets, [row[2] for row in rows]


class TantivyDefaults:
    """tantivy with its default tokenizer; raises ImportError where it is not installed."""

    name = "tantivy defaults"

    def __init__(self, workdir: Path):
        import tantivy

        self.tantivy = tantivy
        self.store = workdir / "tantivy"

    def _schema(self):
        builder = self.tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        builder.add_text_field("title", stored=True)
        builder.add_text_field("body", stored=True)
        for name in FACETS:
            builder.add_text_field(name, stored=True, tokenizer_name="raw", fast=True)
        builder.add_date_field("date", indexed=True, fast=True)
        return builder.build()

    def build(self, records) -> None:
        self.store.mkdir()
        index = self.tantivy.Index(self._schema(), path=str(self.store))
        writer = index.writer()
        for record in records:
            fields = _fields(record)
            date = fields.pop("date")
            document = self.tantivy.Document(**fields)
            if date:
                document.add_date("date", datetime.fromisoformat(date))
            writer.add_document(document)
        writer.commit()
        writer.wait_merging_threads()

    def open(self) -> None:
        self.index = self.tantivy.Index.open(str(self.store))
        self.schema = self.index.schema

    def search(self, query: str, depth: int) -> list[str]:
        searcher = self.index.searcher()
        parsed = self.index.parse_query(query, ["title", "body"])
        return [searcher.doc(address)["id"][0]
                for _, address in searcher.search(parsed, depth).hits]

    def page(self, search: Search):
        text = search.text(lambda word: "+" + word)
        if search.phrase or search.field:
            text = "+" + text
        if search.dates:
            start, end = search.dates
            text += f" +date:[{start}T00:00:00Z TO {end}T23:59:59Z]"
        searcher = self.index.searcher()
        query = self.index.parse_query(text, ["title", "body"])
        found = searcher.search(query, PAGE, count=True,
                                order_by_field="date" if search.newest else None)
        facets = searcher.aggregate(query, {name: {"terms": {"field": name, "size": 10}}
                                            for name in FACETS})
        snippets = self.tantivy.SnippetGenerator.create(searcher, query, self.schema, "body")
        texts = [snippets.snippet_from_doc(searcher.doc(address)).to_html()
                 for _, address in found.hits]
        return found.count, facets, texts
