"""Sources: `/sources`, the "Show sources" message menu and the Sources button's registration."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CitebotBot
from bot.views import SourcesView, show_sources

NOTHING_YET = "I haven't answered anything in this channel recently."
NOT_AN_ANSWER = "That message isn't one of my recent answers."


class Sources(commands.Cog):
    """Shows, privately, the passages behind an answer with the quoted sentences highlighted."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name="Show sources", callback=self.show_for_message)
        self.bot.tree.add_command(self.menu)

    async def cog_load(self) -> None:
        # One view instance serves every Sources button, including those sent before a restart.
        self.bot.add_view(SourcesView())

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @app_commands.command(
        name="sources", description="Show the passages behind my latest answer here."
    )
    async def sources(self, interaction: discord.Interaction) -> None:
        channel_id = interaction.channel_id or 0
        latest = await asyncio.to_thread(self.bot.memory.latest, channel_id)
        await show_sources(interaction, latest, NOTHING_YET)

    async def show_for_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        answer = await asyncio.to_thread(self.bot.memory.answer, message.id)
        await show_sources(interaction, answer, NOT_AN_ANSWER)


async def setup(bot: CitebotBot) -> None:
    await bot.add_cog(Sources(bot))
