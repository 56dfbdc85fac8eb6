"""Follow-ups in threads: the thread's earlier question is the context of the next one."""

from __future__ import annotations

import pytest

from bot.client import CitebotBot
from tests.bot.answers import displayed
from tests.bot.conftest import RunBot
from tests.bot.engines import Wrapper
from tests.fake_discord.models import Message
from tests.fake_discord.server import FakeDiscord

pytestmark = pytest.mark.asyncio

FIRST = "Who was the last keeper of the Brightwater lighthouse?"
# Alone, "he" is nobody: only the first question's subject leads to the keeper's departure.
FOLLOW_UP = "When did he leave?"
ONLY_WITH_CONTEXT = "left the lighthouse in 1986"


async def _kept(fake: FakeDiscord, bot: CitebotBot, answer: Message) -> None:
    """Wait until the bot noted its answer (just after Discord accepted it), as a person would."""
    await fake.wait_until(lambda: bot.memory.answer(answer.id), what="the answer kept")


async def test_the_follow_up_alone_does_not_find_the_keeper(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine)
    await fake_discord.inject_message(None, FOLLOW_UP, mentions_bot=True)
    reply = await fake_discord.wait_for_message(fake_discord.channel)
    assert ONLY_WITH_CONTEXT not in displayed(reply.content)


async def test_a_thread_started_from_an_answer_continues_its_question(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    recorder = Wrapper(engine)
    bot = await run_bot(recorder)
    await fake_discord.inject_message(None, FIRST, mentions_bot=True)
    answer = await fake_discord.wait_for_message(fake_discord.channel)
    await _kept(fake_discord, bot, answer)
    thread = await fake_discord.create_thread(answer, "The last keeper")

    await fake_discord.inject_message(thread, FOLLOW_UP)
    follow = await fake_discord.wait_for_message(thread)
    assert ONLY_WITH_CONTEXT in displayed(follow.content)
    assert recorder.asked == [(FIRST, None), (FOLLOW_UP, FIRST)]
    assert follow.channel_id == thread.id and not follow.pings
    assert fake_discord.bot_messages(fake_discord.channel) == [answer]


async def test_a_thread_started_from_an_ask_answer_continues_its_question(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    recorder = Wrapper(engine)
    bot = await run_bot(recorder)
    interaction = await fake_discord.invoke_slash("ask", {"question": FIRST})
    answer = await interaction.wait_for_reply()
    await _kept(fake_discord, bot, answer)
    thread = await fake_discord.create_thread(answer, "Keepers", owner=fake_discord.admin)

    await fake_discord.inject_message(thread, FOLLOW_UP, author=fake_discord.admin)
    follow = await fake_discord.wait_for_message(thread)
    assert ONLY_WITH_CONTEXT in displayed(follow.content)
    assert recorder.asked == [(FIRST, None), (FOLLOW_UP, FIRST)]


async def test_a_thread_in_a_question_channel_keeps_its_first_question(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    recorder = Wrapper(engine)
    bot = await run_bot(recorder, question_channels=frozenset({fake_discord.channel.id}))
    thread = await fake_discord.create_thread(fake_discord.channel, "Lighthouse keepers")

    await fake_discord.inject_message(thread, FIRST)
    first = await fake_discord.wait_for_message(thread)
    assert "Thomas Reid" in displayed(first.content)
    await _kept(fake_discord, bot, first)
    await fake_discord.inject_message(thread, FOLLOW_UP)
    follow = await fake_discord.wait_for_message(thread)
    assert ONLY_WITH_CONTEXT in displayed(follow.content)
    assert recorder.asked == [(FIRST, None), (FOLLOW_UP, FIRST)], (
        "the thread-created notice in the channel is not a question"
    )
    assert fake_discord.bot_messages(fake_discord.channel) == []


async def test_a_thread_where_the_bot_was_asked_needs_no_more_mentions(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    recorder = Wrapper(engine)
    bot = await run_bot(recorder)
    thread = await fake_discord.create_thread(fake_discord.other_channel, "chat")
    await fake_discord.inject_message(thread, "Anyone been to the lighthouse museum?")
    await fake_discord.inject_message(thread, FIRST, mentions_bot=True)
    await _kept(fake_discord, bot, await fake_discord.wait_for_message(thread))
    await fake_discord.inject_message(thread, FOLLOW_UP)
    follow = await fake_discord.wait_for_message(thread)
    assert ONLY_WITH_CONTEXT in displayed(follow.content)
    assert recorder.asked == [(FIRST, None), (FOLLOW_UP, FIRST)], "chat before is not a question"
