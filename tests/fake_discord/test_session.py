"""Login, READY, and the gateway session surviving drops and reconnect requests."""

from __future__ import annotations

import asyncio

import discord
import pytest

from tests.fake_discord.bots import EchoBot
from tests.fake_discord.gateway import IDENTIFY, REQUEST_MEMBERS, RESUME
from tests.fake_discord.server import FakeDiscord


@pytest.mark.asyncio
async def test_login_and_ready_see_the_guild(fake_discord: FakeDiscord, start_bot) -> None:
    bot = await start_bot(EchoBot())
    assert bot.user is not None and bot.user.id == fake_discord.bot_user.id
    assert bot.application_id == fake_discord.application_id
    guild = bot.get_guild(fake_discord.guild.id)
    assert guild is not None and guild.get_channel(fake_discord.channel.id) is not None
    admin_role = guild.get_role(fake_discord.admin_role.id)
    assert admin_role is not None and admin_role.permissions.administrator
    member_role = guild.get_role(fake_discord.member_role.id)
    assert member_role is not None and not member_role.permissions.manage_guild
    assert [c.route for c in fake_discord.calls[:2]] == ["/users/@me", "/oauth2/applications/@me"]
    identify = await fake_discord.wait_for_gateway(op=IDENTIFY)
    assert identify.data["token"] == fake_discord.token
    assert not start_bot.errors


@pytest.mark.asyncio
async def test_a_wrong_token_fails_login(fake_discord: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()


@pytest.mark.asyncio
async def test_a_privileged_intent_not_enabled_closes_with_4014(
    fake_discord: FakeDiscord, start_bot
) -> None:
    fake_discord.privileged_intents.discard("message_content")
    with pytest.raises(discord.PrivilegedIntentsRequired):
        await start_bot(EchoBot(message_content=True))


@pytest.mark.asyncio
async def test_reconnect_request_is_resumed_with_missed_events(
    fake_discord: FakeDiscord, start_bot
) -> None:
    bot = await start_bot(EchoBot())
    session = fake_discord.sessions[0]
    await fake_discord.request_reconnect()
    resume = await fake_discord.wait_for_gateway(op=RESUME)
    await fake_discord.wait_for_resumed()
    assert resume.data["session_id"] == session.id
    assert resume.path == "/gw/resume", "the client resumes on resume_gateway_url"
    assert len(fake_discord.sessions) == 1
    await fake_discord.inject_message(fake_discord.channel, "!echo still here")
    assert (await fake_discord.wait_for_message()).content == "still here"
    assert bot.is_ready()


@pytest.mark.asyncio
async def test_dropped_connection_resumes_and_replays_what_it_missed(
    fake_discord: FakeDiscord, start_bot
) -> None:
    await start_bot(EchoBot())
    await fake_discord.drop_gateway()
    await fake_discord.inject_message(fake_discord.channel, "!echo sent while down")
    await fake_discord.wait_for_resumed()
    reply = await fake_discord.wait_for_message()
    assert reply.content == "sent while down"
    assert len(fake_discord.sessions) == 1


class QuickReidentifyBot(EchoBot):
    """discord.py waits 5 s before a second IDENTIFY; this bot skips the wait."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


@pytest.mark.asyncio
async def test_members_intent_gets_the_members_and_their_permissions(
    fake_discord: FakeDiscord, start_bot
) -> None:
    bot = await start_bot(EchoBot(members=True))
    guild = bot.get_guild(fake_discord.guild.id)
    assert guild is not None and guild.chunked
    admin = guild.get_member(fake_discord.admin.id)
    assert admin is not None and admin.guild_permissions.administrator
    plain = guild.get_member(fake_discord.member.id)
    assert plain is not None and not plain.guild_permissions.manage_guild


@pytest.mark.asyncio
async def test_invalid_session_makes_the_client_identify_again(
    fake_discord: FakeDiscord, start_bot
) -> None:
    await start_bot(QuickReidentifyBot())
    await fake_discord.wait_for_gateway(op=IDENTIFY)
    await fake_discord.invalidate_session()
    await fake_discord.wait_for_gateway(op=IDENTIFY)
    await fake_discord.wait_until(lambda: len(fake_discord.sessions) == 2, what="a new session")
    await fake_discord.inject_message(fake_discord.channel, "!echo new session")
    assert (await fake_discord.wait_for_message()).content == "new session"


@pytest.mark.asyncio
async def test_requested_guild_members_arrive_in_a_chunk(
    fake_discord: FakeDiscord, start_bot
) -> None:
    bot = await start_bot(EchoBot(members=True))
    guild = bot.get_guild(fake_discord.guild.id)
    assert guild is not None
    members = await asyncio.wait_for(guild.chunk(), 2.0)
    assert {m.id for m in members} >= {fake_discord.admin.id, fake_discord.member.id}
    await fake_discord.wait_for_gateway(op=REQUEST_MEMBERS)
