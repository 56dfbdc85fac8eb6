"""Slash commands, deferrals, followups and Discord's interaction rules."""

from __future__ import annotations

import pytest

from tests.fake_discord.bots import EchoBot
from tests.fake_discord.interactions import DEFERRED_MESSAGE
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
