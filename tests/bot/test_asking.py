"""Asking through Discord: mentions, question channels, /ask, limits, deadlines, cooldown."""

from __future__ import annotations

import pytest

from bot.cogs.ask import COOLDOWN_REACTION
from bot.render import MESSAGE_LIMIT
from tests.bot.answers import articles, displayed, quoted_lines, strip_citation
from tests.bot.conftest import RunBot
from tests.bot.engines import BrokenEngine, HeldEngine, HeldFirstEngine, LongEngine, Wrapper
from tests.fake_discord.server import FakeDiscord

pytestmark = pytest.mark.asyncio

NO_PINGS = {"parse": []}


def shown_quotes(content: str) -> list[str]:
    """Each quote of an answer as a reader sees it (one quote per block)."""
    blocks = [b for b in content.split("\n\n") if b.startswith("> ")]
    quotes = []
    for block in blocks:
        lines = quoted_lines(block)
        lines[-1] = strip_citation(lines[-1])
        quotes.append(" ".join(displayed(line) for line in lines))
    return quotes


def assert_nothing_pinged(fake: FakeDiscord) -> None:
    sent = [c for c in fake.calls if c.method in ("POST", "PATCH") and c.json]
    with_content = [c for c in sent if isinstance(c.json, dict) and "content" in c.json]
    assert with_content, "the bot sent something"
    for call in with_content:
        assert call.allowed_mentions == NO_PINGS, call
    assert not any(m.pings for m in fake.bot_messages())


async def test_a_mention_is_answered_with_quotes_found_verbatim_in_the_articles(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine)
    question = await fake_discord.inject_message(
        None, "When was the Brightwater lighthouse built?", mentions_bot=True
    )
    reply = await fake_discord.wait_for_message(fake_discord.channel)
    assert reply.reference_id == question.id
    quotes = shown_quotes(reply.content)
    assert quotes, reply.content
    texts = [" ".join(a.text.split()) for a in articles().values()]
    for quote in quotes:
        assert any(quote in text for text in texts), quote
    assert "1874" in quotes[0]
    assert [b["label"] for b in reply.buttons] == ["Sources"]
    assert_nothing_pinged(fake_discord)


async def test_an_article_with_everyone_and_bold_is_quoted_without_pinging_or_formatting(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine)
    await fake_discord.inject_message(
        None, "Who may attend the harbour club meeting about rowing boats?", mentions_bot=True
    )
    reply = await fake_discord.wait_for_message(fake_discord.channel)
    assert "@everyone" in displayed(reply.content)
    assert not reply.pings and not reply.mention_everyone
    assert_nothing_pinged(fake_discord)
    await fake_discord.inject_message(
        None, "What colour will members paint the boathouse door?", mentions_bot=True
    )
    reply = await fake_discord.wait_for_message(fake_discord.channel)
    (line,) = [q for q in quoted_lines(reply.content) if "bold" in q]
    assert "\\*\\*bold" in line, "the article's ** cannot open bold text in the reply"
    assert "**bold" in shown_quotes(reply.content)[0]


async def test_messages_in_a_question_channel_need_no_mention(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine, question_channels=frozenset({fake_discord.other_channel.id}))
    await fake_discord.inject_message(fake_discord.channel, "How tall is the lighthouse tower?")
    await fake_discord.inject_message(
        fake_discord.other_channel, "How tall is the lighthouse tower?"
    )
    reply = await fake_discord.wait_for_message(fake_discord.other_channel)
    assert "41 metres" in reply.content
    assert fake_discord.bot_messages(fake_discord.channel) == [], "no mention, not a question"


async def test_slash_ask_answers_with_the_question_above_the_quotes(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine)
    interaction = await fake_discord.invoke_slash(
        "ask", {"question": "When did the last keeper leave the lighthouse?"}
    )
    reply = await interaction.wait_for_reply()
    assert reply.content.startswith("**Q:** When did the last keeper leave the lighthouse?")
    assert "1986" in reply.content and not reply.ephemeral
    assert interaction.deferred and not interaction.refusals
    assert_nothing_pinged(fake_discord)


async def test_a_slow_answer_still_meets_the_interaction_deadline(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    held = HeldEngine(engine)
    await run_bot(held)
    interaction = await fake_discord.invoke_slash(
        "ask", {"question": "How tall is the lighthouse tower?"}
    )
    await interaction.wait_for_callback()
    assert interaction.deferred and not held.asked, "deferred before the engine answered"
    fake_discord.advance_time(60)  # the answer takes far longer than Discord's 3 s
    held.release.set()
    reply = await interaction.wait_for_reply()
    assert "41 metres" in reply.content
    assert not interaction.refusals


async def test_heartbeats_and_other_questions_flow_while_one_is_answered(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    first_question = "How tall is the lighthouse tower?"
    held = HeldFirstEngine(engine, held=first_question)
    await run_bot(held)
    first = await fake_discord.invoke_slash("ask", {"question": first_question})
    second = await fake_discord.invoke_slash(
        "ask", {"question": "When was the Brightwater lighthouse built?"}
    )
    assert "1874" in (await second.wait_for_reply()).content, "answered while the first waits"
    assert first.replies == [] and first.deferred
    held.release.set()
    assert "41 metres" in (await first.wait_for_reply()).content


async def test_a_3000_character_answer_is_trimmed_within_the_limit(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    long = LongEngine(engine)
    assert sum(len(q.text) for q in long.ask("x").quotes) >= 3000
    await run_bot(long)
    interaction = await fake_discord.invoke_slash("ask", {"question": "Tell me everything"})
    reply = await interaction.wait_for_reply()
    assert len(reply.content) <= MESSAGE_LIMIT and not interaction.refusals
    assert "more quotes under Sources" in reply.content
    every = [" ".join(q.text.split()) for q in long.ask("x").quotes]
    assert shown_quotes(reply.content) == every[: len(shown_quotes(reply.content))]


async def test_abstention_says_the_articles_dont_answer_and_names_nearest_sources(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine)
    interaction = await fake_discord.invoke_slash(
        "ask", {"question": "What is the population of Lima in Peru?"}
    )
    reply = await interaction.wait_for_reply()
    assert "The articles don't answer that." in reply.content
    assert "**Nearest sources**" in reply.content and not quoted_lines(reply.content)


async def test_a_member_asking_again_too_soon_is_told_privately_to_wait(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine, cooldown_seconds=60)
    first = await fake_discord.invoke_slash(
        "ask", {"question": "How tall is the lighthouse tower?"}
    )
    await first.wait_for_reply()
    second = await fake_discord.invoke_slash(
        "ask", {"question": "When was the Brightwater lighthouse built?"}
    )
    note = await second.wait_for_reply()
    assert note.ephemeral and "ask again in" in note.content
    other = await fake_discord.invoke_slash(
        "ask", {"question": "When was the Brightwater lighthouse built?"}, member=fake_discord.admin
    )
    assert "1874" in (await other.wait_for_reply()).content, "the cooldown is per member"


async def test_a_message_asked_too_soon_gets_a_reaction_and_nothing_in_the_channel(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine, cooldown_seconds=60)
    await fake_discord.inject_message(None, "How tall is the lighthouse tower?", mentions_bot=True)
    await fake_discord.wait_for_message(fake_discord.channel)
    again = await fake_discord.inject_message(
        None, "When was the Brightwater lighthouse built?", mentions_bot=True
    )
    await fake_discord.wait_until(lambda: again.reactions, what="a reaction on the question")
    assert again.reactions == [COOLDOWN_REACTION]
    assert len(fake_discord.bot_messages()) == 1, "no public note about the cooldown"


async def test_an_unexpected_error_gets_a_private_apology_with_a_logged_reference(
    fake_discord: FakeDiscord, run_bot: RunBot, engine, caplog: pytest.LogCaptureFixture
) -> None:
    await run_bot(BrokenEngine(engine))
    interaction = await fake_discord.invoke_slash(
        "ask", {"question": "How tall is the lighthouse tower?"}
    )
    apology = await interaction.wait_for_reply(lambda m: m.ephemeral)
    assert apology.ephemeral and apology.content.startswith("Sorry, something went wrong")
    reference = apology.content.split("`")[1]
    (record,) = [r for r in caplog.records if reference in r.getMessage()]
    assert record.exc_info and "the disk caught fire" in str(record.exc_info[1])
    assert "disk" not in apology.content
    assert interaction.original is not None and interaction.original.deleted
    assert [m.id for m in fake_discord.messages() if not m.deleted] == [apology.id]


async def test_a_question_the_engine_refuses_is_explained_privately(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine, cooldown_seconds=60)
    interaction = await fake_discord.invoke_slash("ask", {"question": "?!"})
    note = await interaction.wait_for_reply(lambda m: m.ephemeral)
    assert note.ephemeral and "no words I can search" in note.content
    again = await fake_discord.invoke_slash(
        "ask", {"question": "How tall is the lighthouse tower?"}
    )
    assert "41 metres" in (await again.wait_for_reply()).content, "a refusal costs no cooldown"


async def test_the_bot_ignores_other_bots(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine, question_channels=frozenset({fake_discord.channel.id}))
    robot = fake_discord.world.add_member(
        fake_discord.guild, fake_discord.world.add_user("robot", bot=True), []
    )
    await fake_discord.inject_message(None, "How tall is the lighthouse tower?", author=robot)
    await fake_discord.inject_message(None, "When was the Brightwater lighthouse built?")
    reply = await fake_discord.wait_for_message(fake_discord.channel)
    assert "1874" in reply.content
    assert len(fake_discord.bot_messages()) == 1


async def test_the_bot_answers_after_a_gateway_reconnect(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine)
    await fake_discord.drop_gateway()
    await fake_discord.wait_for_resumed()
    await fake_discord.request_reconnect()
    await fake_discord.wait_for_resumed()
    await fake_discord.inject_message(None, "How tall is the lighthouse tower?", mentions_bot=True)
    reply = await fake_discord.wait_for_message(fake_discord.channel)
    assert "41 metres" in reply.content


async def test_a_reply_to_an_answer_is_a_follow_up_with_the_earlier_question_as_context(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    recorder = Wrapper(engine)
    bot = await run_bot(recorder)
    first = "When was the Brightwater lighthouse built?"
    await fake_discord.inject_message(None, first, mentions_bot=True)
    answer = await fake_discord.wait_for_message(fake_discord.channel)
    await fake_discord.wait_until(lambda: bot.memory.answer(answer.id), what="the answer kept")
    await fake_discord.inject_message(None, "And who was the engineer of it?", reply_to=answer)
    follow = await fake_discord.wait_for_message(fake_discord.channel)
    assert recorder.asked == [(first, None), ("And who was the engineer of it?", first)]
    assert follow.content and not follow.pings


async def test_a_mention_of_the_bots_role_is_a_question(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine)
    role = fake_discord.bot_role
    question = await fake_discord.inject_message(
        None, f"{role.mention} When was the Brightwater lighthouse built?"
    )
    reply = await fake_discord.wait_for_message(fake_discord.channel)
    assert reply.reference_id == question.id and "1874" in reply.content
    assert not reply.pings


async def test_a_mention_of_another_role_is_not_a_question(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine)
    await fake_discord.inject_message(
        None, f"{fake_discord.member_role.mention} when was the lighthouse built, anyone?"
    )
    await fake_discord.inject_message(None, "How tall is the lighthouse tower?", mentions_bot=True)
    reply = await fake_discord.wait_for_message(fake_discord.channel)
    assert "41 metres" in reply.content
    assert len(fake_discord.bot_messages()) == 1, "only the mention of the bot was answered"


async def test_a_question_deleted_before_its_answer_still_gets_the_answer(
    fake_discord: FakeDiscord, run_bot: RunBot, engine, start_bot
) -> None:
    held = HeldEngine(engine)
    await run_bot(held)
    question = await fake_discord.inject_message(
        None, "How tall is the lighthouse tower?", mentions_bot=True
    )
    await fake_discord.wait_until(held.started.is_set, what="the engine at work")
    await fake_discord.delete_message(question)
    held.release.set()
    reply = await fake_discord.wait_for_message(fake_discord.channel)
    assert "41 metres" in reply.content and reply.reference_id is None
    assert not reply.pings
    assert start_bot.errors == [], "no exception in on_message"


CHATTER = ["thanks!", "ok", "lol", "👍", "<:party:123456789012345678>", "nice one", "will do!"]


async def test_chatter_in_a_question_channel_is_left_alone(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    recorder = Wrapper(engine)
    await run_bot(recorder, question_channels=frozenset({fake_discord.channel.id}))
    for text in CHATTER:
        await fake_discord.inject_message(None, text)
    await fake_discord.inject_message(None, "how tall is the lighthouse tower")
    reply = await fake_discord.wait_for_message(fake_discord.channel)
    assert "41 metres" in reply.content
    assert [q for q, _ in recorder.asked] == ["how tall is the lighthouse tower"]
    assert len(fake_discord.bot_messages()) == 1


async def test_replies_between_members_in_a_question_channel_are_left_alone(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    recorder = Wrapper(engine)
    await run_bot(recorder, question_channels=frozenset({fake_discord.channel.id}))
    said = await fake_discord.inject_message(
        None,
        "I visited the lighthouse museum last summer with my family.",
        author=fake_discord.admin,
    )
    await fake_discord.inject_message(None, "Was it open every day of the week?", reply_to=said)
    await fake_discord.inject_message(
        None, "Who was the engineer of the lighthouse?", reply_to=said, mentions_bot=True
    )
    reply = await fake_discord.wait_for_message(fake_discord.channel)
    assert "Margaret Ellison" in reply.content, "a mention is always a question"
    assert [q for q, _ in recorder.asked] == ["Who was the engineer of the lighthouse?"]


async def test_a_thanks_in_reply_to_an_answer_is_not_a_follow_up(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    recorder = Wrapper(engine)
    bot = await run_bot(recorder)
    await fake_discord.inject_message(None, "How tall is the lighthouse tower?", mentions_bot=True)
    answer = await fake_discord.wait_for_message(fake_discord.channel)
    await fake_discord.wait_until(lambda: bot.memory.answer(answer.id), what="the answer kept")
    await fake_discord.inject_message(None, "thanks!", reply_to=answer)
    await fake_discord.inject_message(None, "and who built it?", reply_to=answer)
    follow = await fake_discord.wait_for_message(fake_discord.channel)
    assert follow.reference_id is not None
    assert [q for q, _ in recorder.asked] == [
        "How tall is the lighthouse tower?",
        "and who built it?",
    ]


async def test_commands_are_offered_in_servers_only_not_in_dms(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    await run_bot(engine)
    stored = fake_discord.commands()
    assert {c["name"] for c in stored} >= {"ask", "sources", "articles", "Show sources"}
    for command in stored:
        assert command.get("contexts") == [0], command["name"]


async def test_direct_messages_are_not_answered(
    fake_discord: FakeDiscord, run_bot: RunBot, engine
) -> None:
    recorder = Wrapper(engine)
    await run_bot(recorder)
    dm = fake_discord.dm_channel(fake_discord.member)
    await fake_discord.inject_message(dm, "How tall is the lighthouse tower?")
    await fake_discord.inject_message(dm, "When was it built?", mentions_bot=True)
    await fake_discord.inject_message(None, "Who built the lighthouse?", mentions_bot=True)
    await fake_discord.wait_for_message(fake_discord.channel)
    assert fake_discord.bot_messages(dm) == []
    assert [q for q, _ in recorder.asked] == ["Who built the lighthouse?"]
