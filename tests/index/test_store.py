import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.build import build_index
from index.errors import IndexCorruptError
from index.store import MANIFEST, VERSIONS, IndexStore, load_manifest, read_current
from tests.conftest import ROOT, TEST_DATA
from tests.fakes import HashEmbedder

EMBEDDER = HashEmbedder()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexStore]:
    index_dir = tmp_path_factory.mktemp("store") / "idx"
    build_index(TEST_DATA / "corpus", index_dir, HashEmbedder())
    opened = IndexStore.open(index_dir, EMBEDDER.name, EMBEDDER.dimension)
    yield opened
    opened.close()


def assert_offsets_hold(store: IndexStore) -> None:
    """Every passage and sentence is exactly its article's text[start:end]."""
    for info in store.articles():
        article = store.article(info.id)
        assert article is not None
        passages = store.article_passages(info.id)
        assert len(passages) == info.passages > 0
        for passage in passages:
            assert article.text[passage.start : passage.end] == passage.text
            inside = store.sentences_in(info.id, passage.start, passage.end)
            assert inside and inside[0][1] == passage.start and inside[-1][2] == passage.end
        for _, start, end in store.article_sentences(info.id):
            piece = article.text[start:end]
            assert piece and piece == piece.strip()


def test_offsets_hold_in_the_test_corpus(store: IndexStore) -> None:
    assert_offsets_hold(store)


def test_the_sample_corpus_reads_cleanly_and_offsets_hold(tmp_path: Path) -> None:
    report = build_index(ROOT / "corpus", tmp_path / "idx", HashEmbedder())
    assert report.failures == [] and report.articles == 49
    with IndexStore.open(tmp_path / "idx", EMBEDDER.name, EMBEDDER.dimension) as store:
        assert_offsets_hold(store)
        seed = store.article("china-ambassador-joins-twitter.md")
        assert seed is not None and seed.published == "2019-07-09"


paragraph = st.text(alphabet="abcdefgh XYZ.,!?\"'“”’—()\t\u00a0\u0301\r", min_size=1, max_size=200)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(paragraph, min_size=1, max_size=8))
def test_offsets_hold_for_any_article_text(tmp_path: Path, paragraphs: list[str]) -> None:
    corpus = tmp_path / "c"
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir()
    text = "\n\n".join(paragraphs)
    (corpus / "a.md").write_text("---\ntitle: T\n---\n" + text, encoding="utf-8")
    report = build_index(corpus, tmp_path / "idx", HashEmbedder(), rebuild=True)
    if report.articles:
        with IndexStore.open(tmp_path / "idx", EMBEDDER.name, EMBEDDER.dimension) as store:
            assert_offsets_hold(store)


def test_passages_come_back_in_the_order_asked(store: IndexStore) -> None:
    ids = [3, 0, 2]
    assert [p.id for p in store.passages(ids)] == ids
    assert [p.id for p in store.passages([1, 10_000])] == [1]


def test_dense_search_is_cosine_best_first(store: IndexStore) -> None:
    query = EMBEDDER.embed(["The Tarn glacier has lost about a third of its length"])[0]
    hits = store.dense_search(query, 5)
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)
    top = store.passages([hits[0][0]])[0]
    assert top.article_id == "news/glacier.html"
    expected = float(store.passage_vectors([hits[0][0]])[0] @ query)
    assert scores[0] == pytest.approx(expected, abs=1e-5)


def test_lexical_search_uses_stemming_and_ranks_best_first(store: IndexStore) -> None:
    hits = store.lexical_search('"ferries" OR "timetabled"', 5)
    assert hits and store.passages([hits[0][0]])[0].article_id == "news/briefs.jsonl#b1"
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)
    assert store.lexical_search('"zzzunknown"', 5) == []


def test_doc_freq_counts_passages(store: IndexStore) -> None:
    freq = store.doc_freq(["glacier", "the", "zzzunknown"])
    assert freq["zzzunknown"] == 0
    assert freq["glacier"] == len(store.article_passages("news/glacier.html"))
    assert freq["the"] > freq["glacier"]


def test_sentence_vectors_follow_ids(store: IndexStore) -> None:
    sentences = store.article_sentences("lighthouse.txt")
    article = store.article("lighthouse.txt")
    assert article is not None
    vectors = store.sentence_vectors([sid for sid, _, _ in sentences])
    expected = EMBEDDER.embed([article.text[s:e] for _, s, e in sentences])
    assert vectors.dtype == np.float32
    assert np.allclose(vectors, expected, atol=1e-3)  # stored as float16


def test_many_threads_read_at_once(store: IndexStore) -> None:
    query = EMBEDDER.embed(["bridge river"])[0]

    def read(_: int) -> int:
        hits = store.dense_search(query, 3)
        store.passages([pid for pid, _ in hits])
        store.lexical_search('"bridge"', 3)
        return len(store.articles())

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(read, range(200))) == {7}


def test_damaged_files_raise_index_corrupt(tmp_path: Path) -> None:
    build_index(TEST_DATA / "corpus", tmp_path / "idx", HashEmbedder())
    version = tmp_path / "idx" / VERSIONS / str(read_current(tmp_path / "idx"))
    (tmp_path / "idx" / load_manifest(version)["files"]["ann"]).write_bytes(b"not an index")
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        IndexStore.open(tmp_path / "idx", EMBEDDER.name, EMBEDDER.dimension)
    (version / MANIFEST).unlink()
    with pytest.raises(IndexCorruptError):
        IndexStore.open(tmp_path / "idx", EMBEDDER.name, EMBEDDER.dimension)


def test_lexical_search_scores_the_rarest_words_within_its_budget(
    store: IndexStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.store

    both = '"the" OR "ferries"'
    assert store.lexical_search(both, 50) != store.lexical_search('"ferries"', 50)
    freq = store.doc_freq(["the", "ferri", "and"])
    monkeypatch.setattr(index.store, "LEXICAL_POSTINGS", freq["ferri"])
    assert store.passage_count() > freq["ferri"] < freq["the"]
    assert store.lexical_search(both, 50) == store.lexical_search('"ferries"', 50)
    rarer = '"and"' if freq["and"] < freq["the"] else '"the"'
    monkeypatch.setattr(index.store, "LEXICAL_POSTINGS", 1)
    assert store.lexical_search('"the" OR "and"', 5) == store.lexical_search(rarer, 5)
