"""morgue's web app: a thin Flask layer over the indexer's read API."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, render_template

from indexer.search import Archive
from indexer.store import IndexMissing, default_index_dir

from . import views


def create_app(index_dir=None) -> Flask:
    """The Flask app serving the index in ``index_dir`` (default: as ``morgue`` finds it)."""
    app = Flask(__name__)
    app.config["INDEX_DIR"] = Path(index_dir or default_index_dir())
    app.extensions["archive"] = Archive(app.config["INDEX_DIR"])
    app.url_map.merge_slashes = False  # article ids may be URLs, with "//" in them
    app.register_blueprint(views.bp)
    app.jinja_env.filters["date"] = views.format_date

    @app.errorhandler(404)
    def not_found(error):
        return render_template("error.html", title="Not found",
                               message="There is no such page in this archive."), 404

    @app.errorhandler(500)
    def server_error(error):
        return render_template("error.html", title="Something went wrong",
                               message="This page could not be made. The error has been "
                                       "logged; please try again or change the search."), 500

    @app.errorhandler(IndexMissing)
    def index_missing(error):
        return render_template("error.html", title="No index yet",
                               message="The archive has not been indexed yet. "
                                       "Run `morgue index` and reload this page."), 503

    return app
