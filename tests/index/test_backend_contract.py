"""The contract every index backend keeps; run against each backend (and each dense kind)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from index import ann
from index.backend import ArticleRows, Backend, ChangeSet, Store
from index.build import CHUNKING, chunk_article, passage_embed_text
from index.store import FORMAT_VERSION
from index.store_writer import LocalBackend
from index.types import Article
from tests.fakes import HashEmbedder

EMBEDDER = HashEmbedder()
WORDS = [
    "river",
    "harbour",
    "glacier",
    "orchard",
    "bridge",
    "ferry",
    "granite",
    "tide",
    "storm",
    "lantern",
    "meadow",
    "canal",
    "valley",
    "summit",
    "forest",
    "quarry",
    "mill",
    "station",
    "market",
    "tower",
    "island",
    "beacon",
    "delta",
]


def make_article(n: int, version: int = 0) -> Article:
    rng = random.Random(n * 1000 + version)
    sentences = []
    for _ in range(rng.randint(6, 14)):
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
        sentences.append(" ".join(words).capitalize() + ".")
    text = " ".join(sentences)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return Article(f"a{n:04d}.txt", f"Article {n}", text, digest, path=f"a{n:04d}.txt")


def rows_of(article: Article) -> ArticleRows:
    chunk = chunk_article(article)
    p_texts = [passage_embed_text(article.title, article.text[s:e]) for s, e in chunk.passages]
    s_texts = [article.text[s:e] for s, e in chunk.sentences]
    return ArticleRows(
        article,
        chunk.passages,
        chunk.sentences,
        EMBEDDER.embed(p_texts),
        EMBEDDER.embed(s_texts),
    )


def manifest() -> dict[str, object]:
    return {
        "format_version": FORMAT_VERSION,
        "model": EMBEDDER.name,
        "dimension": EMBEDDER.dimension,
        "chunking": CHUNKING,
        "counts": {"embedded": 0},
    }


Factory = Callable[[Path], Backend]


@pytest.fixture(params=["local-flat", "local-ivf"])
def make_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Factory:
    if request.param == "local-ivf":
        monkeypatch.setattr(ann, "ANN_MIN_PASSAGES", 1)  # the IVF base even when small
    return LocalBackend


@pytest.fixture
def backend(make_backend: Factory, tmp_path: Path) -> Backend:
    backend = make_backend(tmp_path / "idx")
    articles = [make_article(n) for n in range(60)]
    backend.apply(ChangeSet(upserts=[rows_of(a) for a in articles], reset=True), manifest(), "v1")
    return backend


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    opened = backend.open(EMBEDDER.name, EMBEDDER.dimension)
    yield opened
    opened.close()


def all_passages(store: Store) -> dict[int, str]:
    return {p.id: p.article_id for a in store.articles() for p in store.article_passages(a.id)}


def exact_top(store: Store, query: np.ndarray, k: int) -> list[int]:
    ids = sorted(all_passages(store))
    scores = store.passage_vectors(ids) @ query
    return [ids[i] for i in np.argsort(-scores, kind="stable")[:k]]


def test_counts_manifest_and_version(store: Store) -> None:
    assert store.article_count() == 60 == len(store.articles())
    assert store.passage_count() == len(all_passages(store)) == store.manifest["counts"]["passages"]
    assert store.manifest["model"] == EMBEDDER.name
    assert store.manifest["ann"]["kind"] == (ann.IVF if ann.ANN_MIN_PASSAGES == 1 else ann.FLAT)
    assert store.version == "v1"
    assert store.size_bytes() > 0


def test_dense_search_is_exact_cosine_best_first_with_high_recall(store: Store) -> None:
    rng = random.Random(7)
    recalls = []
    for _ in range(40):
        query = EMBEDDER.embed([" ".join(rng.choice(WORDS) for _ in range(6))])[0]
        hits = store.dense_search(query, 10)
        scores = [s for _, s in hits]
        assert scores == sorted(scores, reverse=True) and len(hits) == 10
        exact = store.passage_vectors([i for i, _ in hits]) @ query
        assert np.allclose(scores, exact, atol=1e-5)
        truth = exact_top(store, query, 10)
        cut = float((store.passage_vectors(truth[-1:]) @ query)[0])  # ties at the cut count
        recalls.append(sum(1 for i, s in hits if i in truth or s >= cut - 1e-6) / 10)
    assert np.mean(recalls) >= 0.98


def test_lexical_search_doc_freq_and_passages(store: Store) -> None:
    hits = store.lexical_search('"glacier"', 5)
    assert hits and [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert all("glacier" in p.text.lower() for p in store.passages([i for i, _ in hits]))
    assert store.lexical_any('"glacier"') and not store.lexical_any('"zzzunknown"')
    freq = store.doc_freq(["glacier", "zzzunknown"])
    holding = sum(
        1
        for a in store.articles()
        for p in store.article_passages(a.id)
        if "glacier" in p.text.lower()
    )
    assert freq == {"glacier": holding, "zzzunknown": 0}
    ids = sorted(all_passages(store))
    asked = [ids[5], ids[0], 10**9, ids[3]]
    assert [p.id for p in store.passages(asked)] == [ids[5], ids[0], ids[3]]


def test_article_matches_looks_within_one_article_only(store: Store) -> None:
    articles = store.articles()
    matches = ['text : "' + w + '"' for w in WORDS] + ['text : "zzzunknown"', 'title : "article"']
    for info in articles[:12]:
        article = store.article(info.id)
        assert article is not None
        held = set(article.text.lower().replace(".", " ").split())
        expected = [w in held for w in WORDS] + [False, True]
        assert store.article_matches(info.id, matches) == expected
    assert store.article_matches("no-such-article", matches[:2]) == [False, False]
    assert store.article_matches(articles[0].id, []) == []


def test_sentences_and_their_vectors_follow_offsets(store: Store) -> None:
    article = store.article("a0003.txt")
    assert article is not None
    for passage in store.article_passages(article.id):
        assert article.text[passage.start : passage.end] == passage.text
        inside = store.sentences_in(article.id, passage.start, passage.end)
        assert inside[0][1] == passage.start and inside[-1][2] == passage.end
    sentences = store.article_sentences(article.id)
    vectors = store.sentence_vectors([sid for sid, _, _ in sentences])
    expected = EMBEDDER.embed([article.text[s:e] for _, s, e in sentences])
    assert vectors.dtype == np.float32 and np.allclose(vectors, expected, atol=1e-3)


def test_a_change_set_goes_live_while_an_open_store_keeps_its_view(backend: Backend) -> None:
    old = backend.open(EMBEDDER.name, EMBEDDER.dimension)
    before = all_passages(old)
    query = EMBEDDER.embed(["glacier harbour ferry"])[0]
    dense_before = old.dense_search(query, 10)
    lexical_before = old.lexical_search('"glacier"', 20)
    edited = make_article(4, version=1)
    changes = ChangeSet(
        upserts=[rows_of(edited), rows_of(make_article(100))], removals=["a0004.txt", "a0007.txt"]
    )
    backend.apply(changes, manifest(), "v2")
    new = backend.open(EMBEDDER.name, EMBEDDER.dimension)
    try:
        assert new.version == "v2" and old.version == "v1"
        assert new.article("a0007.txt") is None and new.article("a0100.txt") is not None
        current = new.article("a0004.txt")
        assert current is not None and current.text == edited.text
        after = all_passages(new)
        assert min(set(after) - set(before)) > max(before)  # ids are never reused
        assert not {i for i, a in before.items() if a in ("a0004.txt", "a0007.txt")} & set(after)
        assert new.article_count() == 60 and new.passage_count() == len(after)
        for pid, _ in new.dense_search(query, 50):
            assert pid in after
        for word, stem in (("glacier", "glacier"), ("harbour", "harbour"), ("zzz", "zzz")):
            holding = sum(
                word in p.text.lower() for a in new.articles() for p in new.article_passages(a.id)
            )
            assert new.doc_freq([stem]) == {stem: holding}
        # The old view is whole: the same rows, search results and texts as before the change.
        assert all_passages(old) == before
        assert old.dense_search(query, 10) == dense_before
        assert old.lexical_search('"glacier"', 20) == lexical_before
        gone = [i for i, a in before.items() if a == "a0007.txt"]
        assert [p.id for p in old.passages(gone)] == gone
        assert old.passage_vectors(gone).shape == (len(gone), EMBEDDER.dimension)
    finally:
        new.close()
        old.close()


def test_many_changes_compact_the_dense_index(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ann, "COMPACT_MIN", 20)
    monkeypatch.setattr(ann, "COMPACT_FRACTION", 0.0)
    for round_ in range(1, 4):
        edits = [make_article(n, version=round_) for n in range(round_ * 5, round_ * 5 + 5)]
        changes = ChangeSet(upserts=[rows_of(a) for a in edits], removals=[a.id for a in edits])
        backend.apply(changes, manifest(), f"v{round_ + 1}")
    with backend.open(EMBEDDER.name, EMBEDDER.dimension) as store:
        assert store.manifest["ann"]["delta"] + store.manifest["ann"]["tombstones"] <= 40
        assert store.article_count() == 60
        query = EMBEDDER.embed(["storm tower canal"])[0]
        hits = [i for i, _ in store.dense_search(query, 5)]
        assert set(hits) <= set(all_passages(store))
        article = store.article("a0015.txt")
        assert article is not None and article.text == make_article(15, version=3).text


def test_many_updates_keep_few_vector_files(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ann, "MAX_SEGMENTS", 3)
    for round_ in range(1, 7):
        edited = make_article(round_, version=round_)
        changes = ChangeSet(upserts=[rows_of(edited)], removals=[edited.id])
        backend.apply(changes, manifest(), f"v{round_ + 1}")
    with backend.open(EMBEDDER.name, EMBEDDER.dimension) as store:
        files = store.manifest["files"]
        assert len(files["passage_segments"]) <= 4 and len(files["sentence_segments"]) <= 4
        for n in (0, 3, 6, 30):
            article = store.article(f"a{n:04d}.txt")
            assert article is not None
            expected = rows_of(article)
            passages = store.article_passages(article.id)
            assert np.allclose(
                store.passage_vectors([p.id for p in passages]), expected.passage_vectors
            )
            sentences = [sid for sid, _, _ in store.article_sentences(article.id)]
            assert np.allclose(
                store.sentence_vectors(sentences), expected.sentence_vectors, atol=1e-3
            )
        query = EMBEDDER.embed(["storm tower canal"])[0]
        assert len(store.dense_search(query, 10)) == 10
