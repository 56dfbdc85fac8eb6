"""The passages behind answers: /sources, the Sources button, "Show sources", /articles."""

from __future__ import annotations

import re

import pytest

from bot.client import CitebotBot
from bot.views import FORGOTTEN, SOURCES_BUTTON_ID
from tests.bot.conftest import RunBot
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


async def test_a_sources_button_from_before_a_restart_explains_itself(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    bot = await run_bot(engine)
    answer = await _answer(fake_discord, bot)
    bot.memory = type(bot.memory)()  # what a restart leaves: an empty memory
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
    assert page.content.startswith("**2 articles matching **harbour**")
    assert "Harbour Tides" in page.content and not page.buttons
