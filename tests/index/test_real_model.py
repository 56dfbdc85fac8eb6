"""End to end with the packaged all-MiniLM-L6-v2 over a few tiny articles."""

from pathlib import Path

import pytest

from index.build import build_index
from index.store import IndexStore
from tests.conftest import TEST_DATA


@pytest.mark.slow
def test_real_model_build_and_search(tmp_path: Path, minilm) -> None:  # type: ignore[no-untyped-def]
    report = build_index(TEST_DATA / "corpus", tmp_path / "idx", minilm)
    assert report.embedded == report.passages > 0
    with IndexStore.open(tmp_path / "idx", minilm.name, 384) as store:
        assert store.manifest["dimension"] == 384
        for question, expected in [
            ("When was the lighthouse built?", "lighthouse.txt"),
            ("How much did the new bridge cost?", "news/bridge.md"),
            ("How far did the ice front retreat last year?", "news/glacier.html"),
        ]:
            hits = store.dense_search(minilm.embed([question])[0], 1)
            assert store.passages([hits[0][0]])[0].article_id == expected, question
    assert build_index(TEST_DATA / "corpus", tmp_path / "idx", minilm).embedded == 0
