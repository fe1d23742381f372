"""The OpenAPI description of morgue's JSON API, served at /api/openapi.json."""

from __future__ import annotations

from indexer.export import FIELDS, FORMATS
from indexer.request import MAX_PAGE_SIZE, SORTS
from indexer.schema import FACETS


def _string(description: str = "", **extra) -> dict:
    return {"type": "string", **({"description": description} if description else {}), **extra}


def _parameter(name: str, description: str, schema: dict, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema}


SEARCH_PARAMETERS = [
    _parameter("q", "The query, in the query language of the help page.", _string()),
    *[_parameter(name, f"Only results with this {name} (repeat to allow several).",
                 {"type": "array", "items": _string()}) for name in FACETS],
    _parameter("sort", "Order of the results.", _string(enum=list(SORTS),
                                                        default="relevance")),
    _parameter("page", "Page number; a page past the end is empty.",
               {"type": "integer", "minimum": 1, "default": 1}),
    _parameter("size", f"Results per page (at most {MAX_PAGE_SIZE}).",
               {"type": "integer", "minimum": 1, "default": 10}),
]

ERROR = {"description": "The request is not valid.",
         "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

ARTICLE_INFO = {"id": _string(), "title": _string(),
                "published": _string("ISO 8601 date and time with offset, or empty."),
                "byline": _string(), "source": _string(), "section": _string(),
                "url": _string()}


def spec() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "morgue", "version": "1",
                 "description": "Search a news archive: ranked, highlighted, faceted."},
        "paths": {
            "/api/search": {"get": {
                "summary": "One page of search results, with facets over all of them.",
                "parameters": SEARCH_PARAMETERS,
                "responses": {"200": {"description": "Results.", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Results"}}}},
                    "400": ERROR}}},
            "/api/export": {"get": {
                "summary": "Every result of a search, streamed.",
                "parameters": [p for p in SEARCH_PARAMETERS if p["name"] not in ("page", "size")]
                + [_parameter("format", "Output format.", _string(enum=list(FORMATS),
                                                                  default="csv"))],
                "responses": {"200": {
                    "description": f"One row per result, with the fields {', '.join(FIELDS)}.",
                    "content": {mime.split(";")[0]: {"schema": _string()}
                                for mime in FORMATS.values()}},
                    "400": ERROR}}},
            "/api/articles/{id}": {"get": {
                "summary": "One article, with the words of a query highlighted.",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": _string()},
                    _parameter("q", "A query whose words to highlight.", _string())],
                "responses": {"200": {"description": "The article.", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Article"}}}},
                    "404": {**ERROR, "description": "No article has this id."}}}},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"],
                      "properties": {"error": _string("What is wrong, in one line.")}},
            "Hit": {"type": "object", "properties": {
                **ARTICLE_INFO,
                "score": {"type": ["number", "null"],
                          "description": "BM25F score; null when sorted by date."},
                "copies": {"type": "integer",
                           "description": "Articles with this exact title and text."},
                "title_html": _string("The title, escaped, matches in <mark>."),
                "snippet_html": _string("Passages around the matches, escaped, in <mark>.")}},
            "Results": {"type": "object", "properties": {
                "query": _string(), "sort": _string(), "page": {"type": "integer"},
                "page_size": {"type": "integer"}, "pages": {"type": "integer"},
                "total": {"type": "integer", "description": "Results, copies counted once."},
                "articles": {"type": "integer", "description": "Matching articles."},
                "notice": _string("How a malformed query was read, if it was."),
                "elapsed_ms": {"type": "number"},
                "filters": {"type": "object",
                            "additionalProperties": {"type": "array", "items": _string()}},
                "facets": {"type": "object", "additionalProperties": {
                    "type": "array", "items": {"type": "object", "properties": {
                        "value": _string(), "count": {"type": "integer"},
                        "active": {"type": "boolean"}}}}},
                "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}}}},
            "Article": {"type": "object", "properties": {
                **ARTICLE_INFO, "description": _string(),
                "tags": {"type": "array", "items": _string()}, "body": _string(),
                "title_html": _string(),
                "paragraphs_html": {"type": "array", "items": _string()}}},
        }},
    }
