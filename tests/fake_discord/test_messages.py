"""Channel messages through the real client: round trip, intents, limits, mentions, 429s."""

from __future__ import annotations

import pytest

from tests.fake_discord.bots import EchoBot
from tests.fake_discord.server import FakeDiscord

MESSAGES = "/channels/{channel_id}/messages"


@pytest.mark.asyncio
async def test_message_round_trip(fake_discord: FakeDiscord, start_bot) -> None:
    bot = await start_bot(EchoBot())
    sent = await fake_discord.inject_message(fake_discord.channel, "!echo hello there")
    reply = await fake_discord.wait_for_message(fake_discord.channel)
    assert reply.content == "hello there"
    assert reply.author.id == fake_discord.bot_user.id
    assert [m.id for m in fake_discord.messages()] == [sent.id, reply.id]
    call = await fake_discord.wait_for_call("POST", MESSAGES)
    assert call.json["content"] == "hello there"
    assert call.allowed_mentions == {"parse": []}
    assert not reply.pings
    assert bot.seen[0].author.id == fake_discord.member.id
    assert bot.seen[0].content == "!echo hello there"


@pytest.mark.asyncio
async def test_without_message_content_intent_only_mentions_carry_content(
    fake_discord: FakeDiscord, start_bot
) -> None:
    bot = await start_bot(EchoBot(message_content=False))
    await fake_discord.inject_message(fake_discord.channel, "!echo hidden")
    await fake_discord.inject_message(fake_discord.channel, "visible", mentions_bot=True)
    reply = await fake_discord.wait_for_message()
    assert reply.content.endswith("visible")
    assert [m.content for m in bot.seen] == ["", f"{fake_discord.bot_user.mention} visible"]
    assert fake_discord.bot_messages() == [reply], "the hidden !echo was never answered"
