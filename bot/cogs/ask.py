"""Asking: a mention, a message in a question channel or a known thread, or `/ask`."""

from __future__ import annotations

import asyncio
import logging
import re

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CitebotBot
from bot.errors import message_for
from bot.render import question_header, render_answer
from bot.views import SourcesView
from index.errors import QuestionError
from index.types import Answer

log = logging.getLogger(__name__)


def cooldown_text(seconds: float) -> str:
    return f"One question at a time, please: you can ask again in {max(1, round(seconds))} s."


class Ask(commands.Cog):
    """Turns questions into answers from the engine, one at a time per member."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot

    def context_for(
        self, channel: object, question: str, replied_to: int | None = None
    ) -> str | None:
        """The earlier question a follow-up builds on: the answer replied to, or the thread's."""
        earlier = None
        if replied_to is not None:
            replied = self.bot.memory.answer(replied_to)
            earlier = replied.question if replied else None
        if earlier is None and isinstance(channel, discord.Thread):
            earlier = self.bot.memory.thread_question(channel.id)
        return earlier if earlier and earlier != question else None

    def remember(
        self, message: discord.Message | discord.InteractionMessage, answer: Answer
    ) -> None:
        self.bot.memory.remember(message.id, message.channel.id, answer)
        if isinstance(message.channel, discord.Thread):
            self.bot.memory.note_thread(message.channel.id, answer.question)

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
            answer = await self.answer(question, self.context_for(interaction.channel, question))
        except Exception as exc:  # every error becomes a private reply
            if isinstance(exc, QuestionError):
                self.bot.cooldown.reset(interaction.user.id)
            await self._private_error(interaction, message_for(exc, "/ask"))
            return
        content = render_answer(answer, header=question_header(question))
        message = await interaction.edit_original_response(content=content, view=SourcesView())
        self.remember(message, answer)

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

    def question_in(self, message: discord.Message) -> str | None:
        """The question a message asks the bot, or None when it isn't for the bot."""
        me = self.bot.user
        if me is None or message.author.bot or message.webhook_id is not None:
            return None
        if message.is_system():  # e.g. "started a thread", whose content is the thread's name
            return None
        text = message.content
        mention = re.compile(rf"<@!?{me.id}>")
        if mention.search(text):
            return mention.sub(" ", text).strip()
        channel = message.channel
        channels = self.bot.settings.question_channels
        if channel.id in channels:
            return text.strip()
        if isinstance(channel, discord.Thread) and (
            channel.parent_id in channels or self.bot.memory.thread_question(channel.id)
        ):
            return text.strip()
        if message.reference and self.bot.memory.answer(message.reference.message_id or 0):
            return text.strip()
        return None

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        question = self.question_in(message)
        if question is None:
            return
        wait = self.bot.cooldown.retry_after(message.author.id)
        if wait:
            # Messages cannot be ephemeral: a short note that removes itself.
            await message.reply(cooldown_text(wait), delete_after=min(wait, 10))
            return
        replied_to = message.reference.message_id if message.reference else None
        context = self.context_for(message.channel, question, replied_to)
        try:
            async with message.channel.typing():
                answer = await self.answer(question, context)
        except Exception as exc:  # every error becomes a reply to the asker
            if isinstance(exc, QuestionError):
                self.bot.cooldown.reset(message.author.id)
            await message.reply(message_for(exc, "a message question"))
            return
        reply = await message.reply(render_answer(answer), view=SourcesView())
        self.remember(reply, answer)


async def setup(bot: CitebotBot) -> None:
    await bot.add_cog(Ask(bot))
