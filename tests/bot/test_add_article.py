"""`/add-article`: an admin's file is saved inside the corpus under a safe name, then indexed."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.engine import Engine
from tests.bot.answers import displayed
from tests.bot.conftest import RunBot
from tests.fake_discord.models import Message
from tests.fake_discord.server import FakeDiscord

pytestmark = pytest.mark.asyncio

ARTICLE = b"""---
title: The Tarn Ferry Museum
url: https://example.org/town/ferry-museum
published: 2024-05-01
---
The Tarn ferry museum opened in 1987 in the old ticket hall beside the slipway.
"""
QUESTION = "When did the Tarn ferry museum open?"
ANSWER = "opened in 1987"


def snapshot(root: Path) -> dict[Path, tuple[int, int]]:
    """Every file under `root` with its size and modification time."""
    return {
        p.relative_to(root): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def refusal(reply: Message) -> str:
    """The text of a refusal, which only the admin who asked may see."""
    assert reply.ephemeral, "a refusal is private"
    return displayed(reply.content)


@pytest.fixture
def workspace(tmp_path: Path, corpus_copy: Path) -> Path:
    """The folder that holds the corpus and the index: nothing may appear beside them."""
    assert corpus_copy.parent == tmp_path
    return tmp_path


async def test_an_admins_markdown_file_is_saved_indexed_and_answers_questions(
    fake_discord: FakeDiscord, run_bot: RunBot, own_engine: Engine, corpus_copy: Path
) -> None:
    await run_bot(own_engine, corpus_dir=corpus_copy)
    file = fake_discord.attachment("ferry-museum.md", ARTICLE, content_type="text/markdown")
    interaction = await fake_discord.invoke_slash(
        "add-article", {"file": file}, member=fake_discord.admin
    )
    done = await interaction.wait_for_reply(lambda m: "reindexed" in m.content, timeout=10)
    assert done.ephemeral and "1 added" in done.content
    assert "Added `added/ferry-museum.md`" in displayed(done.content)
    assert (corpus_copy / "added" / "ferry-museum.md").read_bytes() == ARTICLE
    assert fake_discord.downloads == [file]

    asked = await fake_discord.invoke_slash("ask", {"question": QUESTION})
    assert ANSWER in displayed((await asked.wait_for_reply()).content)


@pytest.mark.parametrize(
    "filename", ["../../evil.md", "..\\..\\evil.md", "/tmp/../../evil.md", "added/../../evil.md"]
)
async def test_path_tricks_in_the_filename_stay_inside_the_corpus(
    fake_discord: FakeDiscord,
    run_bot: RunBot,
    own_engine: Engine,
    corpus_copy: Path,
    workspace: Path,
    filename: str,
) -> None:
    await run_bot(own_engine, corpus_dir=corpus_copy)
    before = snapshot(workspace)
    file = fake_discord.attachment(filename, ARTICLE)
    interaction = await fake_discord.invoke_slash(
        "add-article", {"file": file}, member=fake_discord.admin
    )
    done = await interaction.wait_for_reply(lambda m: "reindexed" in m.content, timeout=10)
    assert "Added `added/evil.md`" in displayed(done.content)
    new = set(snapshot(workspace)) - set(before)
    outside = {p for p in new if p.parts[0] not in (corpus_copy.name, "index")}
    assert outside == set(), "nothing is written beside the corpus"
    assert {p for p in new if p.parts[0] == corpus_copy.name} == {
        Path(corpus_copy.name, "added", "evil.md")
    }
    assert not (workspace.parent / "evil.md").exists()


async def test_etc_passwd_is_refused_for_its_type_and_nothing_is_written(
    fake_discord: FakeDiscord,
    run_bot: RunBot,
    own_engine: Engine,
    corpus_copy: Path,
    workspace: Path,
) -> None:
    await run_bot(own_engine, corpus_dir=corpus_copy)
    before = snapshot(workspace)
    file = fake_discord.attachment("../../etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    interaction = await fake_discord.invoke_slash(
        "add-article", {"file": file}, member=fake_discord.admin
    )
    text = refusal(await interaction.wait_for_reply())
    assert text == "Only .txt, .md, .html, .jsonl files can be added."
    assert snapshot(workspace) == before and fake_discord.downloads == []


@pytest.mark.parametrize(
    ("filename", "size", "expected"),
    [
        ("big.md", 65, "That file is 65 bytes; the limit is 64."),
        ("paper.pdf", 10, "Only .txt, .md, .html, .jsonl files can be added."),
        ("notes.md.exe", 10, "Only .txt, .md, .html, .jsonl files can be added."),
    ],
)
async def test_a_too_large_or_wrong_type_file_is_refused_and_nothing_is_written(
    fake_discord: FakeDiscord,
    run_bot: RunBot,
    own_engine: Engine,
    corpus_copy: Path,
    workspace: Path,
    filename: str,
    size: int,
    expected: str,
) -> None:
    await run_bot(own_engine, corpus_dir=corpus_copy, max_article_bytes=64)
    before = snapshot(workspace)
    file = fake_discord.attachment(filename, b"x" * size)
    interaction = await fake_discord.invoke_slash(
        "add-article", {"file": file}, member=fake_discord.admin
    )
    assert refusal(await interaction.wait_for_reply()) == expected
    assert snapshot(workspace) == before, "nothing written, nothing reindexed"
    assert fake_discord.downloads == [], "a refused file is not even downloaded"


async def test_an_empty_file_is_refused_with_a_clear_message(
    fake_discord: FakeDiscord,
    run_bot: RunBot,
    own_engine: Engine,
    corpus_copy: Path,
    workspace: Path,
) -> None:
    await run_bot(own_engine, corpus_dir=corpus_copy)
    before = snapshot(workspace)
    file = fake_discord.attachment("empty.md", b"")
    interaction = await fake_discord.invoke_slash(
        "add-article", {"file": file}, member=fake_discord.admin
    )
    reply = await interaction.wait_for_reply(lambda m: "can't add" in m.content)
    assert reply.ephemeral and "empty" in displayed(reply.content)
    assert snapshot(workspace) == before


async def test_a_members_add_article_is_refused_and_nothing_happens(
    fake_discord: FakeDiscord,
    run_bot: RunBot,
    own_engine: Engine,
    corpus_copy: Path,
    workspace: Path,
) -> None:
    await run_bot(own_engine, corpus_dir=corpus_copy)
    before = snapshot(workspace)
    file = fake_discord.attachment("ferry-museum.md", ARTICLE)
    interaction = await fake_discord.invoke_slash(
        "add-article", {"file": file}, member=fake_discord.member, check_permissions=False
    )
    assert "Manage Server" in refusal(await interaction.wait_for_reply())
    assert snapshot(workspace) == before and fake_discord.downloads == []
