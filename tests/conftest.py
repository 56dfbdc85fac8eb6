"""Test-wide settings: offline model loading, and every path and secret in a temp folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = ROOT.parent / "shared" / "data"
XQUAD = SHARED_DATA / "xquad" / "xquad.en.json"

pytest_plugins = ["tests.fake_discord.fixtures"]

# No time limit per generated example: the suite must pass on a busy machine, and speed is
# measured by the benchmarks, never asserted.
settings.register_profile("citebot", deadline=None)
settings.load_profile("citebot")


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point citebot's folders at a temp folder and drop any real Discord token."""
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(tmp_path / "env-index"))
    monkeypatch.setenv("CITEBOT_CORPUS_DIR", str(tmp_path / "env-corpus"))
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield


@pytest.fixture(scope="session")
def minilm():  # type: ignore[no-untyped-def]
    """The real packaged model, loaded once for the whole run."""
    from index.embed import default_embedder

    return default_embedder()
