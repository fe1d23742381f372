"""The pages and the JSON API: each view asks the Archive and renders what it answers."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit

from dateutil.relativedelta import relativedelta

from flask import (Blueprint, Response, abort, current_app, g, jsonify, render_template,
                   request, stream_with_context, url_for)

from indexer import export
from indexer.article import parse_date
from indexer.query import MAX_EXPANSIONS
from indexer.related import MAX_TEXT_CHARS, TextError
from indexer.request import RequestError, SearchRequest
from indexer.search import MAX_RELATED

from . import openapi
from .timeline import timeline

bp = Blueprint("morgue", __name__)


def archive():
    return current_app.extensions["archive"]


def format_date(iso: str) -> str:
    """An ISO timestamp as a reader's date ("5 March 1987"); "" when there is none."""
    try:
        return datetime.fromisoformat(iso).strftime("%-d %B %Y")
    except (TypeError, ValueError):
        return ""


def time_ago(iso: str) -> str:
    """How long ago an ISO timestamp was, roughly ("3 years ago"); "" when there is none."""
    try:
        then = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return ""
    now = datetime.now(then.tzinfo or timezone.utc)
    if then > now:
        return ""
    gap = relativedelta(now, then)
    for amount, unit in ((gap.years, "year"), (gap.months, "month"), (gap.days, "day")):
        if amount:
            return f"{amount} {unit}{'s' if amount != 1 else ''} ago"
    return "today"


def web_url(url: str) -> str:
    """``url`` when it is an http(s) address, else "" (never a link to run script)."""
    return url if urlsplit(url or "").scheme.lower() in ("http", "https") else ""


FACET_LABELS = {"source": "Source", "section": "Section", "byline": "Byline",
                "language": "Language", "year": "Year", "month": "Month",
                "cluster": "Same story as"}


# How url_for (werkzeug) encodes query arguments: the links below are the same.
_QUERY_SAFE = "!$'()*,/:;?@"


def _search_address(args: dict) -> str:
    """The search page's address with ``args``, as url_for makes it at twice the cost (a
    result page links to dozens of searches: facets, timeline bars, pages, sorts)."""
    if "search_page" not in g:
        g.search_page = url_for("morgue.search_page")
    return f"{g.search_page}?{urlencode(args, doseq=True, safe=_QUERY_SAFE)}" if args \
        else g.search_page


@bp.app_template_global()
def search_url(search: SearchRequest, **changes) -> str:
    """The address of ``search`` with ``changes`` (page, sort...)."""
    return _search_address(search.args(**changes))


@bp.app_template_global()
def filter_url(search: SearchRequest, name: str, value: str, active: bool) -> str:
    """The address of ``search`` with a facet value added, or removed when ``active``."""
    changed = search.without_filter(name, value) if active else search.with_filter(name, value)
    return _search_address(changed.args())


@bp.app_template_global()
def page_numbers(current: int, pages: int, around: int = 2) -> list[int | None]:
    """The page numbers to link to: the first, the last and those ``around`` the current
    one, None standing for a gap."""
    shown = sorted({1, pages, *range(max(current - around, 1), min(current + around, pages) + 1)})
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


@bp.get("/")
def search_page():
    search = SearchRequest.from_args(request.args)
    if not (search.q.strip() or search.filters):  # the front page
        return render_template("search.html", search=search, query=search.q, results=None,
                               archive_size=archive().count())
    results = archive().search(search)
    return render_template("search.html", search=search, query=search.q, results=results,
                           labels=FACET_LABELS, timeline=timeline(results.facets))


@bp.get("/help")
def help_page():
    return render_template("help.html", max_expansions=MAX_EXPANSIONS)


@bp.get("/articles/<path:doc_id>")
def article_page(doc_id):
    """An article with its related stories; with ``part=related``, only the related
    stories' section (what the page's script swaps in when the dates are switched)."""
    article = archive().article(doc_id, request.args.get("q", ""))
    if article is None:
        abort(404)
    include_later = request.args.get("related") == "all"
    page = "related_section.html" if request.args.get("part") == "related" else "article.html"
    return render_template(page, article=article, query=request.args.get("q", ""),
                           related=archive().related(doc_id, include_later=include_later),
                           include_later=include_later)


@bp.route("/related", methods=["GET", "POST"])
def draft_page():
    """Find related coverage for a draft pasted into a form."""
    form = {name: request.form.get(name, "") for name in ("title", "text", "date")}
    found, error = None, ""
    if request.method == "POST":
        try:
            found = archive().related_to_text(form["text"], form["title"], form["date"])
        except TextError as problem:
            error = str(problem)
    return render_template("draft.html", form=form, related=found, error=error,
                           max_chars=MAX_TEXT_CHARS), 400 if error else 200


@bp.get("/api/search")
def search_api():
    try:
        search = SearchRequest.from_args(request.args, strict=True)
    except RequestError as error:
        return jsonify(error=str(error)), 400
    return jsonify(archive().search(search).to_dict())


@bp.get("/api/suggest")
def suggest_api():
    """Completions of a query being typed, and titles of articles that match it."""
    q = request.args.get("q", "")
    found = [dict(s.to_dict(), href=url_for("morgue.article_page", doc_id=s.id)
                  if s.id else url_for("morgue.search_page", q=s.text))
             for s in archive().suggest(q)]
    return jsonify(query=q, suggestions=found)


@bp.get("/api/openapi.json")
def openapi_api():
    return jsonify(openapi.spec())


@bp.get("/api/export")
def export_api():
    """Every result of a search, streamed as CSV or JSON Lines."""
    fmt = request.args.get("format", "csv")
    if fmt not in export.FORMATS:
        return jsonify(error=f"format must be one of {', '.join(export.FORMATS)}, "
                             f"not {fmt!r}"), 400
    try:
        search = SearchRequest.from_args(request.args, strict=True)
    except RequestError as error:
        return jsonify(error=str(error)), 400
    notice, rows = archive().export(search)
    # Header values are Latin-1: the file name keeps the query's ASCII letters only.
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", search.q).strip("-")[:60] or "search"
    headers = {"Content-Disposition": f'attachment; filename="morgue-{name}.{fmt}"'}
    if notice:
        headers["X-Morgue-Notice"] = notice.encode("ascii", "replace").decode()
    return Response(stream_with_context(export.lines(rows, fmt)),
                    mimetype=export.FORMATS[fmt], headers=headers)


def _limit(value) -> int:
    """The ``limit`` of a related-stories request, or RequestError."""
    try:
        limit = int(value or 10)
    except (TypeError, ValueError):
        raise RequestError(f"limit must be a whole number, not {value!r}") from None
    if not 1 <= limit <= MAX_RELATED:
        raise RequestError(f"limit must be between 1 and {MAX_RELATED}, not {limit}")
    return limit


@bp.get("/api/articles/<path:doc_id>/related")
def related_api(doc_id):
    """Stories related to an article: published before it (or before ``before``, an ISO
    date), or all of them with ``before=any``."""
    before_arg = request.args.get("before", "")
    before = parse_date(before_arg) if before_arg not in ("", "any") else None
    if before_arg not in ("", "any") and before is None:
        return jsonify(error=f"before must be a date such as 2014-03-05 or 'any', "
                             f"not {before_arg!r}"), 400
    try:
        limit = _limit(request.args.get("limit"))
    except RequestError as error:
        return jsonify(error=str(error)), 400
    found = archive().related(doc_id, include_later=before_arg == "any", before=before,
                              limit=limit)
    if found is None:
        return jsonify(error=f"no article with id {doc_id!r}"), 404
    return jsonify(found.to_dict())


@bp.post("/api/related")
def draft_api():
    """Stories related to a draft: JSON with ``text``, and optionally ``title``,
    ``date`` (only stories published before it) and ``limit``."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error="send a JSON object with the draft's text, as "
                             '{"text": "...", "title": "...", "date": "2014-03-05"}'), 400
    try:
        found = archive().related_to_text(str(data.get("text") or ""),
                                          str(data.get("title") or ""),
                                          str(data.get("date") or ""), _limit(data.get("limit")))
    except (TextError, RequestError) as error:
        return jsonify(error=str(error)), 400
    return jsonify(found.to_dict())


@bp.get("/api/articles/<path:doc_id>")
def article_api(doc_id):
    article = archive().article(doc_id, request.args.get("q", ""))
    if article is None:
        return jsonify(error=f"no article with id {doc_id!r}"), 404
    return jsonify(article.to_dict())
