"""The OpenAPI description of morgue's JSON API, served at /api/openapi.json."""

from __future__ import annotations

from indexer.export import FIELDS, FORMATS
from indexer.related import MAX_TEXT_CHARS
from indexer.request import MAX_PAGE_SIZE, SORTS
from indexer.search import MAX_RELATED
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

RELATED = {"description": "Related stories, the most related first.",
           "content": {"application/json": {
               "schema": {"$ref": "#/components/schemas/RelatedList"}}}}

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
            "/api/suggest": {"get": {
                "summary": "Suggestions for a query being typed: its last word completed "
                           "from the archive's words, then titles of matching articles.",
                "parameters": [_parameter("q", "What has been typed so far.", _string())],
                "responses": {"200": {"description": "Suggestions, the best first.",
                                      "content": {"application/json": {"schema": {
                                          "$ref": "#/components/schemas/Suggestions"}}}}}}},
            "/api/articles/{id}": {"get": {
                "summary": "One article, with the words of a query highlighted.",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": _string()},
                    _parameter("q", "A query whose words to highlight.", _string())],
                "responses": {"200": {"description": "The article.", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Article"}}}},
                    "404": {**ERROR, "description": "No article has this id."}}}},
            "/api/articles/{id}/related": {"get": {
                "summary": "Stories related to an article, by default those before it.",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": _string()},
                    _parameter("before", "Only stories published before this date (ISO); "
                               "'any' for all dates. Default: the article's date.",
                               _string()),
                    _parameter("limit", f"How many (at most {MAX_RELATED}).",
                               {"type": "integer", "minimum": 1, "default": 10})],
                "responses": {"200": RELATED, "400": ERROR,
                              "404": {**ERROR, "description": "No article has this id."}}}},
            "/api/related": {"post": {
                "summary": "Stories related to a draft that is not in the archive.",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"type": "object", "required": ["text"], "properties": {
                        "text": _string(f"The draft (at most {MAX_TEXT_CHARS:,} characters)."),
                        "title": _string(), "limit": {"type": "integer"},
                        "date": _string("Only stories published before this date.")}}}}},
                "responses": {"200": RELATED, "400": ERROR,
                              "413": {**ERROR, "description": "The request is too large."}}}},
        },
        "components": {"schemas": {
            "RelatedList": {"type": "object", "properties": {
                "before": _string("ISO date the stories were published before, or empty."),
                "terms": {"type": "array", "items": _string()},
                "stories": {"type": "array", "items": {"type": "object", "properties": {
                    "id": _string(), "title": _string(), "published": _string(),
                    "source": _string(), "url": _string(), "score": {"type": "number"},
                    "reason": _string("The key words and names it shares."),
                    "copies": {"type": "integer"}}}}}},
            "Suggestions": {"type": "object", "properties": {
                "query": _string(),
                "suggestions": {"type": "array", "items": {"type": "object", "properties": {
                    "text": _string("The completed query, or the article's title."),
                    "kind": _string(enum=["query", "article"]),
                    "id": _string("The article's id (articles only)."),
                    "href": _string("The page it leads to.")}}}}},
            "Error": {"type": "object", "required": ["error"],
                      "properties": {"error": _string("What is wrong, in one line.")}},
            "Hit": {"type": "object", "properties": {
                **ARTICLE_INFO,
                "score": {"type": ["number", "null"],
                          "description": "BM25F score; null when sorted by date."},
                "cluster": _string("The cluster of near-duplicates the result stands for."),
                "copies": {"type": "integer",
                           "description": "Results in that cluster, itself included."},
                "also_published_by": {"type": "array", "items": _string(),
                                      "description": "The cluster's other sources."},
                "title_html": _string("The title, escaped, matches in <mark>."),
                "snippet_html": _string("Passages around the matches, escaped, in <mark>.")}},
            "Results": {"type": "object", "properties": {
                "query": _string(), "sort": _string(), "page": {"type": "integer"},
                "page_size": {"type": "integer"}, "pages": {"type": "integer"},
                "total": {"type": "integer",
                          "description": "Results, near-duplicates counted once."},
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
