"""morgue's web app: a thin Flask layer over the indexer's read API."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, jsonify, make_response, render_template, request

from indexer.search import Archive
from indexer.settings import BackendError, Settings
from indexer.store import IndexMissing, default_index_dir

from . import views

# Everything the pages use is served by the app itself: no inline script or style, no
# other origin, and no page may frame them.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self'; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(index_dir=None, settings: Settings | None = None) -> Flask:
    """The Flask app serving the index in ``index_dir`` (default: as ``morgue`` finds it)
    on the backend of ``settings`` (default: the environment's)."""
    app = Flask(__name__)
    app.config["INDEX_DIR"] = Path(index_dir or default_index_dir())
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024  # a draft is far smaller
    app.extensions["archive"] = Archive(app.config["INDEX_DIR"], settings=settings)
    app.url_map.merge_slashes = False  # article ids may be URLs, with "//" in them
    app.register_blueprint(views.bp)
    app.jinja_env.filters["date"] = views.format_date
    app.jinja_env.filters["ago"] = views.time_ago
    app.jinja_env.filters["web_url"] = views.web_url

    @app.after_request
    def secure(response):
        response.headers.update(SECURITY_HEADERS)
        return response

    def error_page(status: int, title: str, message: str):
        """An error as JSON for the API, else as a page."""
        if request.path.startswith("/api/"):
            return make_response(jsonify(error=message), status)
        return make_response(render_template("error.html", title=title, message=message),
                             status)

    @app.errorhandler(404)
    def not_found(error):
        return error_page(404, "Not found", "There is no such page in this archive.")

    @app.errorhandler(405)
    def wrong_method(error):
        return error_page(405, "Not allowed", f"{request.method} is not allowed here.")

    @app.errorhandler(413)
    def too_large(error):
        return error_page(413, "Too large", "The text sent is too large (2 MB at most).")

    @app.errorhandler(500)
    def server_error(error):
        return error_page(500, "Something went wrong",
                          "This page could not be made. The error has been logged; "
                          "please try again or change the search.")

    @app.errorhandler(IndexMissing)
    def index_missing(error):
        # The message names no path: the server's directories are its own business.
        response = error_page(503, "No index yet", "The archive cannot be searched yet. "
                              "If it is being indexed, this page works as soon as that is "
                              "done: reload in a minute. Otherwise run `morgue index` on "
                              "the server, then reload.")
        response.headers["Retry-After"] = "60"
        return response

    @app.errorhandler(BackendError)
    def backend_error(error):
        app.logger.warning("%s", error)  # named in the log, not on the page
        response = error_page(503, "Archive unavailable", "The archive cannot be searched "
                              "at the moment. Please try again in a minute.")
        response.headers["Retry-After"] = "60"
        return response

    return app
