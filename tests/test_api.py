"""The JSON API and exports: status codes, shapes, and whole result sets."""

from __future__ import annotations

import csv
import io
import json

import jsonschema
import pytest
from openapi_spec_validator import validate

from bench.corpora import write_jsonl
from indexer.writing import index_paths
from webapp import create_app
from webapp.openapi import spec

from conftest import SAMPLE_ID


@pytest.fixture(scope="module")
def client(archive):
    return create_app(archive.index_dir, archive.settings).test_client()


def conforms(instance, schema_name: str) -> None:
    document = spec()
    jsonschema.validate(instance, {"$ref": f"#/components/schemas/{schema_name}",
                                   "components": document["components"]})


def test_openapi_description_is_valid_and_served(client):
    validate(spec())
    assert client.get("/api/openapi.json").get_json() == spec()


def test_search_returns_total_facets_and_hits_in_the_described_shape(client):
    response = client.get("/api/search?q=oil&source=Reuters&size=5&page=2")
    assert response.status_code == 200
    data = response.get_json()
    conforms(data, "Results")
    assert (data["page"], data["page_size"], len(data["hits"])) == (2, 5, 5)
    assert data["filters"] == {"source": ["Reuters"]}
    assert data["facets"]["source"] == [{"value": "Reuters", "count": data["articles"],
                                         "active": True}]
    assert all("<mark>" in hit["snippet_html"] for hit in data["hits"])


def test_article_in_the_described_shape(client):
    data = client.get(f"/api/articles/{SAMPLE_ID}?q=treaty").get_json()
    conforms(data, "Article")
    assert [p for p in data["paragraphs_html"] if "<mark>treaty</mark>" in p]


@pytest.mark.parametrize("url, message", [
    ("/api/search?q=oil&page=0", "page must be at least 1, not 0"),
    ("/api/search?q=oil&size=abc", "size must be a whole number, not 'abc'"),
    ("/api/search?q=oil&sort=random", "sort must be one of relevance, newest, oldest"),
    ("/api/export?q=oil&format=xml", "format must be one of csv, jsonl, not 'xml'"),
    ("/api/articles/no-such-id", "no article with id 'no-such-id'"),
    ("/api/nothing-here", "There is no such page in this archive."),
])
def test_errors_are_json_with_a_message_and_a_4xx_status(client, url, message):
    response = client.get(url)
    assert 400 <= response.status_code < 500
    conforms(response.get_json(), "Error")
    assert message in response.get_json()["error"]


def test_api_answers_a_missing_index_with_json(tmp_path):
    response = create_app(tmp_path / "none").test_client().get("/api/search?q=x")
    assert response.status_code == 503 and "morgue index" in response.get_json()["error"]


@pytest.mark.parametrize("query", ["oil", "said", "date:1987-03 trade", "zzzzqqq"])
def test_export_has_one_row_per_result(client, query):
    total = client.get("/api/search", query_string={"q": query}).get_json()["total"]
    rows = list(csv.DictReader(io.StringIO(
        client.get("/api/export", query_string={"q": query}).get_data(as_text=True))))
    assert len(rows) == total
    lines = client.get("/api/export", query_string={"q": query, "format": "jsonl"}) \
        .get_data(as_text=True).splitlines()
    assert [json.loads(line)["id"] for line in lines] == [row["id"] for row in rows]


def test_export_follows_the_search_order_and_filters(client):
    page = client.get("/api/search?q=oil&sort=oldest&size=20").get_json()
    rows = list(csv.DictReader(io.StringIO(client.get(
        "/api/export?q=oil&sort=oldest").get_data(as_text=True))))
    assert [row["id"] for row in rows[:20]] == [hit["id"] for hit in page["hits"]]
    assert list(rows[0]) == ["id", "date", "source", "section", "byline", "title", "url",
                             "score", "cluster", "copies"]
    dates = [row["date"] for row in rows if row["date"]]
    assert dates == sorted(dates, key=lambda d: d[:19])


def test_export_is_a_named_download(client):
    response = client.get("/api/export?q=crude+oil&format=jsonl")
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="morgue-crude-oil.jsonl"'
    assert response.mimetype == "application/x-ndjson"


def test_csv_cells_that_a_spreadsheet_would_run_are_kept_as_text(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"id": "f", "title": "=HYPERLINK(\"http://x\")",
                                        "byline": "@evil", "body": "Formula story."}])
    index_paths([tmp_path], tmp_path / "index")
    client = create_app(tmp_path / "index").test_client()
    [row] = csv.DictReader(io.StringIO(client.get("/api/export?q=formula").get_data(
        as_text=True)))
    assert (row["title"], row["byline"]) == ("'=HYPERLINK(\"http://x\")", "'@evil")


def test_export_of_a_query_in_any_script_names_its_file_in_ascii(client):
    response = client.get("/api/export", query_string={"q": "東京 oil"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="morgue-oil.csv"'


def test_suggestions_complete_the_last_word_then_name_articles(client):
    data = client.get("/api/suggest?q=cocoa+bah").get_json()
    conforms(data, "Suggestions")
    queries = [s["text"] for s in data["suggestions"] if s["kind"] == "query"]
    titles = [s for s in data["suggestions"] if s["kind"] == "article"]
    assert queries[0] == "cocoa bahia"
    assert all(q.startswith("cocoa bah") for q in queries)
    assert titles[0]["text"] == "BAHIA COCOA REVIEW"
    assert titles[0]["href"] == f"/articles/{titles[0]['id']}"
    assert client.get(titles[0]["href"]).status_code == 200


def test_completions_come_most_frequent_first_and_field_names_are_kept(client):
    first = client.get("/api/suggest?q=pri").get_json()["suggestions"]
    assert first[0]["text"] in ("price", "prices")
    titled = [s["text"] for s in client.get("/api/suggest?q=title:coc").get_json()[
        "suggestions"] if s["kind"] == "query"]
    assert "title:cocoa" in titled and all(t.startswith("title:coc") for t in titled)


@pytest.mark.parametrize("q", ["", " ", "x", "zzzzqqq", "((((", "a" * 5000, "title:", '"'])
def test_suggestions_for_anything_typed_are_a_list(client, q):
    response = client.get("/api/suggest", query_string={"q": q})
    assert response.status_code == 200
    suggestions = response.get_json()["suggestions"]
    assert isinstance(suggestions, list)
    if q.strip() in ("", "x", "zzzzqqq") or len(q) > 200:
        assert suggestions == []
