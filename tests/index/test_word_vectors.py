"""Static word vectors and the soft focus feature built on them."""

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import index.word_vectors
from index.evidence import SENTENCE_FEATURES, sentence_rows, window_nearness
from index.onnx_embed import packaged_model_dir
from index.question import words
from index.quotes import Sentence, link_neighbours
from index.word_vectors import WordVectors, packaged_word_vectors


def test_related_words_are_nearer_than_unrelated_ones() -> None:
    vectors = packaged_word_vectors()
    sims = vectors.similarity(["founded", "born"], ["established", "birth", "traded", "founded"])
    assert sims.shape == (2, 4)
    assert sims[0, 3] == pytest.approx(1.0, abs=1e-5)
    assert sims[0, 0] > 0.4 > 0.2 > sims[0, 2]  # established, not traded
    assert sims[1, 1] > 0.4 > 0.2 > sims[1, 2]  # birth, not traded
    assert np.allclose(np.linalg.norm(vectors.vectors(["lighthouse", "zzqx"]), axis=1), 1.0)


def test_the_cache_of_word_vectors_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = WordVectors(packaged_model_dir())
    before = fresh.vectors(["harbour", "keeper", "lamp"])
    monkeypatch.setattr(index.word_vectors, "MAX_CACHED", 4)
    fresh.vectors(["tide", "storm"])  # past the bound: the cache starts again
    assert len(fresh._row) <= 4
    assert np.allclose(fresh.vectors(["lamp", "keeper", "harbour"]), before[::-1])


def soft_focus(
    sentences: list[Sentence],
    stems: dict[int, set[str]],
    focus: list[tuple[str, set[str], float]],
    similarity: Any,
) -> list[float]:
    """The "focus_soft" feature of each sentence, as the answer engine computes it."""
    nearness = window_nearness(sentences, [t for t, _, _ in focus], similarity)
    rows = sentence_rows(sentences, stems, set(), {}, None, set(), [], {}, set(), focus, nearness)
    return rows[:, SENTENCE_FEATURES.index("focus_soft")].tolist()


def _sentences(parts: list[str]) -> list[Sentence]:
    out, at = [], 0
    for i, part in enumerate(parts):
        out.append(Sentence(i, "a", at, at + len(part), part, 0, 1.0))
        at += len(part) + 1
    link_neighbours(out)
    return out


def test_soft_focus_counts_a_word_by_its_nearest_word_in_the_window() -> None:
    parts = [
        "The city grew along the river.",
        "Merchants established the town in 1300.",
        "Its market traded amber.",
        "The harbour froze each winter.",
    ]
    sentences = _sentences(parts)
    stems = {s.id: set(words(s.text)) for s in sentences}
    similarity = packaged_word_vectors().similarity
    # "founded" is in no sentence; "city" is in the first.
    focus = [("founded", {"founded"}, 1.0), ("city", {"city"}, 1.0)]
    values = soft_focus(sentences, stems, focus, similarity)
    near = float(similarity(["founded"], ["established"])[0, 0])
    # Sentence 0: "city" itself, "established" beside it; sentence 3: neither, nothing near.
    assert values[0] == pytest.approx((1.0 + near) / 2)
    assert values[1] == pytest.approx((1.0 + near) / 2)  # "city" is beside it
    assert values[3] < values[2] < values[1]
    assert soft_focus(sentences, stems, [], similarity) == [1.0] * 4


def test_a_fake_similarity_shows_the_weighting() -> None:
    sentences = _sentences(["Alpha beta gamma.", "Delta epsilon zeta."])
    sentences[0].next = sentences[1].prev = None  # two sentences apart, no window shared
    stems = {s.id: set(words(s.text)) for s in sentences}

    def similarity(left: list[str], right: list[str]) -> np.ndarray:
        return np.array([[0.5 if r == "delta" else 0.0 for r in right] for _ in left])

    focus = [("alpha", {"alpha"}, 3.0), ("omega", {"omega"}, 1.0)]
    assert soft_focus(sentences, stems, focus, similarity) == pytest.approx([0.75, 0.5])


def test_the_table_is_read_from_the_model_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        WordVectors(tmp_path)
