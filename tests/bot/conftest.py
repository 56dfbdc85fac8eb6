"""Fixtures for the bot's end-to-end tests: an engine over the test corpus and a running bot."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.client import CitebotBot, build_bot
from bot.settings import Settings
from tests.bot.answers import BOT_CORPUS
from tests.bot.engines import KeywordEngine, copy_tree
from tests.fake_discord.fixtures import BotStarter

RunBot = Callable[..., Awaitable[CitebotBot]]


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the test corpus, for tests that add or change articles."""
    return copy_tree(BOT_CORPUS, tmp_path / "corpus")


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    """An engine over the test corpus, its index shared read-only between tests."""
    return KeywordEngine(tmp_path / "index", BOT_CORPUS)


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
