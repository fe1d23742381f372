"""The ``morgue`` command line: index, search and serve an archive."""

from __future__ import annotations

import html
import json
import re
import shlex
from pathlib import Path

import click
from tqdm import tqdm

from . import export
from .request import SORTS, SearchRequest
from .related import TextError
from .search import MAX_RELATED, Archive
from .settings import BackendError
from .store import IndexBusy, IndexMissing, default_index_dir
from .writing import index_paths

_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)

index_option = click.option(
    "--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
    default=default_index_dir, show_default="$MORGUE_INDEX or a per-user data directory",
    help="Index directory.")


class _Commands(click.Group):
    """The commands, each saying in one line why the backend cannot answer."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BackendError as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """morgue: full-text search for a news archive."""


@main.command("index")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_option
@click.option("--rebuild", is_flag=True,
              help="Build a fresh index beside the live one and swap it in when done.")
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="Processes that read and analyse articles [default: $MORGUE_JOBS, or one "
                   "per CPU for 4 MB of sources or more, else 1].")
@click.option("-v", "--verbose", is_flag=True, help="List every skipped file and why.")
def index_command(paths, index_dir, rebuild, jobs, verbose):
    """Index articles from PATHS (files or directories; default: data/).

    Incremental: unchanged files are not read again, changed articles are updated and
    articles whose files vanished are deleted.
    """
    paths = paths or (Path("data"),)
    try:
        summary = index_paths(
            paths, index_dir, rebuild=rebuild, jobs=jobs,
            progress=lambda files: tqdm(files, unit=" files", desc="indexing",
                                         leave=False, disable=None))
    except (IndexBusy, OSError) as error:
        raise click.ClickException(str(error)) from None
    if verbose:
        for skip in summary.skipped:
            click.echo(f"skipped {skip}")
    hint = " (--verbose says why)" if summary.skipped and not verbose else ""
    click.echo(f"{index_dir}: {summary}{hint}")


@main.command("search")
@click.argument("query")
@index_option
@click.option("--source", multiple=True, help="Only from this source (repeatable).")
@click.option("--section", multiple=True, help="Only in this section (repeatable).")
@click.option("--byline", multiple=True, help="Only with this byline (repeatable).")
@click.option("--language", multiple=True,
              help="Only in this language, as en (repeatable).")
@click.option("--year", multiple=True, help="Only from this year (repeatable).")
@click.option("--month", multiple=True, help="Only from this month, as 1987-03 (repeatable).")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--page", default=1, show_default=True, help="Page of results.")
@click.option("--limit", "size", default=10, show_default=True, help="Results per page.")
@click.option("--all", "everything", is_flag=True,
              help="Every result, not a page (with --format csv or jsonl).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", *export.FORMATS]),
              default="text", show_default=True,
              help="text and json print a page; csv and jsonl print rows for a spreadsheet.")
def search_command(query, index_dir, sort, page, size, everything, fmt, **filters):
    """Search the index and print the results."""
    request = SearchRequest.from_args(dict(filters, q=query, sort=sort, page=str(page),
                                           size=str(size)))
    if everything and fmt not in export.FORMATS:
        raise click.UsageError("--all needs --format csv or --format jsonl")
    try:
        archive = Archive(index_dir)
        if fmt in export.FORMATS:
            notice, rows = (archive.export(request) if everything else
                            _page_rows(archive.search(request)))
            if notice:
                click.echo(f"Note: {notice}", err=True)
            for line in export.lines(rows, fmt):
                click.echo(line, nl=False)
            return
        results = archive.search(request)
    except IndexMissing as error:
        raise click.ClickException(str(error)) from None
    if fmt == "json":
        click.echo(json.dumps(results.to_dict(), ensure_ascii=False, indent=2))
        return
    if results.notice:
        click.echo(f"Note: {results.notice}", err=True)
    click.echo(f"{results.total} results ({results.elapsed_ms} ms)")
    for rank, hit in enumerate(results.hits, (request.page - 1) * request.size + 1):
        copies = f" · {hit.copies} copies" if hit.copies > 1 else ""
        click.echo(f"\n{rank}. {click.style(hit.title or '(untitled)', bold=True)}")
        click.echo(f"   {hit.published[:10] or 'undated'} · {hit.id} · score {hit.score}"
                   f"{copies}")
        click.echo(f"   {_terminal(hit.snippet_html)}")


@main.command("suggest")
@click.argument("text")
@index_option
def suggest_command(text, index_dir):
    """Print what the search box suggests for TEXT: its last word completed, then
    headlines (with their article ids)."""
    try:
        found = Archive(index_dir).suggest(text)
    except IndexMissing as error:
        raise click.ClickException(str(error)) from None
    for item in found:
        click.echo(item.text if item.kind == "query" else f"{item.text}  [{item.id}]")


@main.command("related")
@click.argument("doc_id", required=False)
@index_option
@click.option("--text-file", type=click.File("r", encoding="utf-8"),
              help="A draft's text (not in the archive) to find related stories for.")
@click.option("--title", default="", help="The draft's headline.")
@click.option("--date", default="", help="The draft's date: only stories before it.")
@click.option("--include-later", is_flag=True,
              help="With an article: stories published after it too.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, MAX_RELATED))
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def related_command(doc_id, index_dir, text_file, title, date, include_later, limit, as_json):
    """List the stories related to the article DOC_ID, or to a draft (--text-file)."""
    if bool(doc_id) == bool(text_file):
        raise click.UsageError("give an article id or --text-file, not both or neither")
    try:
        archive = Archive(index_dir)
        if text_file:
            found = archive.related_to_text(text_file.read(), title, date, limit)
        else:
            found = archive.related(doc_id, include_later=include_later, limit=limit)
            if found is None:
                raise click.ClickException(f"no article with id {doc_id!r}")
    except (IndexMissing, TextError) as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(found.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"Key words: {', '.join(found.terms)}")
    if found.before:
        click.echo(f"Published before {found.before[:10]}:")
    for rank, story in enumerate(found.stories, 1):
        click.echo(f"\n{rank}. {click.style(story.title or '(untitled)', bold=True)}")
        click.echo(f"   {story.published[:10] or 'undated'} · {story.source or '?'} · {story.id}")
        if story.reason:
            click.echo(f"   {story.reason}")
    if not found.stories:
        click.echo("No related stories.")


_CLEAN_LABELS = {"id": "Id", "url": "URL", "date": "Published"}


@main.command("clean")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="Print each article as one line of JSON, in the JSON Lines index format.")
def clean_command(file, as_json):
    """Print what indexing FILE would store: each article's title, byline, date, text and
    other fields, as the indexer cleans them (for a saved page, its main text only)."""
    from .sources import READERS, SourceError, SourceFile, read_articles

    source = SourceFile(file, file)
    if source.format not in READERS:
        raise click.ClickException(f"{file}: unsupported file type {source.format or '(none)'}")
    try:
        articles, skips = read_articles(source, file.read_bytes())
    except (SourceError, OSError) as error:
        raise click.ClickException(f"{file}: {error}") from None
    for skip in skips:
        click.echo(f"skipped {skip}", err=True)
    for number, article in enumerate(articles):
        record = dict(id=article.id, title=article.title,
                      date=article.published.isoformat() if article.published else "",
                      byline=article.byline, section=article.section, source=article.source,
                      url=article.url, description=article.description, tags=article.tags,
                      body=article.body)
        if as_json:
            click.echo(json.dumps(record, ensure_ascii=False))
            continue
        click.echo("\n" if number else "", nl=False)
        for key, value in record.items():
            if value and key != "body":
                value = ", ".join(value) if key == "tags" else value
                click.echo(f"{_CLEAN_LABELS.get(key, key.capitalize()) + ':':<13}{value}")
        click.echo(f"\n{article.body}")
    if not articles:
        raise click.ClickException(f"{file}: no article in it")


def _check_address(host: str, port: int) -> None:
    """A one-line error unless ``host:port`` can be listened on."""
    from webapp.server import check_address

    try:
        check_address(host, port)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: "
                                   f"{error.strerror or error}") from None


def _page_rows(results):
    """The export rows of one page of results, and its notice."""
    return results.notice, ({field: getattr(hit, "published" if field == "date" else field)
                             for field in export.FIELDS} for hit in results.hits)


def _terminal(fragment: str) -> str:
    """A highlighted HTML fragment as terminal text, matches in bold."""
    bolded = _MARK.sub(lambda m: click.style(m.group(1), bold=True, underline=True), fragment)
    return html.unescape(bolded)


@main.command("serve")
@index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("-w", "--workers", type=click.IntRange(min=1), show_default="one per CPU",
              help="Processes answering requests.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(min=1),
              help="Threads per process.")
def serve_command(index_dir, host, port, workers, threads):
    """Serve the web app with gunicorn, a production WSGI server, until Ctrl-C or SIGTERM."""
    from webapp.server import bind_address, default_workers, serve

    workers = workers or default_workers()
    try:
        archive = Archive(index_dir)
        try:
            articles = archive.count()
        finally:
            archive.close()  # each process opens its own
    except IndexMissing as error:
        raise click.ClickException(str(error)) from None
    _check_address(host, port)
    click.echo(f"Serving {index_dir} ({articles:,} article{'s' if articles != 1 else ''}) on "
               f"http://{bind_address(host, port)}/ with {workers} "
               f"process{'es' if workers != 1 else ''} of {threads} "
               f"thread{'s' if threads != 1 else ''} (Ctrl-C to stop)")
    serve(index_dir, host, port, workers, threads)


@main.command("shard-server")
@click.argument("database", required=False, type=click.Path(path_type=Path))
@index_option
@click.option("--shard", type=click.IntRange(min=0),
              help="Serve this shard (0, 1, ...) of the index's live generation.")
@click.option("--port", required=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--interface", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--writable", is_flag=True,
              help="Let one client at a time write (morgue index with MORGUE_SHARDS).")
def shard_server_command(database, index_dir, shard, port, interface, writable):
    """Serve one shard over TCP with Xapian's xapian-tcpsrv until Ctrl-C or SIGTERM:
    shard K of the index (--shard K), or the Xapian database directory DATABASE.

    The same as `xapian-tcpsrv --quiet --interface ADDRESS --port PORT [--writable]
    INDEX/current/shard-K` (or DATABASE), with its connections stopped with it.
    """
    from .shards.server import ServerError, command, serve, shard_directory

    if (database is None) == (shard is None):
        raise click.UsageError("give --shard K (a shard of the index) or a DATABASE "
                               "directory, not both or neither")
    try:
        path = shard_directory(index_dir, shard) if database is None else database
        arguments = command(path, port, interface, writable)
    except ServerError as error:
        raise click.ClickException(str(error)) from None
    _check_address(interface, port)
    click.echo(f"Serving {path} on {interface}:{port}{' (writable)' if writable else ''} "
               f"(Ctrl-C to stop): {shlex.join(arguments)}")
    status = serve(arguments)
    if status:
        raise click.ClickException(f"xapian-tcpsrv stopped with status {status}")


if __name__ == "__main__":
    main()
