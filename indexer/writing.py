"""Writing articles from source files into the index, incrementally or as a rebuild."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timezone
from pathlib import Path

from .article import Article
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

    def __str__(self) -> str:
        return (f"added {self.added}, updated {self.updated}, deleted {self.deleted}, "
                f"unchanged {self.unchanged}, skipped {len(self.skipped)}; "
                f"{self.total} articles in the index")


def document(article: Article) -> dict:
    """The Whoosh fields for one article."""
    published = article.published
    return dict(
        id=article.id, title=article.title, body=article.body,
        title_exact=article.title, body_exact=article.body,
        byline=article.byline, section=article.section, source=article.source,
        tags=",".join(article.tags),
        published=published.astimezone(timezone.utc).replace(tzinfo=None) if published else None,
        published_iso=published.isoformat() if published else "",
        url=article.url, description=article.description, path=article.path,
        content_hash=article.content_hash,
    )


def _indexed(ix) -> dict[str, tuple[str, str]]:
    """id -> (content hash, source path) of every live document, read from columns."""
    with ix.reader() as reader:
        ids, hashes, paths = (reader.column_reader(name)
                              for name in ("id", "content_hash", "path"))
        return {ids[n]: (hashes[n], paths[n]) for n in reader.all_doc_ids()}


def _covers(roots: list[Path], path: str) -> bool:
    return any(path == str(root) or path.startswith(str(root) + "/") for root in roots)


def index_paths(paths, index_dir, rebuild: bool = False, progress=None) -> Summary:
    """Index the articles under ``paths`` into ``index_dir``.

    Incremental by default: files whose bytes are unchanged are not read again, articles
    whose content hash is unchanged are not rewritten, and articles that vanished from
    the given paths are deleted. A file that cannot be read keeps what was indexed from
    it. With ``rebuild`` a fresh index is built and swapped in whole. ``progress``, if
    given, wraps the list of source files (a progress bar).
    """
    summary = Summary()
    roots = [Path(p).resolve() for p in paths]
    with WriteSession(index_dir) as session:
        if rebuild:
            ix, live = session.new_generation(), False
        else:
            ix, live = session.live_or_new()
        indexed = _indexed(ix) if live else {}
        ids_by_path: dict[str, list[str]] = {}
        for doc_id, (_, path) in indexed.items():
            ids_by_path.setdefault(path, []).append(doc_id)
        old_sources = read_sources(ix) if live else {}
        sources = {p: h for p, h in old_sources.items() if not _covers(roots, p)}
        seen: dict[str, str] = {}
        writer = ix.writer(limitmb=256)
        try:
            found_all = list(find_sources(paths, exclude=Path(index_dir)))
            for found in progress(found_all) if progress else found_all:
                if isinstance(found, Skip):
                    summary.skipped.append(found)
                    continue
                _index_file(found, writer, indexed, ids_by_path, old_sources, sources, seen,
                            summary)
            for doc_id, (_, path) in indexed.items():
                if doc_id not in seen and _covers(roots, path):
                    writer.delete_by_term("id", doc_id)
                    summary.deleted += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit(optimize=rebuild)
        write_sources(ix, sources)
        if not live:
            session.publish(ix)
        summary.total = ix.doc_count()
    return summary


def _index_file(source: SourceFile, writer, indexed, ids_by_path, old_sources, sources, seen,
                summary: Summary) -> None:
    path = str(source.path)
    try:
        data = source.path.read_bytes()
    except OSError as error:
        summary.skipped.append(Skip(path, f"cannot read ({error.strerror})"))
        _keep(path, ids_by_path, old_sources, sources, seen)
        return
    digest = hashlib.sha1(data).hexdigest()
    if old_sources.get(path) == digest:
        _keep(path, ids_by_path, old_sources, sources, seen)
        summary.unchanged += len(ids_by_path.get(path, ()))
        return
    try:
        articles, skips = read_articles(source, data)
    except SourceError as error:
        summary.skipped.append(Skip(path, str(error)))
        _keep(path, ids_by_path, old_sources, sources, seen)
        return
    summary.skipped.extend(skips)
    for article in articles:
        if article.id in seen:
            summary.skipped.append(Skip(path, f"duplicate id {article.id!r} "
                                              f"(first in {seen[article.id]})"))
            continue
        seen[article.id] = path
        old = indexed.get(article.id)
        if old and old == (article.content_hash, path):
            summary.unchanged += 1
            continue
        writer.update_document(**document(article))
        if old:
            summary.updated += 1
        else:
            summary.added += 1
    sources[path] = digest


def _keep(path, ids_by_path, old_sources, sources, seen) -> None:
    """Leave what was indexed from ``path`` as it is."""
    for doc_id in ids_by_path.get(path, ()):
        seen.setdefault(doc_id, path)
    if path in old_sources:
        sources[path] = old_sources[path]
