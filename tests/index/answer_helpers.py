"""Shared set-up for the answer engine's tests: the test corpus indexed in a temp folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from index.answer import AnswerConfig, Answerer
from index.build import build_index
from index.embed import Embedder
from index.store import IndexStore
from tests.conftest import TEST_DATA


def build_test_index(tmp_path: Path, embedder: Embedder) -> Path:
    """Copy the test corpus into tmp_path and index it; returns the index folder."""
    corpus = tmp_path / "corpus"
    shutil.copytree(TEST_DATA / "corpus", corpus)
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, embedder)
    return index_dir


def open_answerer(
    index_dir: Path, embedder: Embedder, config: AnswerConfig | None = None
) -> Answerer:
    store = IndexStore.open(index_dir, embedder.name, embedder.dimension)
    return Answerer(store, embedder, config)
