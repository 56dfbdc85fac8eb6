"""The int8 ONNX embedder against the fp32 torch reference, on real text."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from index.build import build_index, chunk_article, passage_embed_text
from index.embed import MODEL_NAME, ONNX_INT8_NAME, Embedder, default_embedder, make_embedder
from index.errors import ConfigError, IndexMismatchError
from index.onnx_embed import (
    MODEL_FILE,
    EmbedderUnavailableError,
    OnnxEmbedder,
    cache_key,
    cached_model,
    packaged_model_dir,
)
from index.readers import read_corpus
from index.store import IndexStore
from tests.conftest import TEST_DATA

pytestmark = pytest.mark.slow

# Measured on the sample corpus: sentences min 0.973, mean 0.993; passages min 0.983.
SENTENCE_COSINE_FLOOR = 0.95
MEAN_COSINE_FLOOR = 0.985


@pytest.fixture(scope="module")
def onnx() -> Embedder:
    return make_embedder("onnx-int8")


@pytest.fixture(scope="module")
def reference() -> Embedder:
    return make_embedder("torch")


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    articles, _ = read_corpus(TEST_DATA / "corpus")
    found = []
    for article in articles:
        found += [article.text[s:e] for s, e in chunk_article(article).sentences]
    return found


def test_vectors_agree_with_the_torch_reference(
    onnx: Embedder, reference: Embedder, sentences: list[str]
) -> None:
    a, b = onnx.embed(sentences), reference.embed(sentences)
    assert a.shape == b.shape == (len(sentences), 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    cosines = (a * b).sum(axis=1)
    assert cosines.min() >= SENTENCE_COSINE_FLOOR
    assert cosines.mean() >= MEAN_COSINE_FLOOR


def test_one_text_and_a_batch_give_nearly_the_same_vector(
    onnx: Embedder, sentences: list[str]
) -> None:
    # Dynamic int8 scales activations per batch, so batch-mates and padding move a vector a
    # little (measured: cosine min 0.962 for mixed-length sentences, 0.992 for passages).
    batch = onnx.embed(sentences[:16])
    alone = np.stack([onnx.embed([s])[0] for s in sentences[:16]])
    assert (batch * alone).sum(axis=1).min() >= 0.94


def test_retrieval_ranks_like_the_reference(
    onnx: Embedder, reference: Embedder, tmp_path: Path
) -> None:
    questions = [
        "When was the lighthouse built?",
        "How much did the new bridge cost?",
        "How far did the ice front retreat last year?",
        "How much rain fell?",
    ]
    firsts = []
    for embedder in (onnx, reference):
        index_dir = tmp_path / embedder.name.replace("/", "_")
        build_index(TEST_DATA / "corpus", index_dir, embedder)
        with IndexStore.open(index_dir, embedder.name, embedder.dimension) as store:
            firsts.append([store.dense_search(embedder.embed([q])[0], 3) for q in questions])
    for ours, theirs in zip(*firsts, strict=True):
        assert ours[0][0] == theirs[0][0]
        assert [i for i, _ in ours] == [i for i, _ in theirs] or ours[1][0] in {
            i for i, _ in theirs
        }


def test_the_names_differ_and_a_mismatched_index_is_refused(
    onnx: Embedder, reference: Embedder, tmp_path: Path
) -> None:
    assert (onnx.name, reference.name) == (ONNX_INT8_NAME, MODEL_NAME)
    build_index(TEST_DATA / "corpus", tmp_path / "idx", onnx)
    with IndexStore.open(tmp_path / "idx", onnx.name, onnx.dimension) as store:
        assert store.manifest["chunking"]["passage_vectors"] == "title+sentences"
    with pytest.raises(IndexMismatchError, match="onnx-int8"):
        IndexStore.open(tmp_path / "idx", reference.name, reference.dimension)
    report = build_index(TEST_DATA / "corpus", tmp_path / "idx", reference)
    assert report.embedded == report.passages  # nothing reused across embedders
    with IndexStore.open(tmp_path / "idx", reference.name, reference.dimension) as store:
        assert store.manifest["model"] == MODEL_NAME


def test_passage_vectors_stand_in_for_the_passages_embedded_whole(
    onnx: Embedder, tmp_path: Path
) -> None:
    build_index(TEST_DATA / "corpus", tmp_path / "idx", onnx)
    with IndexStore.open(tmp_path / "idx", onnx.name, onnx.dimension) as store:
        passages = [p for a in store.articles() for p in store.article_passages(a.id)]
        stored = store.passage_vectors([p.id for p in passages])
        whole = []
        for p in passages:
            article = store.article(p.article_id)
            assert article is not None
            whole.append(passage_embed_text(article.title, article.text[p.start : p.end]))
    embedded = onnx.embed(whole)
    assert np.allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-4)
    # Each passage's vector is nearest the same passage embedded whole, and close to it
    # (measured on this corpus: all 7 nearest their own, cosine min 0.82, mean 0.89).
    nearest = (stored @ embedded.T).argmax(axis=1)
    assert np.array_equal(nearest, np.arange(len(passages)))
    assert float(np.mean(np.sum(stored * embedded, axis=1))) >= 0.85


def test_make_embedder_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CITEBOT_EMBEDDER", raising=False)
    assert default_embedder().name == ONNX_INT8_NAME
    monkeypatch.setenv("CITEBOT_EMBEDDER", "torch")
    assert default_embedder().name == MODEL_NAME
    monkeypatch.setenv("CITEBOT_EMBEDDER", "bogus")
    with pytest.raises(ConfigError, match="bogus"):
        default_embedder()
    assert make_embedder("torch") is make_embedder(MODEL_NAME)
    assert make_embedder("onnx-int8") is make_embedder(ONNX_INT8_NAME)
    with pytest.raises(ConfigError, match=r"unknown embedder 'bert-huge'.*torch"):
        make_embedder("bert-huge")


def test_export_is_offline_atomic_and_cached(tmp_path: Path) -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    path = cached_model(tmp_path / "cache")
    assert path.name == MODEL_FILE and path.stat().st_size > 10_000_000
    folder = path.parent
    assert sorted(p.name for p in folder.iterdir()) == ["export.json", "export.lock", MODEL_FILE]
    assert json.loads((folder / "export.json").read_text())["recipe"] >= 1
    stamp = path.stat().st_mtime_ns
    assert cached_model(tmp_path / "cache") == path and path.stat().st_mtime_ns == stamp
    embedder = OnnxEmbedder(tmp_path / "cache")
    assert embedder.model_path == path


def test_a_failed_export_leaves_no_model(tmp_path: Path) -> None:
    broken = tmp_path / "model"
    shutil.copytree(packaged_model_dir(), broken)
    (broken / "model.safetensors").write_bytes(b"not weights")
    stale = tmp_path / "cache" / "onnx" / cache_key(broken) / ".export-killed"
    stale.mkdir(parents=True)
    (stale / "fp32.onnx").write_bytes(b"half a file")
    with pytest.raises(EmbedderUnavailableError, match="could not export"):
        cached_model(tmp_path / "cache", broken)
    leftovers = [p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert MODEL_FILE not in leftovers and not any(".export-" in p for p in leftovers)


def test_missing_onnxruntime_names_the_install_and_falls_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import index.embed

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(EmbedderUnavailableError, match="pip install onnxruntime"):
        OnnxEmbedder()
    monkeypatch.setattr(index.embed, "_loaded", {})
    with pytest.raises(EmbedderUnavailableError, match="install"):
        make_embedder("onnx-int8")
    assert make_embedder(None).name == MODEL_NAME
    assert "using the torch embedder" in caplog.text
