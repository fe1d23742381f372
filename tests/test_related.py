"""Related stories and near-duplicate clusters, on an archive whose relations are known."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import jsonschema
import numpy as np
import pytest

from bench.corpora import write_jsonl
from indexer import segments, vectors
from indexer.duplicates import BANDS, Clusters, Signed, signature
from indexer.related import MAX_TEXT_CHARS, TextError
from indexer.search import Archive
from indexer.store import open_live
from indexer import writing
from indexer.writing import index_paths
from webapp import create_app
from webapp.openapi import spec

from conftest import environment, reuters_records, search

DREDGING = ("The harbour authority said dredging of the main channel would remove silt "
            "that has narrowed the shipping lane. The council approved the dredging plan "
            "after a long dispute over where the silt would be dumped.")
WIRE_BODY = ("Dredgers began clearing silt from the harbour channel on Monday, the harbour "
             "authority said, in a project expected to take six months.\n\n"
             "The channel has narrowed so much that large ships wait for high tide.\n\n"
             "The council approved the dredging contract in January after objections from "
             "fishermen over where the silt would be dumped at sea.\n\n"
             "The authority said the work would not close the port.")


def story(doc_id, date, title, body, source="Gazette"):
    return dict(id=doc_id, date=date, title=title, body=body, source=source)


STORIES = [
    story("p1", "2014-01-10T12:00:00+00:00", "Harbour dredging plan approved", DREDGING),
    story("p2", "2014-02-01T08:00:00+00:00", "Harbour dredging begins", WIRE_BODY),
    # Wire copies of p2 in other outlets: new headline, byline and dateline added, last
    # paragraph trimmed.
    story("w1", "2014-02-01T09:00:00+00:00", "Work starts on silted harbour channel",
          "By Staff Reporter\n\nPORT TOWN (Wire) - " + WIRE_BODY.rsplit("\n\n", 1)[0],
          source="Herald"),
    story("w2", "2014-02-01T10:30:00+00:00", "Dredgers move in",
          "PORT TOWN - " + WIRE_BODY, source="Post"),
    story("p4", "2014-03-01T09:59:59+00:00", "Silt dumping row over harbour dredging",
          "Fishermen protested at the harbour against dumping dredged silt at sea."),
    story("p3", "2014-03-01T10:00:00+00:00", "Dredging halted after silt spill",
          "Dredging in the harbour channel was halted after silt spilled onto a beach, "
          "the harbour authority said. The council will review the dredging contract."),
    story("p5", "2014-03-01T10:00:01+00:00", "Harbour dredging review ordered",
          "The council ordered a review of harbour dredging after the silt spill."),
    story("p6", "2014-05-01T12:00:00+00:00", "Dredging resumes in harbour",
          "Dredging of the harbour channel resumed after the council review of the silt spill."),
    story("n1", None, "Harbour history", "The harbour was dredged by hand in 1850; silt "
                                         "has always troubled it."),
    story("u1", "2014-02-20T12:00:00+00:00", "Football club signs striker",
          "The club signed a striker from abroad on a three-year contract."),
]


@pytest.fixture(scope="module", params=["whoosh", "xapian"])
def archive(tmp_path_factory, request) -> Archive:
    """STORIES indexed on each backend in turn (the sharded one in local shards)."""
    root = tmp_path_factory.mktemp("related")
    write_jsonl(root / "stories.jsonl", STORIES)
    with environment(MORGUE_BACKEND=request.param):
        summary = index_paths([root], root / "index")
        assert summary.clusters == 1
        return Archive(root / "index")


COPIES = {"w1": "p2", "w2": "p2"}  # wire copies, listed as p2 (whichever stands for them)


def ids(found) -> list[str]:
    return [COPIES.get(story.id, story.id) for story in found.stories]


def test_past_stories_only_by_default_up_to_the_second_before(archive):
    found = archive.related("p3")
    assert found.before == "2014-03-01T10:00:00+00:00"
    # p4, a second before, is in; p5, a second after, is not.
    assert set(ids(found)) == {"p1", "p2", "p4"}


def test_wire_copies_are_listed_once_as_versions_of_one_story(archive):
    [wire] = [s for s in archive.related("p3").stories if COPIES.get(s.id, s.id) == "p2"]
    assert wire.copies == 3


def test_later_stories_on_request_and_never_unrelated_ones(archive):
    found = archive.related("p3", include_later=True)
    assert set(ids(found)) == {"p1", "p2", "p4", "p5", "p6", "n1"}
    assert "u1" not in ids(found)
    assert found.before == ""


def test_each_story_says_what_it_shares(archive):
    for related in archive.related("p3").stories:
        assert related.reason.startswith("Shares ")
        assert "dredging" in related.reason or "silt" in related.reason


def test_near_duplicates_of_the_article_itself_are_not_related_stories(archive):
    listed = {story.id for story in archive.related("p2", include_later=True).stories}
    assert listed and not {"p2", "w1", "w2"} & listed


def test_a_draft_finds_related_coverage_and_a_date_keeps_it_in_the_past(archive):
    draft = "Silt from the harbour dredging spilled again, the council said."
    assert {"p3", "p5", "p6"} <= set(ids(archive.related_to_text(draft)))
    past = archive.related_to_text(draft, title="Another spill", date="2014-02-15")
    assert set(ids(past)) == {"p1", "p2"}


@pytest.mark.parametrize("text, message", [
    ("", "the text is empty"),
    ("   \n ", "the text is empty"),
    ("x" * (MAX_TEXT_CHARS + 1), f"the limit is {MAX_TEXT_CHARS:,}"),
])
def test_a_draft_that_cannot_be_used_is_a_clear_error(archive, text, message):
    with pytest.raises(TextError, match=message):
        archive.related_to_text(text)


@pytest.mark.parametrize("text", ["Der Hafen wird ausgebaggert, sagte die Behörde.",
                                  "港の浚渫工事が始まった。", "12345 67890", "!!! ???"])
def test_drafts_in_other_languages_or_without_words_answer_without_error(archive, text):
    found = archive.related_to_text(text)
    assert isinstance(found.stories, list)


@pytest.mark.parametrize("backend", ["whoosh", "xapian"])
def test_a_wire_copy_added_later_joins_the_cluster_of_the_original(tmp_path, backend):
    [original] = [r for r in reuters_records(400) if r["id"] == "reuters-5"]
    write_jsonl(tmp_path / "a.jsonl", [original])
    with environment(MORGUE_BACKEND=backend):
        index_paths([tmp_path], tmp_path / "index")
        paragraphs = original["body"].split("\n\n")
        copy = dict(original, id="copy", title="A new headline", source="Other Wire",
                    body="By A. Writer\n\nNEW YORK - " + "\n\n".join(paragraphs[:-1]))
        write_jsonl(tmp_path / "b.jsonl", [copy])
        summary = index_paths([tmp_path], tmp_path / "index")
        assert summary.clusters == 1
        hits = search(Archive(tmp_path / "index"), original["title"]).hits
    assert hits[0].copies == 2 and hits[0].also_published_by == ["Other Wire"]


def test_a_copy_of_a_story_since_replaced_starts_a_cluster_of_its_own(tmp_path):
    """The band keys kept beside a segment hold the articles deleted from it since."""
    [original, other] = [r for r in reuters_records(400) if r["id"] in ("reuters-5", "reuters-9")]
    write_jsonl(tmp_path / "a.jsonl", [original])
    index_paths([tmp_path], tmp_path / "index")
    write_jsonl(tmp_path / "a.jsonl", [dict(other, id=original["id"])])
    assert index_paths([tmp_path], tmp_path / "index").updated == 1
    write_jsonl(tmp_path / "b.jsonl", [dict(original, id="copy")])
    assert index_paths([tmp_path], tmp_path / "index").clusters == 0
    write_jsonl(tmp_path / "c.jsonl", [dict(original, id="second copy")])
    assert index_paths([tmp_path], tmp_path / "index").clusters == 1


def test_the_band_keys_kept_beside_each_segment_are_those_of_its_signatures(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setattr(writing, "SEGMENT_MIN", 100)  # a segment per worker
    write_jsonl(tmp_path / "a.jsonl", reuters_records(400)[:150])
    write_jsonl(tmp_path / "b.jsonl", reuters_records(400)[150:])
    index_paths([tmp_path], tmp_path / "index", jobs=2)
    with open_live(tmp_path / "index").reader() as reader:
        leaves = segments.leaves(reader)
        kept = [np.array(segments.band_run(leaf)) for leaf, _ in leaves]
        for leaf, _ in leaves:  # as worked out for a segment Whoosh merged, which has none
            os.remove(os.path.join(leaf.storage().folder,
                                   leaf.segment().make_filename(segments.BANDS)))
        worked_out = [segments.band_run(leaf) for leaf, _ in leaves]
    assert len(kept) == 2 and all(len(run) > 100 * BANDS for run in kept)
    assert all(np.array_equal(a, b) for a, b in zip(kept, worked_out))


def test_an_indexed_article_weighs_its_words_as_the_same_text_given_as_a_draft(index_dir):
    """The term vector indexing keeps for an article (from the term numbers its fields
    were analysed into) is the one its title and text give as a draft."""
    with open_live(index_dir).reader() as reader:
        column = reader.column_reader("terms")
        checked = 0
        for docnum, stored in reader.iter_docs():
            counts = vectors.term_counts(stored.get("title", ""), stored.get("body", ""))
            hashes, kept = vectors._decode(column[docnum])
            assert dict(zip(hashes.tolist(), kept.tolist())) == {
                vectors.term_hash(stem): min(count, 65535) for stem, count in counts.items()
            }, stored["id"]
            checked += 1
    assert checked > 1500


def test_signatures_estimate_how_much_of_their_3_grams_two_texts_share():
    """Each story against its first part, cut at a random paragraph: the share of equal
    values in their signatures estimates the Jaccard similarity of their 3-gram sets."""
    rng, errors = random.Random(3), []
    for record in reuters_records(400):
        words = record["body"].split()
        if len(words) < 80:
            continue
        cut = words[:rng.randrange(len(words) // 4, len(words))]
        grams = [{" ".join(w[n:n + 3]).lower() for n in range(len(w) - 2)} for w in (words, cut)]
        jaccard = len(grams[0] & grams[1]) / len(grams[0] | grams[1])
        estimate = np.mean(signature(" ".join(words)) == signature(" ".join(cut)))
        errors.append(estimate - jaccard)
    assert len(errors) > 100
    assert abs(np.mean(errors)) < 0.02 and np.std(errors) < 0.07  # 128 values: 0.044 at 0.5


def test_clusters_keep_different_stories_apart():
    clusters = Clusters()
    records = reuters_records(300)
    assigned = {r["id"]: clusters.assign(r["id"], r["body"]) for r in records}
    # Among 300 distinct Reuters stories some are true wire duplicates, but few.
    assert sum(1 for doc_id, cluster in assigned.items() if cluster != doc_id) < 15


def test_clusters_found_a_batch_at_a_time_are_those_found_one_by_one():
    """Assigning a batch at a time finds copies within a batch, across batches and among
    the articles already indexed, as assigning one article at a time does."""
    records = reuters_records(500)
    items, later = [], {}
    for n, record in enumerate(records):
        items += [(record["id"], record["body"])] + later.pop(n, [])
        paragraphs = record["body"].split("\n\n")
        if n % 3 == 0 and len(paragraphs) > 4:  # a wire copy, next or 200 stories on
            copy = "NEW YORK - " + "\n\n".join(paragraphs[:-1])
            later.setdefault(n + 200 * (n % 2), []).append((f"copy-{record['id']}", copy))
    ids = [doc_id for doc_id, _ in items]
    signatures = [signature(body) for _, body in items]
    one_by_one = Clusters()
    expected = [one_by_one.assign_signatures([i], [s])[0] for i, s in zip(ids, signatures)]
    cluster_of = dict(zip(ids, expected))
    copies = [doc_id for doc_id in ids if doc_id.startswith("copy-")]
    assert len(copies) > 15 and all(
        cluster_of[doc_id] == cluster_of[doc_id.removeprefix("copy-")] for doc_id in copies)
    for size in (1, 7, 64, 5000):
        clusters = Clusters()
        assert [cluster for start in range(0, len(ids), size) for cluster in
                clusters.assign_signatures(ids[start:start + size],
                                           signatures[start:start + size])] == expected
    indexed = Clusters()  # the first 300 already in the index, then the rest in batches
    indexed.add_existing(ids[:300], expected[:300], Signed.of(
        [b"" if values is None else values.tobytes() for values in signatures[:300]]))
    assert [cluster for start in range(300, len(ids), 64) for cluster in
            indexed.assign_signatures(ids[start:start + 64],
                                      signatures[start:start + 64])] == expected[300:]
    # An article given again under its own id is not its own near-duplicate.
    alone = next(n for n, (doc_id, cluster) in enumerate(zip(ids, expected))
                 if cluster == doc_id and expected.count(doc_id) == 1 and signatures[n] is not None)
    assert indexed.assign_signatures([ids[alone], "other"], [signatures[alone]] * 2) == [
        ids[alone], ids[alone]]


def test_related_api_shapes_and_errors(archive):
    client = create_app(archive.index_dir, archive.settings).test_client()
    data = client.get("/api/articles/p3/related?limit=2").get_json()
    assert set(data) == {"stories", "before", "terms"} and len(data["stories"]) == 2
    jsonschema.validate(data, {"$ref": "#/components/schemas/RelatedList",
                               "components": spec()["components"]})
    assert set(data["stories"][0]) == {"id", "title", "published", "source", "url", "score",
                                       "reason", "copies"}
    later = client.get("/api/articles/p3/related?before=any").get_json()
    assert "p6" in [s["id"] for s in later["stories"]]
    early = client.get("/api/articles/p3/related?before=2014-01-31").get_json()
    assert [s["id"] for s in early["stories"]] == ["p1"]
    for url, status in [("/api/articles/p3/related?before=soon", 400),
                        ("/api/articles/p3/related?limit=0", 400),
                        ("/api/articles/nope/related", 404)]:
        response = client.get(url)
        assert response.status_code == status and response.get_json()["error"]
    posted = client.post("/api/related", json={"text": "silt spill dredging", "limit": 3})
    assert posted.status_code == 200 and len(posted.get_json()["stories"]) == 3
    for body, status in [({"text": ""}, 400), (["a list"], 400),
                         ({"text": "x" * (3 * 1024 * 1024)}, 413)]:
        response = client.post("/api/related", json=body)
        assert response.status_code == status and response.get_json()["error"]


def test_article_page_lists_related_stories_with_a_switch_for_later_ones(archive):
    from bs4 import BeautifulSoup

    client = create_app(archive.index_dir, archive.settings).test_client()
    soup = BeautifulSoup(client.get("/articles/p3").get_data(as_text=True), "html.parser")
    section = soup.select_one("section.related")
    links = [a["href"].removeprefix("/articles/") for a in section.select(".related-list a")]
    assert {COPIES.get(link, link) for link in links} == {"p1", "p2", "p4"}
    switch = section.find("a", string="include later stories")["href"]
    later = BeautifulSoup(client.get(switch).get_data(as_text=True), "html.parser")
    assert "/articles/p6" in [a["href"] for a in later.select(".related-list a")]
    draft = client.post("/related", data={"text": "silt spill in the harbour"})
    assert draft.status_code == 200 and "/articles/p3" in draft.get_data(as_text=True)
    empty = client.post("/related", data={"text": ""})
    assert empty.status_code == 400 and "The text is empty" in empty.get_data(as_text=True)


def test_command_line_related(archive, tmp_path):
    def morgue(*args):
        return subprocess.run([sys.executable, "-m", "indexer.cli", "related", *args,
                               "--index", str(archive.index_dir)],
                              capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, **archive.settings.environment()))

    run = morgue("p3")
    assert run.returncode == 0 and "Published before 2014-03-01" in run.stdout
    assert "p4" in run.stdout and "p6" not in run.stdout
    draft = tmp_path / "draft.txt"
    draft.write_text("Silt spill halts harbour dredging")
    assert "p3" in morgue("--text-file", str(draft)).stdout
    assert morgue().returncode == 2


def test_related_lists_follow_the_index_as_stories_are_added_and_removed(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", STORIES)
    index_paths([tmp_path], tmp_path / "index")
    archive = Archive(tmp_path / "index")
    assert "p7" not in ids(archive.related("p6"))
    added = story("p7", "2014-04-01T12:00:00+00:00", "Silt spill review finds dredging fault",
                  "The council review of the harbour silt spill blamed the dredging contract.")
    write_jsonl(tmp_path / "b.jsonl", [added])
    index_paths([tmp_path], tmp_path / "index")
    assert "p7" in ids(archive.related("p6"))
    (tmp_path / "b.jsonl").unlink()
    index_paths([tmp_path], tmp_path / "index")
    assert "p7" not in ids(archive.related("p6"))


def test_a_shared_name_is_a_reason(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", STORIES + [
        story("m1", "2014-01-05T12:00:00+00:00", "Mayor visits port",
              "Mayor Anna Lindqvist toured the harbour channel and spoke of the dredging.")])
    index_paths([tmp_path], tmp_path / "index")
    found = Archive(tmp_path / "index").related_to_text(
        "Anna Lindqvist said the harbour channel dredging would go on.")
    [mayor] = [s for s in found.stories if s.id == "m1"]
    assert "“Anna Lindqvist”" in mayor.reason
    assert "“Anna Lindqvist”" in found.terms
