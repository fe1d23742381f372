"""Writing articles from source files into the index, incrementally or as a rebuild."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import timezone
from pathlib import Path

from .article import Article, parse_date
from .duplicates import Clusters
from .sources import Skip, SourceError, SourceFile, find_sources, read_articles
from .store import WriteSession, read_sources, write_sources


@dataclass
class Summary:
    """What one indexing run did."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: list[Skip] = field(default_factory=list)
    total: int = 0
    clusters: int = 0  # groups of two or more near-duplicate articles

    def __str__(self) -> str:
        return (f"added {self.added}, updated {self.updated}, deleted {self.deleted}, "
                f"unchanged {self.unchanged}, skipped {len(self.skipped)}; "
                f"{self.total} articles in the index, {self.clusters} groups of "
                "near-duplicates")


def document(article: Article, cluster: str, signature: bytes) -> dict:
    """The Whoosh fields for one article in near-duplicate ``cluster``."""
    published = article.published
    fields = dict(cluster=cluster,
        id=article.id, title=article.title, body=article.body,
        title_exact=article.title, body_exact=article.body,
        byline=article.byline, section=article.section, source=article.source,
        tags=",".join(article.tags), published_iso=published.isoformat() if published else "",
        url=article.url, description=article.description, path=article.path,
        content_hash=article.content_hash,
    )
    facets = dict(source_facet=article.source, section_facet=article.section,
                  byline_facet=article.byline)
    fields.update((name, value) for name, value in facets.items() if value)
    if signature:
        fields.update(minhash=signature)
    if published:
        fields.update(date=published.replace(tzinfo=None), dated="1",
                      published=published.astimezone(timezone.utc).replace(tzinfo=None),
                      year=f"{published.year:04d}", month=f"{published:%Y-%m}")
    return fields


def stored_article(stored: dict) -> Article:
    """The article again, from the fields the index stores of it."""
    return Article(
        id=stored["id"], title=stored.get("title", ""), body=stored.get("body", ""),
        published=parse_date(stored.get("published_iso")), byline=stored.get("byline", ""),
        section=stored.get("section", ""), source=stored.get("source", ""),
        tags=stored.get("tags", "").split(","), url=stored.get("url", ""),
        description=stored.get("description", ""), path=stored.get("path", ""))


def _covers(roots: list[Path], path: str) -> bool:
    return any(path == str(root) or path.startswith(str(root) + "/") for root in roots)


def index_paths(paths, index_dir, rebuild: bool = False, progress=None) -> Summary:
    """Index the articles under ``paths`` into ``index_dir``.

    Incremental by default: files whose bytes are unchanged are not read again, articles
    whose content hash is unchanged are not rewritten, and articles that vanished from
    the given paths are deleted. With ``rebuild`` a fresh index of just ``paths`` is
    built beside the live one and swapped in whole. Either way, a file that cannot be
    read keeps what was indexed from it, and the counts compare with the index before.
    ``progress``, if given, wraps the list of source files (a progress bar).
    """
    with WriteSession(index_dir) as session:
        live = session.live()
        target = session.new_generation() if rebuild or live is None else live
        try:
            run = _Run(live, target, [Path(p).resolve() for p in paths])
            try:
                found = list(find_sources(paths, exclude=Path(index_dir)))
                for source in progress(found) if progress else found:
                    run.add(source)
                run.delete_vanished()
            except BaseException:
                run.writer.cancel()
                raise
            run.commit()
        finally:
            if live is not None:
                live.close()
        if target is not live:
            session.publish(target)
    return run.summary


class _Run:
    """One indexing run: writes into ``target``, comparing with ``live`` (the index as it
    was, or None); a rebuild is a run whose target is a new, empty generation."""

    def __init__(self, live, target, roots: list[Path]):
        self.summary = Summary()
        self.rebuild = live is not None and target is not live
        self.roots = roots
        self.indexed: dict[str, tuple[str, str]] = {}  # id -> (content hash, path)
        self.ids_by_path: dict[str, list[str]] = {}
        self.old_sources = read_sources(live) if live is not None else {}
        self.live = live.searcher() if live is not None else None
        # Near-duplicates are looked for among the articles already in the index too,
        # unless this is a rebuild (whose index starts empty).
        self.clusters = Clusters()
        if self.live is not None:
            reader = self.live.reader()
            ids, hashes, paths, clusters, signatures = (
                reader.column_reader(name)
                for name in ("id", "content_hash", "path", "cluster", "minhash"))
            for n in reader.all_doc_ids():
                self.indexed[ids[n]] = (hashes[n], paths[n])
                self.ids_by_path.setdefault(paths[n], []).append(ids[n])
                if not self.rebuild:
                    self.clusters.add_existing(ids[n], clusters[n], signatures[n])
        # A rebuild keeps no record of files outside ``roots``: it indexes ``roots`` alone.
        self.sources = {} if self.rebuild else {
            p: h for p, h in self.old_sources.items() if not _covers(roots, p)}
        self.seen: dict[str, str] = {}  # id -> path it was read from in this run
        self.target = target
        self.writer = target.writer(limitmb=256)

    def add(self, source: SourceFile | Skip) -> None:
        """Index one source file (or record why it was skipped)."""
        if isinstance(source, Skip):
            self.summary.skipped.append(source)
        else:
            self._add_file(source)

    def _add_file(self, source: SourceFile) -> None:
        path = str(source.path)
        try:
            data = source.path.read_bytes()
        except OSError as error:
            return self._keep(path, Skip(path, f"cannot read ({error.strerror})"))
        digest = hashlib.sha1(data).hexdigest()
        if not self.rebuild and self.old_sources.get(path) == digest:
            return self._keep(path)
        try:
            articles, skips = read_articles(source, data)
        except SourceError as error:
            return self._keep(path, Skip(path, str(error)))
        self.summary.skipped.extend(skips)
        for article in articles:
            self._add_article(article, path)
        self.sources[path] = digest

    def _add_article(self, article: Article, path: str) -> None:
        if article.id in self.seen:
            self.summary.skipped.append(Skip(path, f"duplicate id {article.id!r} "
                                                   f"(first in {self.seen[article.id]})"))
            return
        self.seen[article.id] = path
        old = self.indexed.get(article.id)
        if old == (article.content_hash, path):
            self.summary.unchanged += 1
            if not self.rebuild:
                return
        elif old:
            self.summary.updated += 1
        else:
            self.summary.added += 1
        self._write(article)

    def _write(self, article: Article) -> None:
        cluster, signature = self.clusters.assign(article.id, article.body or article.title)
        self.writer.update_document(**document(article, cluster, signature))

    def _keep(self, path: str, skip: Skip | None = None) -> None:
        """Leave what was indexed from ``path`` as it was (copying it into a rebuild)."""
        if skip:
            self.summary.skipped.append(skip)
        for doc_id in self.ids_by_path.get(path, ()):
            if doc_id in self.seen:
                continue
            self.seen[doc_id] = path
            self.summary.unchanged += 1
            if self.rebuild:
                self._write(stored_article(self.live.document(id=doc_id)))
        if path in self.old_sources:
            self.sources[path] = self.old_sources[path]

    def delete_vanished(self) -> None:
        """Delete the articles of ``roots`` not seen in this run (a rebuild just leaves
        out every article not seen)."""
        for doc_id, (_, path) in self.indexed.items():
            if doc_id not in self.seen and (self.rebuild or _covers(self.roots, path)):
                if not self.rebuild:
                    self.writer.delete_by_term("id", doc_id)
                self.summary.deleted += 1

    def commit(self) -> None:
        """Commit, and record the files' hashes beside the index."""
        self.writer.commit(optimize=self.rebuild)
        write_sources(self.target, self.sources)
        with self.target.reader() as reader:
            self.summary.total = reader.doc_count()
            clusters = Counter(reader.column_reader("cluster")[n] for n in reader.all_doc_ids())
        self.summary.clusters = sum(1 for size in clusters.values() if size > 1)
