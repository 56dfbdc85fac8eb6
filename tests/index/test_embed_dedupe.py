"""A build embeds each distinct text once, and every copy gets that text's vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.build import build_index
from index.store import IndexStore
from tests.fakes import HashEmbedder

BOILERPLATE = "Follow our newsroom for more stories like this one."


def test_a_sentence_repeated_across_articles_is_embedded_once(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n, fact in enumerate(["The dam opened in May.", "The ferry sank in June."]):
        (corpus / f"story-{n}.txt").write_text(
            f"Story {n}\n\n{fact} {BOILERPLATE}\n", encoding="utf-8"
        )
    embedder = HashEmbedder()
    report = build_index(corpus, tmp_path / "idx", embedder)
    with IndexStore.open(tmp_path / "idx", embedder.name, embedder.dimension) as store:
        rows = []
        for article in store.articles():
            text = store.article(article.id).text  # type: ignore[union-attr]
            rows += [(i, text[s:e]) for i, s, e in store.article_sentences(article.id)]
        vectors = store.sentence_vectors([i for i, _ in rows])
    texts = [t for _, t in rows]
    assert texts.count(BOILERPLATE) == 2 and len(texts) == 4
    # 2 passages + 4 sentences, of which one is a repeat.
    assert report.passages == 2 and embedder.calls == 5
    first, second = (vectors[i] for i, t in enumerate(texts) if t == BOILERPLATE)
    assert np.array_equal(first, second)
    assert np.allclose(vectors, embedder.embed(texts), atol=1e-3)  # stored as float16
