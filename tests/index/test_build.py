import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import index.build
from index.build import build_index
from index.errors import IndexMismatchError, IndexNotBuiltError
from index.readers import CorpusNotFoundError
from index.store import CURRENT, VERSIONS, IndexStore, read_current
from index.types import BuildProgress
from tests.conftest import TEST_DATA
from tests.fakes import HashEmbedder


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(TEST_DATA / "corpus", target)
    return target


def open_store(index_dir: Path, embedder: HashEmbedder) -> IndexStore:
    return IndexStore.open(index_dir, embedder.name, embedder.dimension)


def search_titles(store: IndexStore, embedder: HashEmbedder, query: str, k: int = 50) -> set[str]:
    hits = store.dense_search(embedder.embed([query])[0], k)
    return {p.article_id for p in store.passages([pid for pid, _ in hits])}


def test_first_build_indexes_every_article(corpus: Path, tmp_path: Path) -> None:
    embedder = HashEmbedder()
    seen: list[BuildProgress] = []
    report = build_index(corpus, tmp_path / "idx", embedder, progress=seen.append)
    assert (report.added, report.updated, report.removed, report.unchanged) == (7, 0, 0, 0)
    assert report.failed == 2 and report.articles == 7
    assert report.embedded == report.passages > 0
    assert {p.stage for p in seen} == {"reading", "embedding", "writing"}
    embedding = [p for p in seen if p.stage == "embedding"]
    assert embedding[-1].done == embedding[-1].total
    with open_store(tmp_path / "idx", embedder) as store:
        assert store.passage_count() == report.passages
        assert store.manifest["model"] == embedder.name
        assert store.manifest["counts"]["articles"] == 7
        assert {"faiss", "numpy", "torch", "sentence-transformers"} <= set(
            store.manifest["libraries"]
        )


def test_second_build_embeds_nothing(corpus: Path, tmp_path: Path) -> None:
    embedder = HashEmbedder()
    build_index(corpus, tmp_path / "idx", embedder)
    version = read_current(tmp_path / "idx")
    calls = embedder.calls
    report = build_index(corpus, tmp_path / "idx", embedder)
    assert embedder.calls == calls
    assert (report.embedded, report.added, report.updated, report.removed) == (0, 0, 0, 0)
    assert report.unchanged == 7
    assert read_current(tmp_path / "idx") == version  # nothing changed: no new version


def test_editing_one_article_re_embeds_only_its_passages_and_sentences(
    corpus: Path, tmp_path: Path
) -> None:
    embedder = HashEmbedder()
    build_index(corpus, tmp_path / "idx", embedder)
    path = corpus / "rainfall.txt"
    path.write_text(path.read_text() + "\nThe wettest month on record was November 1998.\n")
    calls = embedder.calls
    report = build_index(corpus, tmp_path / "idx", embedder)
    assert (report.updated, report.unchanged, report.added, report.removed) == (1, 6, 0, 0)
    with open_store(tmp_path / "idx", embedder) as store:
        passages = store.article_passages("rainfall.txt")
        sentences = store.article_sentences("rainfall.txt")
        assert report.embedded == len(passages)
        assert embedder.calls - calls == len(passages) + len(sentences)
        edited = store.article("rainfall.txt")
        assert edited is not None and "November 1998" in edited.text
        assert "rainfall.txt" in search_titles(store, embedder, "wettest month November 1998")


def test_reused_vectors_match_fresh_ones(corpus: Path, tmp_path: Path) -> None:
    embedder = HashEmbedder()
    build_index(corpus, tmp_path / "idx", embedder)
    (corpus / "news" / "bridge.md").unlink()  # not the last article: its ids leave a gap
    path = corpus / "rainfall.txt"
    path.write_text(path.read_text() + "\nThe wettest month on record was November 1998.\n")
    build_index(corpus, tmp_path / "idx", embedder)
    build_index(corpus, tmp_path / "fresh", embedder, rebuild=True)
    with open_store(tmp_path / "idx", embedder) as a, open_store(tmp_path / "fresh", embedder) as b:
        assert a.passage_count() == b.passage_count()
        assert [x.id for x in a.articles()] == [x.id for x in b.articles()]
        for info in a.articles():
            pa, pb = a.article_passages(info.id), b.article_passages(info.id)
            assert [p.text for p in pa] == [p.text for p in pb]
            va, vb = a.passage_vectors([p.id for p in pa]), b.passage_vectors([p.id for p in pb])
            assert (va == vb).all()
            sa = [s for s, _, _ in a.article_sentences(info.id)]
            sb = [s for s, _, _ in b.article_sentences(info.id)]
            assert (a.sentence_vectors(sa) == b.sentence_vectors(sb)).all()


def test_deleting_an_article_removes_it_from_search(corpus: Path, tmp_path: Path) -> None:
    embedder = HashEmbedder()
    build_index(corpus, tmp_path / "idx", embedder)
    with open_store(tmp_path / "idx", embedder) as store:
        assert "news/orchard.md" in search_titles(store, embedder, "apple orchards cider")
    (corpus / "news" / "orchard.md").unlink()
    report = build_index(corpus, tmp_path / "idx", embedder)
    assert (report.removed, report.unchanged, report.embedded) == (1, 6, 0)
    with open_store(tmp_path / "idx", embedder) as store:
        assert "news/orchard.md" not in search_titles(store, embedder, "apple orchards cider")
        assert store.article("news/orchard.md") is None
        assert store.lexical_search('"cider"', 10) == []


def test_rebuild_flag_re_embeds_everything(corpus: Path, tmp_path: Path) -> None:
    embedder = HashEmbedder()
    first = build_index(corpus, tmp_path / "idx", embedder)
    report = build_index(corpus, tmp_path / "idx", embedder, rebuild=True)
    assert report.embedded == first.passages
    assert report.added == 7


def test_another_model_is_refused_until_rebuilt(corpus: Path, tmp_path: Path) -> None:
    build_index(corpus, tmp_path / "idx", HashEmbedder())
    other = HashEmbedder(dimension=32, name="test/other-model")
    with pytest.raises(IndexMismatchError) as caught:
        open_store(tmp_path / "idx", other)
    message = str(caught.value)
    assert "test/hash-embedder (64" in message and "test/other-model (32" in message
    assert "citebot index build --rebuild" in message
    report = build_index(corpus, tmp_path / "idx", other)  # a build never reuses them
    assert report.embedded == report.passages
    open_store(tmp_path / "idx", other).close()


def test_no_index_yet_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(IndexNotBuiltError, match="citebot index build"):
        open_store(tmp_path / "idx", HashEmbedder())


def test_a_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusNotFoundError):
        build_index(tmp_path / "missing", tmp_path / "idx", HashEmbedder())


class FailingEmbedder(HashEmbedder):
    def embed(self, texts, **kwargs):  # type: ignore[no-untyped-def,override]
        raise RuntimeError("embedding failed")


def test_a_failed_build_leaves_the_live_index_untouched(corpus: Path, tmp_path: Path) -> None:
    embedder = HashEmbedder()
    build_index(corpus, tmp_path / "idx", embedder)
    before = read_current(tmp_path / "idx")
    (corpus / "new.txt").write_text("A brand new article about tides.", encoding="utf-8")
    with pytest.raises(RuntimeError):
        build_index(corpus, tmp_path / "idx", FailingEmbedder())
    assert read_current(tmp_path / "idx") == before
    assert [p.name for p in (tmp_path / "idx" / VERSIONS).iterdir()] == [before]
    with open_store(tmp_path / "idx", embedder) as store:
        assert store.article("new.txt") is None


def test_current_switches_atomically_and_two_versions_are_kept(
    corpus: Path, tmp_path: Path
) -> None:
    embedder = HashEmbedder()
    index_dir = tmp_path / "idx"
    versions: list[str] = []
    for i in range(3):
        (corpus / f"extra{i}.txt").write_text(f"Extra article number {i}.", encoding="utf-8")
        build_index(corpus, index_dir, embedder)
        versions.append(str(read_current(index_dir)))
    assert len(set(versions)) == 3
    assert sorted(p.name for p in (index_dir / VERSIONS).iterdir()) == sorted(versions[1:])
    assert (index_dir / CURRENT).read_text().strip() == versions[-1]
    assert not (index_dir / (CURRENT + ".tmp")).exists()


def test_leftover_partial_versions_are_cleaned(corpus: Path, tmp_path: Path) -> None:
    embedder = HashEmbedder()
    index_dir = tmp_path / "idx"
    build_index(corpus, index_dir, embedder)
    leftover = index_dir / VERSIONS / "20000101T000000-000000-1.partial"
    leftover.mkdir()
    (leftover / "meta.sqlite").write_bytes(b"half written")
    build_index(corpus, index_dir, embedder)
    assert not leftover.exists()


def test_an_empty_corpus_builds_an_empty_index(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    embedder = HashEmbedder()
    report = build_index(tmp_path / "empty", tmp_path / "idx", embedder)
    assert (report.articles, report.passages, report.embedded) == (0, 0, 0)
    with open_store(tmp_path / "idx", embedder) as store:
        assert store.articles() == []
        assert store.dense_search(embedder.embed(["anything"])[0], 5) == []
        assert store.lexical_search('"anything"', 5) == []


def test_removing_every_article_empties_the_index(corpus: Path, tmp_path: Path) -> None:
    embedder = HashEmbedder()
    build_index(corpus, tmp_path / "idx", embedder)
    shutil.rmtree(corpus)
    corpus.mkdir()
    report = build_index(corpus, tmp_path / "idx", embedder)
    assert (report.removed, report.articles) == (7, 0)
    with open_store(tmp_path / "idx", embedder) as store:
        assert store.passage_count() == 0


def test_stopped_between_the_database_switch_and_current_the_new_version_serves(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = HashEmbedder()
    index_dir = tmp_path / "idx"
    build_index(corpus, index_dir, embedder)
    before = read_current(index_dir)
    path = corpus / "rainfall.txt"
    path.write_text(path.read_text() + "\nThe wettest month on record was November 1998.\n")
    real_replace = os.replace

    def stop_at_current(src: object, dst: object) -> None:
        if Path(str(dst)).name == CURRENT:
            raise KeyboardInterrupt  # as if killed just before CURRENT is rewritten
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", stop_at_current)
    with pytest.raises(KeyboardInterrupt):
        build_index(corpus, index_dir, embedder)
    monkeypatch.setattr(os, "replace", real_replace)
    assert (index_dir / CURRENT).read_text().strip() == before
    live = read_current(index_dir)
    assert live != before
    with open_store(index_dir, embedder) as store:
        assert store.version == live
        edited = store.article("rainfall.txt")
        assert edited is not None and "November 1998" in edited.text
    report = build_index(corpus, index_dir, embedder)
    assert report.embedded == 0 and report.unchanged == 7
    assert read_current(index_dir) == live == (index_dir / CURRENT).read_text().strip()


class RecordingEmbedder(HashEmbedder):
    """HashEmbedder that keeps every text it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str], **kwargs: Any) -> np.ndarray:
        self.texts += list(texts)
        return super().embed(texts, **kwargs)


def test_a_passage_vector_is_its_title_and_its_sentences_summed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Passages of ~40 words: a sentence over 80 words is cut into passages of its own.
    monkeypatch.setattr(index.build, "TARGET_WORDS", 40)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    short = " ".join(f"Keeper {n} lit the lamp at dusk and trimmed the wick." for n in range(30))
    overlong = "The keeper's log ran on " + " and on".join(f" day {n}" for n in range(30)) + "."
    (corpus / "lighthouse.md").write_text(
        f"---\ntitle: The lighthouse\n---\n\n{short}\n\n{overlong}\n", encoding="utf-8"
    )
    embedder = RecordingEmbedder()
    report = build_index(corpus, tmp_path / "idx", embedder)
    assert report.passages >= 4
    with open_store(tmp_path / "idx", embedder) as store:
        article = store.article("lighthouse.md")
        assert article is not None
        sentences = [(s, e) for _, s, e in store.article_sentences(article.id)]
        passages = store.article_passages(article.id)
        vectors = store.passage_vectors([p.id for p in passages])
    assert embedder.texts.count(article.title) == 1  # once, though it heads every passage
    embedded = "\n".join(embedder.texts)
    title = embedder.embed([article.title])[0]
    cut = 0
    for passage, vector in zip(passages, vectors, strict=True):
        inside = [(s, e) for s, e in sentences if passage.start <= s and e <= passage.end]
        if inside:
            expected = title + embedder.embed([article.text[s:e] for s, e in inside]).sum(axis=0)
            assert len(inside) == 1 or passage.text not in embedded
        else:  # a cut of the overlong sentence: embedded itself, with its title
            cut += 1
            expected = embedder.embed([f"{article.title}\n\n{passage.text}"])[0]
        assert np.allclose(vector, expected / np.linalg.norm(expected), atol=1e-5)
    assert cut >= 2
