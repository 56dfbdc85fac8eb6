import random
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from index.errors import IndexCorruptError
from index.question import fts_match, search_words
from index.retrieve import Candidate, cap_per_article, fuse, peak_confidence, retrieve
from index.store import IndexStore
from index.types import Passage
from tests.fakes import HashEmbedder
from tests.index.answer_helpers import build_test_index


def test_peak_confidence_is_high_for_a_clear_winner_and_zero_for_a_flat_side() -> None:
    assert peak_confidence(np.array([10.0, 1.0, 1.0, 1.0])) == pytest.approx(0.9)
    assert peak_confidence(np.array([0.5, 0.5, 0.5])) == 0.0
    assert peak_confidence(np.array([])) == 0.0
    assert peak_confidence(np.zeros(4)) == 0.0


def test_fusion_follows_the_side_that_can_tell_passages_apart() -> None:
    # Dense cannot separate the candidates; BM25 clearly prefers the third one.
    dense = np.array([0.52, 0.51, 0.50, 0.50])
    lexical = np.array([2.0, 1.0, 18.0, 0.0])
    fused, weight = fuse(dense, lexical)
    assert int(np.argmax(fused)) == 2
    assert weight < 0.5
    # And the other way round: BM25 flat, dense sure.
    fused, weight = fuse(np.array([0.2, 0.9, 0.1]), np.array([5.0, 5.0, 5.0]))
    assert int(np.argmax(fused)) == 1
    assert weight > 0.5


def test_fusion_without_lexical_hits_ranks_by_cosine() -> None:
    fused, _ = fuse(np.array([0.3, 0.7, 0.5]), np.zeros(3))
    assert list(np.argsort(-fused)) == [1, 2, 0]


def _cand(pid: int, article: str) -> Candidate:
    return Candidate(Passage(pid, article, pid, 0, 1, "x"), 1.0 - pid / 100, 0.5, 1.0)


def test_cap_per_article_defers_extra_passages_of_one_article() -> None:
    ranked = [_cand(0, "a"), _cand(1, "a"), _cand(2, "a"), _cand(3, "b"), _cand(4, "a")]
    capped = cap_per_article(ranked, per_article=2, window=3)
    assert [c.passage.id for c in capped] == [0, 1, 3, 2, 4]
    assert cap_per_article(ranked, per_article=0, window=3) == ranked


@pytest.fixture(scope="module")
def hash_store(tmp_path_factory: pytest.TempPathFactory) -> IndexStore:
    embedder = HashEmbedder()
    index_dir = build_test_index(tmp_path_factory.mktemp("retrieve"), embedder)
    return IndexStore.open(index_dir, embedder.name, embedder.dimension)


def test_retrieve_finds_the_passage_by_words_and_vectors(hash_store: IndexStore) -> None:
    question = "How many sailors did the keeper rescue in 1952?"
    vector = HashEmbedder().embed([question])[0]
    result = retrieve(hash_store, vector, fts_match(search_words(question)))
    best = result.candidates[0]
    assert "19 sailors" in best.passage.text
    assert best.lexical > 0 and best.dense > 0
    scores = [c.score for c in result.candidates]
    assert scores[:3] == sorted(scores[:3], reverse=True)
    assert result.lexical_ids and result.dense_ids


def test_retrieve_survives_a_malformed_match_expression(hash_store: IndexStore) -> None:
    vector = HashEmbedder().embed(["lighthouse keeper"])[0]
    result = retrieve(hash_store, vector, '"unterminated')
    assert result.candidates and result.lexical_ids == []


def test_retrieve_lists_each_candidate_once(hash_store: IndexStore) -> None:
    vector = HashEmbedder().embed(["ferry library lighthouse"])[0]
    result = retrieve(hash_store, vector, fts_match(["ferry", "library", "lighthouse"]))
    ids = [c.passage.id for c in result.candidates]
    assert len(ids) == len(set(ids)) == hash_store.passage_count()


def test_a_malformed_match_expression_is_logged_and_dense_results_still_come(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    embedder = HashEmbedder()
    store = IndexStore.open(build_test_index(tmp_path, embedder), embedder.name, embedder.dimension)
    vector = embedder.embed(["lighthouse keeper"])[0]
    with store, caplog.at_level("WARNING", logger="index.retrieve"):
        result = retrieve(store, vector, 'lighthouse AND "unterminated')
    assert result.candidates and result.lexical_ids == []
    assert "malformed query" in caplog.text


def test_a_damaged_full_text_index_is_not_hidden_as_an_empty_search(tmp_path: Path) -> None:
    embedder = HashEmbedder()
    index_dir = build_test_index(tmp_path, embedder)
    (version,) = (index_dir / "versions").iterdir()
    # The same bytes every run: random ones can, rarely, read as a valid empty page.
    noise = random.Random(0)
    with sqlite3.connect(version / "meta.sqlite") as db:
        rows = db.execute("SELECT id, length(block) FROM passages_fts_data WHERE id > 10")
        for block_id, size in rows.fetchall():
            db.execute(
                "UPDATE passages_fts_data SET block = ? WHERE id = ?",
                (noise.randbytes(size), block_id),
            )
    # Only the schema is checked on open, as for a database too large to check in full.
    store = IndexStore.open(index_dir, embedder.name, embedder.dimension, db_check="schema")
    vector = embedder.embed(["lighthouse keeper"])[0]
    with store, pytest.raises(IndexCorruptError, match="malformed"):
        retrieve(store, vector, fts_match(["lighthouse"]))
