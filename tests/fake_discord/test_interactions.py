"""Slash commands, deferrals, followups and Discord's interaction rules."""

from __future__ import annotations

import aiohttp
import discord
import pytest

from tests.fake_discord.bots import EchoBot
from tests.fake_discord.errors import (
    UNKNOWN_MESSAGE,
    CommandNotPermitted,
    CommandNotSynced,
    InvalidInvocation,
)
from tests.fake_discord.interactions import DEFERRED_MESSAGE, UPDATE_MESSAGE
from tests.fake_discord.server import FakeDiscord


@pytest.mark.asyncio
async def test_slash_command_defers_then_follows_up(fake_discord: FakeDiscord, start_bot) -> None:
    await start_bot(EchoBot(), wait_for_sync=True)
    interaction = await fake_discord.invoke_slash("ask", {"question": "why?"})
    first = await interaction.wait_for_reply()
    second = await interaction.wait_for_reply()
    assert interaction.callback_type == DEFERRED_MESSAGE
    assert first.content == "answer to: why?"
    assert first is interaction.original, "the first followup fills the thinking message"
    assert second.content == "second followup"
    assert interaction.followups == [second]
    assert not interaction.ephemeral and not interaction.refusals
    assert [m.content for m in fake_discord.bot_messages()] == [first.content, second.content]


@pytest.mark.asyncio
async def test_command_sync_is_recorded(fake_discord: FakeDiscord, start_bot) -> None:
    await start_bot(EchoBot(), wait_for_sync=True)
    (call,) = fake_discord.calls_to("PUT", "/applications/{application_id}/commands")
    sent = {c["name"] for c in call.json}
    stored = {c["name"]: c for c in fake_discord.commands()}
    assert sent == set(stored) >= {"ask", "now", "reindex", "Quote"}
    assert stored["Quote"]["type"] == 3
    assert stored["reindex"]["default_member_permissions"] == str(1 << 5)
    assert all(c["application_id"] == str(fake_discord.application_id) for c in stored.values())


@pytest.mark.asyncio
async def test_a_command_never_synced_cannot_be_invoked(
    fake_discord: FakeDiscord, start_bot
) -> None:
    await start_bot(EchoBot(sync=False))
    with pytest.raises(CommandNotSynced):
        await fake_discord.invoke_slash("ask", {"question": "anyone?"})


@pytest.mark.asyncio
async def test_options_are_checked_against_the_synced_definition(
    fake_discord: FakeDiscord, start_bot
) -> None:
    await start_bot(EchoBot(), wait_for_sync=True)
    with pytest.raises(InvalidInvocation, match="required"):
        await fake_discord.invoke_slash("ask", {})
    with pytest.raises(InvalidInvocation, match="unknown options"):
        await fake_discord.invoke_slash("ask", {"question": "q", "extra": 1})
    with pytest.raises(InvalidInvocation, match="integer"):
        await fake_discord.invoke_slash("say", {"text": "a", "times": 1.5})
    interaction = await fake_discord.invoke_slash("say", {"text": "ab", "times": 2})
    assert (await interaction.wait_for_reply()).content == "abab"


@pytest.mark.asyncio
async def test_default_member_permissions_hide_admin_commands(
    fake_discord: FakeDiscord, start_bot
) -> None:
    await start_bot(EchoBot(), wait_for_sync=True)
    with pytest.raises(CommandNotPermitted):
        await fake_discord.invoke_slash("reindex", member=fake_discord.member)
    interaction = await fake_discord.invoke_slash("reindex", member=fake_discord.admin)
    reply = await interaction.wait_for_reply()
    assert reply.content == "reindexing" and reply.ephemeral


@pytest.mark.asyncio
async def test_an_ephemeral_answer_is_visible_only_as_such(
    fake_discord: FakeDiscord, start_bot
) -> None:
    bot = await start_bot(EchoBot(), wait_for_sync=True)
    interaction = await fake_discord.invoke_slash("now")
    reply = await interaction.wait_for_reply()
    assert reply.content == "right away" and reply.ephemeral and interaction.ephemeral
    assert reply.flags & 64
    await fake_discord.inject_message(fake_discord.channel, "!echo next")
    await fake_discord.wait_for_message(predicate=lambda m: m.content == "next")
    assert reply.id not in [m.id for m in bot.cached_messages], "never sent over the gateway"


@pytest.mark.asyncio
async def test_deferring_after_the_deadline_fails_with_unknown_interaction(
    fake_discord: FakeDiscord, start_bot
) -> None:
    bot = await start_bot(EchoBot(), wait_for_sync=True)

    async def slow_work() -> None:
        fake_discord.advance_time(fake_discord.interaction_deadline + 0.01)

    bot.work = slow_work
    interaction = await fake_discord.invoke_slash("ask", {"question": "slow"})
    refusal = await interaction.wait_for_refusal()
    assert (refusal.status, refusal.code, refusal.message) == (404, 10062, "Unknown interaction")
    await fake_discord.wait_until(lambda: bot.failures, what="the bot's failed defer")
    assert isinstance(bot.failures[0], discord.NotFound)
    assert "Unknown interaction" in str(bot.failures[0])
    assert not interaction.acknowledged and interaction.replies == []


def test_the_default_deadline_is_discords_three_seconds() -> None:
    assert FakeDiscord().interaction_deadline == 3.0


# 2.0 s leaves a busy machine a second of real time to answer within the deadline.
@pytest.mark.parametrize(("elapsed", "answered"), [(2.0, True), (3.01, False)])
@pytest.mark.asyncio
async def test_three_seconds_of_work_before_answering_is_too_long(
    fake_discord: FakeDiscord, start_bot, elapsed: float, answered: bool
) -> None:
    bot = await start_bot(EchoBot(), wait_for_sync=True)

    async def slow_work() -> None:
        fake_discord.advance_time(elapsed)

    bot.work = slow_work
    interaction = await fake_discord.invoke_slash("now")
    if answered:
        assert (await interaction.wait_for_reply()).content == "right away"
    else:
        assert (await interaction.wait_for_refusal()).code == 10062


@pytest.mark.asyncio
async def test_followup_tokens_expire_after_15_minutes(
    fake_discord: FakeDiscord, start_bot
) -> None:
    bot = await start_bot(EchoBot(), wait_for_sync=True)
    interaction = await fake_discord.invoke_slash("late")
    await interaction.wait_for_callback()
    assert interaction.deferred
    assert interaction.original is not None and interaction.original.loading
    fake_discord.advance_time(15 * 60 + 1)
    bot.release.set()
    refusal = await interaction.wait_for_refusal()
    assert (refusal.status, refusal.code) == (401, 50027)
    assert interaction.replies == []


@pytest.mark.asyncio
async def test_a_second_callback_is_refused_with_40060(fake_discord: FakeDiscord) -> None:
    fake_discord.world.sync_commands(None, [{"name": "ask", "description": "d"}])
    interaction = await fake_discord.invoke_slash("ask")
    url = f"{fake_discord.api_base}/interactions/{interaction.id}/{interaction.token}/callback"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"type": 5}) as first:
            assert first.status == 204
        async with http.post(url, json={"type": 5}) as second:
            assert second.status == 400
            assert second.headers["Content-Type"] == "application/json"
            assert (await second.json())["code"] == 40060


@pytest.mark.asyncio
async def test_a_button_click_updates_its_message(fake_discord: FakeDiscord, start_bot) -> None:
    await start_bot(EchoBot(), wait_for_sync=True)
    command = await fake_discord.invoke_slash("buttons")
    message = await command.wait_for_reply()
    assert [b["custom_id"] for b in message.buttons] == ["press"]
    click = await fake_discord.click_button(message, "press", member=fake_discord.admin)
    await click.wait_for_callback()
    assert click.callback_type == UPDATE_MESSAGE
    assert message.content == "pressed by alice" and message.buttons == []
    with pytest.raises(InvalidInvocation):
        await fake_discord.click_button(message, "press")


@pytest.mark.asyncio
async def test_a_message_context_menu_gets_its_target(fake_discord: FakeDiscord, start_bot) -> None:
    await start_bot(EchoBot(), wait_for_sync=True)
    target = await fake_discord.inject_message(fake_discord.channel, "worth quoting")
    interaction = await fake_discord.invoke_context_menu("Quote", target)
    assert (await interaction.wait_for_reply()).content == "> worth quoting"


@pytest.mark.asyncio
async def test_a_modal_is_shown_and_submitted(fake_discord: FakeDiscord, start_bot) -> None:
    await start_bot(EchoBot(), wait_for_sync=True)
    command = await fake_discord.invoke_slash("feedback")
    await command.wait_for_callback()
    assert command.modal is not None and command.modal["title"] == "Feedback"
    submitted = await fake_discord.submit_modal(command, {"text": "nice"})
    assert (await submitted.wait_for_reply()).content == "thanks: nice"


@pytest.mark.asyncio
async def test_guild_synced_commands_are_invoked_in_that_guild(
    fake_discord: FakeDiscord, start_bot
) -> None:
    other = fake_discord.add_guild("Elsewhere")
    stranger = fake_discord.add_member("carol", guild=other)
    await start_bot(EchoBot(sync_guild=fake_discord.guild.id), wait_for_sync=True)
    assert fake_discord.commands() == []
    assert "ask" in {c["name"] for c in fake_discord.commands(fake_discord.guild)}
    interaction = await fake_discord.invoke_slash("ask", {"question": "here?"})
    assert (await interaction.wait_for_reply()).content == "answer to: here?"
    elsewhere = next(iter(other.channels.values()))
    with pytest.raises(CommandNotSynced):
        await fake_discord.invoke_slash(
            "ask", {"question": "?"}, member=stranger, channel=elsewhere
        )


@pytest.mark.asyncio
async def test_editing_a_deferred_original_response(fake_discord: FakeDiscord, start_bot) -> None:
    await start_bot(EchoBot(), wait_for_sync=True)
    interaction = await fake_discord.invoke_slash("revise")
    await fake_discord.wait_for_call("PATCH", "/webhooks/{app}/{token}/messages/@original")
    await fake_discord.wait_for_call("PATCH", "/webhooks/{app}/{token}/messages/@original")
    original = interaction.original
    assert original is not None and not original.loading
    assert (original.content, original.versions) == ("revised answer", ["", "first answer"])
    assert interaction.replies == [original] and interaction.followups == []


@pytest.mark.asyncio
async def test_an_over_long_interaction_response_is_refused_under_data(
    fake_discord: FakeDiscord, start_bot
) -> None:
    bot = await start_bot(EchoBot(), wait_for_sync=True)
    interaction = await fake_discord.invoke_slash("say", {"text": "x" * 1001, "times": 2})
    refusal = await interaction.wait_for_refusal()
    assert (
        refusal.code == 50035 and refusal.errors is not None and "content" in refusal.errors["data"]
    )
    await fake_discord.wait_until(lambda: bot.failures, what="the bot's failed response")
    assert "In data.content: Must be 2000 or fewer in length." in str(bot.failures[0])
    assert not interaction.acknowledged


@pytest.mark.asyncio
async def test_autocomplete_returns_the_bots_choices(fake_discord: FakeDiscord, start_bot) -> None:
    await start_bot(EchoBot(), wait_for_sync=True)
    typing = await fake_discord.autocomplete("topic", {"name": "astr"}, focused="name")
    await typing.wait_for_callback()
    assert [c["value"] for c in typing.autocomplete_choices or []] == ["astronomy", "astrology"]
    with pytest.raises(InvalidInvocation, match="does not autocomplete"):
        await fake_discord.autocomplete("say", {"text": "a"}, focused="text")


@pytest.mark.asyncio
async def test_a_followup_after_the_thinking_message_was_deleted_is_a_new_message(
    fake_discord: FakeDiscord, start_bot
) -> None:
    bot = await start_bot(EchoBot(), wait_for_sync=True)
    interaction = await fake_discord.invoke_slash("vanish")
    reply = await interaction.wait_for_reply()
    thinking = fake_discord.message(interaction.original_id or 0)
    assert thinking.deleted and thinking.loading, "deleted while still thinking"
    assert reply.content == "only you see this" and reply.ephemeral
    assert interaction.followups == [reply] and interaction.replies == [reply]
    refusal = await interaction.wait_for_refusal()
    assert refusal.code == UNKNOWN_MESSAGE, "the original is gone: it cannot be edited"
    await fake_discord.wait_until(lambda: bot.failures, what="the bot's failed edit")
    assert isinstance(bot.failures[0], discord.NotFound)
