"""Asking: a mention, a message in a question channel or a known thread, or `/ask`.

A mention of the bot (or of its role, which Discord's autocomplete often picks for "@citebot")
and `/ask` are always questions. Elsewhere only messages that look like questions are answered
(see bot/questions.py), and a reply to someone else's message is left to them. DMs are not
answered: the commands are offered in servers only.
"""

from __future__ import annotations

import asyncio
import logging
import re

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CitebotBot
from bot.errors import message_for
from bot.memory import AnswerMemory
from bot.questions import looks_like_a_question
from bot.render import question_header, render_answer
from bot.views import SourcesView
from index.errors import QuestionError
from index.types import Answer

log = logging.getLogger(__name__)


COOLDOWN_REACTION = "\N{HOURGLASS WITH FLOWING SAND}"


def cooldown_text(seconds: float) -> str:
    return f"One question at a time, please: you can ask again in {max(1, round(seconds))} s."


async def reply_to(
    message: discord.Message, content: str, view: discord.ui.View | None = None
) -> discord.Message:
    """Reply to a message, or post in its channel if it was deleted in the meantime."""
    reference = message.to_reference(fail_if_not_exists=False)
    if view is None:
        return await message.channel.send(content, reference=reference)
    return await message.channel.send(content, reference=reference, view=view)


class Recall:
    """What memory holds of the messages and threads one message refers to: each answer and
    thread question is read once (off the event loop), however many checks ask for it."""

    def __init__(self, memory: AnswerMemory) -> None:
        self._memory = memory
        self._answers: dict[int, Answer | None] = {}
        self._threads: dict[int, str | None] = {}

    async def answer(self, message_id: int) -> Answer | None:
        if message_id not in self._answers:
            self._answers[message_id] = await asyncio.to_thread(self._memory.answer, message_id)
        return self._answers[message_id]

    async def thread_question(self, thread_id: int) -> str | None:
        if thread_id not in self._threads:
            found = await asyncio.to_thread(self._memory.thread_question, thread_id)
            self._threads[thread_id] = found
        return self._threads[thread_id]


class Ask(commands.Cog):
    """Turns questions into answers from the engine, one at a time per member."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot

    def recall(self) -> Recall:
        """Memory reads for one message or command, each read once, off the event loop."""
        return Recall(self.bot.memory)

    async def context_for(
        self, channel: object, question: str, replied_to: int | None, recall: Recall
    ) -> str | None:
        """The earlier question a follow-up builds on: the answer replied to, or the thread's."""
        earlier = None
        if replied_to is not None:
            replied = await recall.answer(replied_to)
            earlier = replied.question if replied else None
        if earlier is None and isinstance(channel, discord.Thread):
            earlier = await recall.thread_question(channel.id)
        return earlier if earlier and earlier != question else None

    async def remember(
        self, message: discord.Message | discord.InteractionMessage, answer: Answer
    ) -> None:
        memory = self.bot.memory
        await asyncio.to_thread(memory.remember, message.id, message.channel.id, answer)
        if isinstance(message.channel, discord.Thread):
            await asyncio.to_thread(memory.note_thread, message.channel.id, answer.question)

    async def answer(self, question: str, context: str | None) -> Answer:
        """Ask the engine off the event loop, so heartbeats and other questions keep flowing."""
        return await asyncio.to_thread(self.bot.engine.ask, question, context=context)

    @app_commands.command(name="ask", description="Ask a question; the answer quotes the articles.")
    @app_commands.describe(question="What do you want to know?")
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        wait = self.bot.cooldown.retry_after(interaction.user.id)
        if wait:
            await interaction.response.send_message(cooldown_text(wait), ephemeral=True)
            return
        await interaction.response.defer(thinking=True)
        try:
            context = await self.context_for(interaction.channel, question, None, self.recall())
            answer = await self.answer(question, context)
        except Exception as exc:  # every error becomes a private reply
            if isinstance(exc, QuestionError):
                self.bot.cooldown.reset(interaction.user.id)
            await self._private_error(interaction, message_for(exc, "/ask"))
            return
        content = render_answer(answer, header=question_header(question))
        message = await interaction.edit_original_response(content=content, view=SourcesView())
        await self.remember(message, answer)

    async def _private_error(self, interaction: discord.Interaction, text: str) -> None:
        """Replace the public "thinking…" message with a reply only the asker sees.

        The first followup after a public defer would be public whatever its flags, so the
        deferred message is settled (edited, then deleted) before the private followup.
        """
        try:
            await interaction.edit_original_response(content="I couldn't answer that.")
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.debug("could not remove the deferred response", exc_info=True)
        await interaction.followup.send(text, ephemeral=True)

    def mention_pattern(self, message: discord.Message) -> re.Pattern[str] | None:
        """The bot's mention, or its managed role's, as written in message content."""
        me = self.bot.user
        if me is None:
            return None
        role = message.guild.self_role if message.guild else None
        role_part = f"|<@&{role.id}>" if role is not None else ""
        return re.compile(rf"<@!?{me.id}>{role_part}")

    async def replies_to_me(self, message: discord.Message, recall: Recall) -> bool | None:
        """None when not a reply; else whether it replies to one of the bot's messages."""
        reference = message.reference
        if reference is None or reference.message_id is None:
            return None
        replied = reference.resolved or reference.cached_message
        me = self.bot.user
        if isinstance(replied, discord.Message) and me is not None and replied.author == me:
            return True
        return await recall.answer(reference.message_id) is not None

    async def question_in(self, message: discord.Message, recall: Recall) -> str | None:
        """The question a message asks the bot, or None when it isn't for the bot."""
        if message.author.bot or message.webhook_id is not None or message.guild is None:
            return None
        if message.is_system():  # e.g. "started a thread", whose content is the thread's name
            return None
        text = message.content
        mention = self.mention_pattern(message)
        if mention is None:
            return None
        if mention.search(text):
            return mention.sub(" ", text).strip()
        to_me = await self.replies_to_me(message, recall)
        if to_me is False:  # members talking to each other
            return None
        channel = message.channel
        channels = self.bot.settings.question_channels
        addressed = (
            to_me
            or channel.id in channels
            or (
                isinstance(channel, discord.Thread)
                and (channel.parent_id in channels or await recall.thread_question(channel.id))
            )
        )
        if not addressed or not looks_like_a_question(text):
            return None
        return text.strip()

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        recall = self.recall()
        question = await self.question_in(message, recall)
        if question is None:
            return
        wait = self.bot.cooldown.retry_after(message.author.id)
        if wait:
            # A reaction only the asker is looking for: nothing posted in the channel.
            try:
                await message.add_reaction(COOLDOWN_REACTION)
            except discord.HTTPException:
                log.debug("could not mark a question asked too soon", exc_info=True)
            return
        replied_to = message.reference.message_id if message.reference else None
        context = await self.context_for(message.channel, question, replied_to, recall)
        try:
            async with message.channel.typing():
                answer = await self.answer(question, context)
        except Exception as exc:  # every error becomes a reply to the asker
            if isinstance(exc, QuestionError):
                self.bot.cooldown.reset(message.author.id)
            await reply_to(message, message_for(exc, "a message question"))
            return
        reply = await reply_to(message, render_answer(answer), view=SourcesView())
        await self.remember(reply, answer)


async def setup(bot: CitebotBot) -> None:
    await bot.add_cog(Ask(bot))
