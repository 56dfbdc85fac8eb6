"""Admin commands: who may reindex, progress, live swap, refusals and failures."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.client import CitebotBot
from index.engine import Engine
from tests.bot.conftest import RunBot
from tests.bot.engines import GatedEngine
from tests.fake_discord.errors import CommandNotPermitted
from tests.fake_discord.server import FakeDiscord

pytestmark = pytest.mark.asyncio

NEW_ARTICLE = """---
title: The Kessel Observatory
url: https://example.org/science/kessel-observatory
published: 2024-03-03
---
The Kessel observatory opened in 1932 on the northern ridge of the volcano.
"""
NEW_QUESTION = "When did the Kessel observatory open on the ridge?"


@pytest.fixture
def gated(own_engine: Engine) -> GatedEngine:
    return GatedEngine(own_engine)


async def _start(run_bot: RunBot, engine: GatedEngine, corpus: Path, **changes) -> CitebotBot:  # type: ignore[no-untyped-def]
    return await run_bot(engine, corpus_dir=corpus, **changes)


async def test_admin_commands_are_hidden_from_members_by_default(
    fake_discord: FakeDiscord, run_bot: RunBot, gated: GatedEngine, corpus_copy: Path
) -> None:
    await _start(run_bot, gated, corpus_copy)
    stored = {c["name"]: c for c in fake_discord.commands()}
    assert stored["reindex"]["default_member_permissions"] == str(1 << 5)
    assert stored["add-article"]["default_member_permissions"] == str(1 << 5)
    with pytest.raises(CommandNotPermitted):
        await fake_discord.invoke_slash("reindex", member=fake_discord.member)


async def test_a_member_who_somehow_invokes_reindex_is_refused_and_nothing_happens(
    fake_discord: FakeDiscord, run_bot: RunBot, gated: GatedEngine, corpus_copy: Path
) -> None:
    await _start(run_bot, gated, corpus_copy)
    interaction = await fake_discord.invoke_slash(
        "reindex", member=fake_discord.member, check_permissions=False
    )
    refusal = await interaction.wait_for_reply()
    assert refusal.ephemeral and "Manage Server" in refusal.content
    assert gated.reindexes == 0, "refused by the check, before the command ran"


async def test_the_configured_admin_role_sees_and_may_use_the_admin_commands(
    fake_discord: FakeDiscord, run_bot: RunBot, gated: GatedEngine, corpus_copy: Path
) -> None:
    role = fake_discord.world.add_role(fake_discord.guild, "Librarian", 0)
    librarian = fake_discord.add_member("carol", roles=[role.id])
    await _start(run_bot, gated, corpus_copy, admin_role="Librarian")
    stored = {c["name"]: c for c in fake_discord.commands()}
    assert stored["reindex"]["default_member_permissions"] is None
    assert stored["add-article"]["default_member_permissions"] is None
    gated.gate.set()
    interaction = await fake_discord.invoke_slash("reindex", member=librarian)
    done = await interaction.wait_for_reply(lambda m: m.content.startswith("Reindexed"))
    assert done.ephemeral and gated.reindexes == 1
    other = await fake_discord.invoke_slash("reindex", member=fake_discord.member)
    refusal = await other.wait_for_reply()
    assert refusal.ephemeral and "admin role" in refusal.content and gated.reindexes == 1


async def test_reindex_swaps_the_index_while_questions_are_answered_from_the_old_one(
    fake_discord: FakeDiscord, run_bot: RunBot, gated: GatedEngine, corpus_copy: Path
) -> None:
    await _start(run_bot, gated, corpus_copy)
    rebuild = await fake_discord.invoke_slash("reindex", member=fake_discord.admin)
    await rebuild.wait_for_callback()
    await asyncio.to_thread(gated.started.wait, 15)
    (corpus_copy / "observatory.md").write_text(NEW_ARTICLE)

    progress = await rebuild.wait_for_reply(lambda m: "Embedding passages 1/4" in m.content)
    assert progress.ephemeral and progress.content.startswith("Reindexing…")

    second = await fake_discord.invoke_slash("reindex", member=fake_discord.admin)
    busy = await second.wait_for_reply()
    assert busy.ephemeral and "already running" in busy.content

    asked = await fake_discord.invoke_slash("ask", {"question": NEW_QUESTION})
    old = await asked.wait_for_reply()
    assert "1932" not in old.content, "answered from the old index mid-rebuild"

    gated.gate.set()
    done = await fake_discord.wait_until(
        lambda: rebuild.original if rebuild.original.content.startswith("Reindexed") else None,
        what="the report",
    )
    assert done.id == progress.id and rebuild.followups == [], "one message, edited"
    assert "1 added" in done.content and "0 skipped" in done.content
    asked = await fake_discord.invoke_slash("ask", {"question": NEW_QUESTION})
    assert "opened in 1932" in (await asked.wait_for_reply()).content


async def test_a_failed_reindex_keeps_the_old_index_and_says_why(
    fake_discord: FakeDiscord, run_bot: RunBot, gated: GatedEngine, corpus_copy: Path
) -> None:
    await _start(run_bot, gated, corpus_copy)
    gated.failure = OSError("No space left on device")
    gated.gate.set()
    rebuild = await fake_discord.invoke_slash("reindex", member=fake_discord.admin)
    failed = await rebuild.wait_for_reply(lambda m: m.content.startswith("Reindex failed"))
    assert "previous index" in failed.content and "No space left on device" in failed.content
    asked = await fake_discord.invoke_slash(
        "ask", {"question": "How tall is the Brightwater lighthouse tower?"}
    )
    assert "41 metres" in (await asked.wait_for_reply()).content
    again = await fake_discord.invoke_slash("reindex", member=fake_discord.admin)
    assert "Reindex" in (await again.wait_for_reply(lambda m: "Reindex" in m.content)).content
