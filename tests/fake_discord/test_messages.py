"""Channel messages through the real client: round trip, intents, limits, mentions, 429s."""

from __future__ import annotations

import discord
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


@pytest.mark.asyncio
async def test_a_429_with_retry_after_is_retried_by_the_client(
    fake_discord: FakeDiscord, start_bot
) -> None:
    await start_bot(EchoBot())
    fake_discord.fail_next(f"POST {MESSAGES}", status=429, retry_after=0.05)
    await fake_discord.inject_message(fake_discord.channel, "!echo after a wait")
    reply = await fake_discord.wait_for_message()
    assert reply.content == "after a wait"
    attempts = fake_discord.calls_to("POST", MESSAGES)
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 0.045, "the client waited retry_after"
    assert len(fake_discord.bot_messages()) == 1


@pytest.mark.asyncio
async def test_an_over_long_message_is_refused_with_discords_error(
    fake_discord: FakeDiscord, start_bot
) -> None:
    await start_bot(EchoBot())
    await fake_discord.inject_message(fake_discord.channel, "!echo " + "x" * 2001)
    call = await fake_discord.wait_for_call("POST", MESSAGES)
    assert call.status == 400 and call.response["code"] == 50035
    await fake_discord.wait_until(lambda: start_bot.errors, what="the bot's logged error")
    error = start_bot.errors[0]
    assert isinstance(error, discord.HTTPException) and error.code == 50035
    assert "In content: Must be 2000 or fewer in length." in str(error)
    assert fake_discord.bot_messages() == []


@pytest.mark.asyncio
async def test_an_embed_over_its_limit_is_refused(fake_discord: FakeDiscord, start_bot) -> None:
    await start_bot(EchoBot())
    await fake_discord.inject_message(fake_discord.channel, "!embed 4097")
    call = await fake_discord.wait_for_call("POST", MESSAGES)
    assert call.status == 400
    assert "description" in call.response["errors"]["embeds"]["0"]
    await fake_discord.inject_message(fake_discord.channel, "!embed 4096")
    reply = await fake_discord.wait_for_message()
    assert len(reply.embeds[0]["description"]) == 4096
    assert len(reply.text) == 4096


@pytest.mark.asyncio
async def test_files_arrive_as_attachments(fake_discord: FakeDiscord, start_bot) -> None:
    await start_bot(EchoBot())
    await fake_discord.inject_message(fake_discord.channel, "!file")
    reply = await fake_discord.wait_for_message()
    assert reply.content == "see attached"
    assert [(a.filename, a.data) for a in reply.attachments] == [("passage.txt", b"quoted passage")]


@pytest.mark.asyncio
async def test_edits_are_applied_and_remembered(fake_discord: FakeDiscord, start_bot) -> None:
    await start_bot(EchoBot())
    await fake_discord.inject_message(fake_discord.channel, "!edit")
    await fake_discord.wait_for_call("PATCH", "/channels/{channel_id}/messages/{message_id}")
    (message,) = fake_discord.bot_messages()
    assert (message.content, message.versions, message.edited) == ("final", ["draft"], True)


@pytest.mark.asyncio
async def test_pings_follow_allowed_mentions(fake_discord: FakeDiscord, start_bot) -> None:
    await start_bot(EchoBot())
    admin = fake_discord.admin
    await fake_discord.inject_message(fake_discord.channel, f"!echo hi {admin.mention} @everyone")
    quiet = await fake_discord.wait_for_message()
    assert quiet.content == f"hi {admin.mention} @everyone" and not quiet.pings
    await fake_discord.inject_message(fake_discord.channel, f"!ping hi {admin.mention}")
    loud = await fake_discord.wait_for_message()
    assert loud.pings.users == {admin.id} and loud.pings.replied_user


@pytest.mark.asyncio
async def test_a_reply_to_a_deleted_message_is_refused_unless_it_may_drop_the_reference(
    fake_discord: FakeDiscord, start_bot
) -> None:
    bot = await start_bot(EchoBot())
    gone = await fake_discord.inject_message(fake_discord.channel, "soon gone")
    await fake_discord.delete_message(gone)
    channel = bot.get_channel(fake_discord.channel.id)
    assert isinstance(channel, discord.TextChannel)
    strict = discord.MessageReference(message_id=gone.id, channel_id=channel.id)
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send("a reply", reference=strict)
    assert (refused.value.status, refused.value.code) == (400, 50035)
    lenient = discord.MessageReference(
        message_id=gone.id, channel_id=channel.id, fail_if_not_exists=False
    )
    sent = await channel.send("a reply", reference=lenient)
    assert sent.reference is None and fake_discord.message(sent.id).reference_id is None


@pytest.mark.asyncio
async def test_the_bot_has_its_own_managed_role(fake_discord: FakeDiscord, start_bot) -> None:
    bot = await start_bot(EchoBot())
    guild = bot.get_guild(fake_discord.guild.id)
    assert guild is not None and guild.self_role is not None
    assert guild.self_role.id == fake_discord.bot_role.id and guild.self_role.managed


@pytest.mark.asyncio
async def test_a_direct_message_round_trip(fake_discord: FakeDiscord, start_bot) -> None:
    bot = await start_bot(EchoBot())
    dm = fake_discord.dm_channel(fake_discord.member)
    await fake_discord.inject_message(dm, "!echo just between us")
    reply = await fake_discord.wait_for_message(dm)
    assert reply.content == "just between us" and reply.guild_id is None
    assert bot.seen[0].guild is None and isinstance(bot.seen[0].channel, discord.DMChannel)
