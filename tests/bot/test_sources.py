"""The passages behind answers: /sources, the Sources button, "Show sources", /articles."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.client import CitebotBot, build_bot
from bot.memory import FILE_NAME, AnswerMemory
from bot.settings import Settings
from bot.views import FORGOTTEN, SOURCES_BUTTON_ID
from index.engine import Engine
from tests.bot.answers import displayed
from tests.bot.conftest import RunBot
from tests.bot.engines import Wrapper
from tests.fake_discord.errors import InvalidInvocation
from tests.fake_discord.fixtures import BotStarter
from tests.fake_discord.models import Message
from tests.fake_discord.server import FakeDiscord

pytestmark = pytest.mark.asyncio

QUESTION = "When did the last keeper leave the Brightwater lighthouse?"


async def _answer(fake: FakeDiscord, bot: CitebotBot, question: str = QUESTION) -> Message:
    """Ask by mention; return the answer once the bot has remembered it."""
    await fake.inject_message(None, question, mentions_bot=True)
    answer = await fake.wait_for_message(fake.channel)
    await fake.wait_until(lambda: bot.memory.answer(answer.id), what="the answer remembered")
    return answer


async def test_slash_sources_shows_the_latest_answers_passages_privately(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    bot = await run_bot(engine)
    await _answer(fake_discord, bot, "How tall is the Brightwater lighthouse tower?")
    await _answer(fake_discord, bot)
    interaction = await fake_discord.invoke_slash("sources")
    shown = await interaction.wait_for_reply()
    assert shown.ephemeral
    assert "last keeper" in shown.content, "the latest answer's question"
    first = shown.embeds[0]
    assert first["title"] == "[1] The Brightwater Lighthouse"
    assert "**The last keeper, Thomas Reid, left the lighthouse in 1986" in first["description"]
    assert first["url"].startswith("https://example.org/history/brightwater-lighthouse#:~:text=")


async def test_slash_sources_before_any_answer_says_so(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine)
    interaction = await fake_discord.invoke_slash("sources", channel=fake_discord.other_channel)
    shown = await interaction.wait_for_reply()
    assert shown.ephemeral and "haven't answered anything" in shown.content


async def test_the_sources_button_shows_that_answers_passages(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    bot = await run_bot(engine)
    older = await _answer(fake_discord, bot, "How tall is the Brightwater lighthouse tower?")
    await _answer(fake_discord, bot)
    click = await fake_discord.click_button(older, SOURCES_BUTTON_ID)
    shown = await click.wait_for_reply()
    assert shown.ephemeral and "How tall" in shown.content
    bold = re.findall(r"\*\*(.+?)\*\*", shown.embeds[0]["description"])
    assert any("Its tower is 41 metres tall" in b for b in bold)


async def test_a_sources_button_on_a_forgotten_answer_explains_itself(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    bot = await run_bot(engine)
    answer = await _answer(fake_discord, bot)
    bot.memory = AnswerMemory()  # what a lost answers file leaves: an empty memory
    click = await fake_discord.click_button(answer, SOURCES_BUTTON_ID)
    shown = await click.wait_for_reply()
    assert shown.ephemeral and shown.content == FORGOTTEN


async def test_show_sources_on_a_chosen_answer(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    bot = await run_bot(engine)
    older = await _answer(fake_discord, bot, "How tall is the Brightwater lighthouse tower?")
    await _answer(fake_discord, bot)
    menu = await fake_discord.invoke_context_menu("Show sources", older)
    shown = await menu.wait_for_reply()
    assert shown.ephemeral and "How tall" in shown.content
    question = fake_discord.messages()[0]
    menu = await fake_discord.invoke_context_menu("Show sources", question)
    assert "isn't one of my recent answers" in (await menu.wait_for_reply()).content


async def test_articles_are_listed_a_page_at_a_time(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine)
    interaction = await fake_discord.invoke_slash("articles")
    page = await interaction.wait_for_reply()
    assert page.ephemeral and page.content.startswith("**14 articles** · page 1/2")
    assert len(page.content.splitlines()) == 11
    labels = {b["label"]: b for b in page.buttons}
    assert labels["Previous"].get("disabled") and not labels["Next"].get("disabled")
    click = await fake_discord.click_button(page, labels["Next"]["custom_id"])
    await click.wait_for_callback()
    turned = fake_discord.message(page.id)
    assert "page 2/2" in turned.content and turned.content.splitlines()[1].startswith("11. ")
    assert {b["label"]: b.get("disabled", False) for b in turned.buttons} == {
        "Previous": False,
        "Next": True,
    }


async def test_articles_search_narrows_the_list(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine)
    interaction = await fake_discord.invoke_slash("articles", {"search": "harbour"})
    page = await interaction.wait_for_reply()
    assert page.content.startswith("**2 articles** matching “harbour” · page 1/1")
    assert "Harbour Tides" in page.content and not page.buttons


async def test_the_article_pager_disables_its_buttons_when_it_times_out(
    fake_discord: FakeDiscord, start_bot: BotStarter, engine, settings: Settings
) -> None:
    bot = build_bot(engine, settings, pager_timeout=1.0, guild_ready_timeout=0.1)
    await start_bot(bot, wait_for_sync=True)
    interaction = await fake_discord.invoke_slash("articles")
    page = await interaction.wait_for_reply()
    assert not all(b.get("disabled") for b in page.buttons)
    shown = fake_discord.message(page.id)
    await fake_discord.wait_until(
        lambda: shown.buttons and all(b.get("disabled") for b in shown.buttons),
        what="the pager's buttons disabled",
    )
    assert shown.content == page.content
    with pytest.raises(InvalidInvocation):
        await fake_discord.click_button(shown, shown.buttons[1]["custom_id"])


async def test_answers_are_remembered_across_a_restart(
    fake_discord: FakeDiscord, start_bot: BotStarter, engine, settings: Settings
) -> None:
    recorder = Wrapper(engine)
    first_bot = build_bot(recorder, settings, guild_ready_timeout=0.1)
    await start_bot(first_bot, wait_for_sync=True)
    answer = await _answer(fake_discord, first_bot)
    await first_bot.close()
    memory_file = settings.index_dir / FILE_NAME
    assert memory_file.is_file() and memory_file.stat().st_mode & 0o777 == 0o644

    second_bot = build_bot(recorder, settings, guild_ready_timeout=0.1)
    await start_bot(second_bot, wait_for_sync=True)
    click = await fake_discord.click_button(answer, SOURCES_BUTTON_ID)
    shown = await click.wait_for_reply()
    assert shown.ephemeral and "last keeper" in shown.content and shown.embeds
    latest = await fake_discord.invoke_slash("sources")
    assert "last keeper" in (await latest.wait_for_reply()).content
    await fake_discord.inject_message(None, "And who built it?", reply_to=answer)
    await fake_discord.wait_for_message(fake_discord.channel)
    assert recorder.asked[-1] == ("And who built it?", QUESTION), "a follow-up after the restart"


MARKDOWN_TITLE = "**Quillmoor** _Mill_ `notes` @everyone <@123> ~~old~~"
MARKDOWN_ARTICLE = f"""---
title: "{MARKDOWN_TITLE}"
---
The Quillmoor mill ground its last sack of flour in 1961, after two hundred years of work.
"""


async def test_titles_and_searches_full_of_markdown_are_shown_as_written(
    fake_discord: FakeDiscord, run_bot: RunBot, own_engine: Engine, corpus_copy: Path
) -> None:
    (corpus_copy / "quillmoor.md").write_text(MARKDOWN_ARTICLE)
    await asyncio.to_thread(own_engine.reindex)
    bot = await run_bot(own_engine, corpus_dir=corpus_copy)

    listing = await fake_discord.invoke_slash("articles", {"search": "quillmoor"})
    page = await listing.wait_for_reply()
    header, line = page.content.splitlines()
    assert header == "**1 article** matching “quillmoor” · page 1/1"
    assert "\\*\\*Quillmoor\\*\\*" in line and "@everyone" not in line
    assert MARKDOWN_TITLE in displayed(line)

    odd = await fake_discord.invoke_slash("articles", {"search": "**x_"})
    assert (await odd.wait_for_reply()).content == "No articles matching “\\*\\*x\\_”."

    answer = await _answer(fake_discord, bot, "When did the Quillmoor mill grind its last sack?")
    click = await fake_discord.click_button(answer, SOURCES_BUTTON_ID)
    title = (await click.wait_for_reply()).embeds[0]["title"]
    assert displayed(title) == f"[1] {MARKDOWN_TITLE}"
    assert "**" not in title and "@everyone" not in title and "\\<@123>" in title
