"""Threads: started by members or by the bot, from a message or standalone, and talked in."""

from __future__ import annotations

import discord
import pytest

from tests.fake_discord.bots import EchoBot
from tests.fake_discord.errors import THREAD_ALREADY_CREATED, DiscordHTTPError
from tests.fake_discord.models import PUBLIC_THREAD, THREAD_CREATED
from tests.fake_discord.server import FakeDiscord

pytestmark = pytest.mark.asyncio


async def test_a_thread_from_a_message_takes_its_id_and_the_bot_talks_in_it(
    fake_discord: FakeDiscord, start_bot
) -> None:
    bot = await start_bot(EchoBot())
    starter = await fake_discord.inject_message(None, "a topic")
    thread = await fake_discord.create_thread(starter, "about the topic")
    assert (thread.id, thread.type, thread.parent_id) == (
        starter.id,
        PUBLIC_THREAD,
        starter.channel_id,
    )
    assert thread.owner_id == fake_discord.member.id
    await fake_discord.wait_until(lambda: bot.threads, what="THREAD_CREATE")
    seen = bot.threads[0]
    assert (seen.id, seen.parent_id, seen.owner_id) == (
        thread.id,
        fake_discord.channel.id,
        thread.owner_id,
    )
    assert fake_discord.threads() == [thread]

    await fake_discord.inject_message(thread, "!echo inside")
    reply = await fake_discord.wait_for_message(thread)
    assert reply.content == "inside" and reply.channel_id == thread.id
    assert isinstance(bot.seen[-1].channel, discord.Thread)
    assert bot.seen[-1].channel.parent_id == fake_discord.channel.id
    assert fake_discord.bot_messages(fake_discord.channel) == []


async def test_a_standalone_thread_leaves_a_notice_in_its_channel(
    fake_discord: FakeDiscord, start_bot
) -> None:
    bot = await start_bot(EchoBot())
    thread = await fake_discord.create_thread(fake_discord.channel, "side talk")
    notice = fake_discord.messages()[-1]
    assert (notice.kind, notice.content, notice.author.id) == (
        THREAD_CREATED,
        "side talk",
        fake_discord.member.id,
    )
    await fake_discord.wait_until(lambda: bot.seen, what="the notice")
    assert bot.seen[0].type is discord.MessageType.thread_created
    assert bot.seen[0].content == "side talk"
    assert bot.seen[0].reference is not None and bot.seen[0].reference.channel_id == thread.id


async def test_the_bot_starts_threads_from_a_message_and_on_its_own(
    fake_discord: FakeDiscord, start_bot
) -> None:
    bot = await start_bot(EchoBot())
    asked = await fake_discord.inject_message(None, "!thread follow-ups")
    call = await fake_discord.wait_for_call("POST", "/channels/{c}/messages/{m}/threads")
    assert call.status == 201 and call.json["name"] == "follow-ups"
    in_thread = await fake_discord.wait_for_message(asked.id)
    assert in_thread.content == f"thread from message {asked.id}"
    from_message = fake_discord.world.channel(asked.id)
    assert fake_discord.message(asked.id).thread is from_message

    await fake_discord.inject_message(None, "!standalone notes")
    call = await fake_discord.wait_for_call("POST", "/channels/{c}/threads")
    own = fake_discord.world.channel(int(call.response["id"]))
    assert own.name == "notes" and fake_discord.threads() == [from_message, own]
    assert (await fake_discord.wait_for_message(own)).content == "a thread of my own"
    assert own.owner_id == fake_discord.bot_user.id
    await fake_discord.wait_until(lambda: len(bot.threads) == 2, what="both threads")
    assert bot.threads[1].me is not None, "the creator is a member of its thread"


async def test_a_message_can_start_only_one_thread(fake_discord: FakeDiscord) -> None:
    starter = await fake_discord.inject_message(None, "once")
    await fake_discord.create_thread(starter, "first")
    with pytest.raises(DiscordHTTPError) as refused:
        await fake_discord.create_thread(starter, "second")
    assert refused.value.code == THREAD_ALREADY_CREATED


async def test_threads_survive_a_fresh_identify_in_guild_create(
    fake_discord: FakeDiscord, start_bot
) -> None:
    thread = await fake_discord.create_thread(fake_discord.channel, "older")
    bot = await start_bot(EchoBot())
    assert bot.get_channel(thread.id) is not None
    await fake_discord.inject_message(thread, "!echo still here")
    assert (await fake_discord.wait_for_message(thread)).content == "still here"
