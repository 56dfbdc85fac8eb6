"""Fixtures for the bot's end-to-end tests: an engine over the test corpus and a running bot."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.client import CitebotBot, build_bot
from bot.settings import Settings
from index.engine import Engine
from tests.bot.answers import BOT_CORPUS
from tests.bot.engines import copy_tree
from tests.fake_discord.fixtures import BotStarter

RunBot = Callable[..., Awaitable[CitebotBot]]


@pytest.fixture(scope="session")
def bot_index(tmp_path_factory: pytest.TempPathFactory, minilm: Any) -> Path:
    """The test corpus indexed once with the real model, shared read-only by the tests."""
    from index.build import build_index

    index_dir = tmp_path_factory.mktemp("bot-index") / "index"
    report = build_index(BOT_CORPUS, index_dir, minilm)
    assert report.failed == 0 and report.articles > 10
    return index_dir


@pytest.fixture
def engine(bot_index: Path, minilm: Any) -> Iterator[Engine]:
    """The real engine over the shared test index."""
    engine = Engine(bot_index, BOT_CORPUS, embedder=minilm)
    engine.load()
    yield engine
    engine.close()


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the test corpus, for tests that add or change articles."""
    return copy_tree(BOT_CORPUS, tmp_path / "corpus")


@pytest.fixture
def own_engine(tmp_path: Path, bot_index: Path, corpus_copy: Path, minilm: Any) -> Iterator[Engine]:
    """The real engine over private copies of the index and corpus, for tests that rebuild."""
    engine = Engine(copy_tree(bot_index, tmp_path / "index"), corpus_copy, embedder=minilm)
    engine.load()
    yield engine
    engine.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        token=None,
        index_dir=tmp_path / "index",
        corpus_dir=BOT_CORPUS,
        cooldown_seconds=0,
        progress_interval=0.05,
    )


@pytest.fixture
def run_bot(start_bot: BotStarter, settings: Settings) -> RunBot:
    """`await run_bot(engine, cooldown_seconds=…)`: a citebot connected to the fake, synced."""

    async def run(engine: Any, **changes: Any) -> CitebotBot:
        bot = build_bot(engine, dataclasses.replace(settings, **changes), guild_ready_timeout=0.1)
        await start_bot(bot, wait_for_sync=True)
        return bot

    return run
