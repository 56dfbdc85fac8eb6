"""Members keep asking while an admin reindexes again and again: every question is answered."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from index.engine import Engine
from tests.bot.conftest import RunBot
from tests.fake_discord.models import Member
from tests.fake_discord.server import FakeDiscord

pytestmark = pytest.mark.asyncio

REINDEXES = 20
QUESTIONS = [
    "How tall is the Brightwater lighthouse tower?",
    "When was the Brightwater lighthouse built?",
    "Who was the last keeper of the lighthouse?",
    "What did the first lamp burn?",
]
EDIT = "\n\nThe lantern room was repainted a deep green in 2019.\n"
WAIT = 120.0  # generous: a rebuild on a busy 2-core machine can take many seconds


async def test_questions_asked_during_repeated_reindexes_are_all_answered(
    fake_discord: FakeDiscord, run_bot: RunBot, own_engine: Engine, corpus_copy: Path
) -> None:
    await run_bot(own_engine, corpus_dir=corpus_copy)
    article = corpus_copy / "lighthouse.md"
    original = article.read_text()
    askers = [fake_discord.member] + [fake_discord.add_member(f"asker{i}") for i in range(2)]
    done = asyncio.Event()
    replies: list[tuple[str, str, bool]] = []  # (question, content, ephemeral)

    async def keep_asking(member: Member, offset: int) -> None:
        turn = offset
        while not done.is_set():
            question = QUESTIONS[turn % len(QUESTIONS)]
            turn += 1
            interaction = await fake_discord.invoke_slash(
                "ask", {"question": question}, member=member
            )
            reply = await interaction.wait_for_reply(timeout=WAIT)
            replies.append((question, reply.content, reply.ephemeral))

    async def keep_reindexing() -> list[str]:
        reports = []
        try:
            for number in range(REINDEXES):
                if number % 2:  # half the rebuilds change an article, half change nothing
                    edited = original + EDIT if number % 4 == 1 else original
                    await asyncio.to_thread(article.write_text, edited)
                rebuild = await fake_discord.invoke_slash("reindex", member=fake_discord.admin)
                report = await rebuild.wait_for_reply(
                    lambda m: not m.content.startswith("Reindexing"), timeout=WAIT
                )
                reports.append(report.content)
        finally:
            done.set()
        return reports

    askers_done = asyncio.gather(*(keep_asking(m, i) for i, m in enumerate(askers)))
    reports = await keep_reindexing()
    await askers_done

    assert len(reports) == REINDEXES
    assert all(r.startswith("Reindexed") for r in reports), [
        r for r in reports if not r.startswith("Reindexed")
    ]
    failed = [(q, c) for q, c, ephemeral in replies if ephemeral or not c.startswith("**Q:**")]
    assert len(replies) >= REINDEXES, "members kept asking throughout"
    assert failed == [], f"{len(failed)} of {len(replies)} questions got no answer: {failed[:3]}"
