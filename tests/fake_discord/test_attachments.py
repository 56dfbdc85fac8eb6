"""Attachment options: the resolved file Discord sends, downloaded from the fake's own CDN."""

from __future__ import annotations

import aiohttp
import pytest

from tests.fake_discord.bots import EchoBot
from tests.fake_discord.errors import InvalidInvocation
from tests.fake_discord.invocations import ATTACHMENT_SIZE_LIMIT
from tests.fake_discord.server import FakeDiscord

pytestmark = pytest.mark.asyncio


async def test_an_attachment_option_is_resolved_and_read_from_the_fake(
    fake_discord: FakeDiscord, start_bot
) -> None:
    await start_bot(EchoBot(), wait_for_sync=True)
    stored = {c["name"]: c for c in fake_discord.commands()}
    assert stored["upload"]["options"][0]["type"] == 11
    file = fake_discord.attachment("notes.md", b"# Notes", content_type="text/markdown")
    interaction = await fake_discord.invoke_slash("upload", {"file": file})
    reply = await interaction.wait_for_reply()
    assert reply.content == "notes.md (7 bytes, text/markdown): # Notes"
    assert fake_discord.downloads == [file]
    sent = interaction.data["resolved"]["attachments"][str(file.id)]
    assert interaction.data["options"] == [{"name": "file", "type": 11, "value": str(file.id)}]
    assert sent["url"].startswith(f"http://127.0.0.1:{fake_discord.port}/attachments/")
    assert (sent["size"], sent["filename"], sent["ephemeral"]) == (7, "notes.md", True)


async def test_a_hostile_filename_is_sent_as_given_and_still_downloads(
    fake_discord: FakeDiscord, start_bot
) -> None:
    await start_bot(EchoBot(), wait_for_sync=True)
    file = fake_discord.attachment("../../etc/passwd", b"root:x:0:0")
    interaction = await fake_discord.invoke_slash("upload", {"file": file})
    reply = await interaction.wait_for_reply()
    assert reply.content == "../../etc/passwd (10 bytes, None): root:x:0:0"


async def test_the_cdn_needs_no_token_and_answers_404_for_unknown_files(
    fake_discord: FakeDiscord,
) -> None:
    file = fake_discord.attachment("a.txt", b"abc", content_type="text/plain")
    async with aiohttp.ClientSession() as session:
        async with session.get(file.url) as found:
            assert (found.status, await found.read()) == (200, b"abc")
            assert found.headers["Content-Type"] == "text/plain"
        missing = file.url.replace(str(file.id), "1")
        async with session.get(missing) as gone:
            assert gone.status == 404


async def test_attachment_options_take_only_fake_files_within_discords_limit(
    fake_discord: FakeDiscord, start_bot
) -> None:
    await start_bot(EchoBot(), wait_for_sync=True)
    with pytest.raises(InvalidInvocation, match="attachment"):
        await fake_discord.invoke_slash("upload", {"file": b"raw bytes"})
    huge = fake_discord.attachment("big.txt", b"x" * (ATTACHMENT_SIZE_LIMIT + 1))
    with pytest.raises(InvalidInvocation, match="limit"):
        await fake_discord.invoke_slash("upload", {"file": huge})
