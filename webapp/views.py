"""The pages and the JSON API: each view asks the Archive and renders what it answers."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, jsonify, render_template, request

bp = Blueprint("morgue", __name__)


def archive():
    return current_app.extensions["archive"]


def format_date(iso: str) -> str:
    """An ISO timestamp as a reader's date ("5 March 1987"); "" when there is none."""
    try:
        return datetime.fromisoformat(iso).strftime("%-d %B %Y")
    except (TypeError, ValueError):
        return ""


def _search():
    return archive().search(request.args.get("q", ""), page=request.args.get("page", 1),
                            page_size=request.args.get("size", 10))


@bp.get("/")
def search_page():
    query = request.args.get("q", "")
    results = _search() if query.strip() else None
    return render_template("search.html", query=query, results=results,
                           archive_size=archive().count())


@bp.get("/articles/<path:doc_id>")
def article_page(doc_id):
    article = archive().article(doc_id, request.args.get("q", ""))
    if article is None:
        abort(404)
    return render_template("article.html", article=article, query=request.args.get("q", ""))


@bp.get("/api/search")
def search_api():
    return jsonify(_search().to_dict())


@bp.get("/api/articles/<path:doc_id>")
def article_api(doc_id):
    article = archive().article(doc_id, request.args.get("q", ""))
    if article is None:
        return jsonify(error=f"no article with id {doc_id!r}"), 404
    return jsonify(article.to_dict())
