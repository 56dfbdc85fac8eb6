"""`/articles [search]`: the corpus's articles, a page at a time."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CitebotBot
from bot.views import ArticlePager


class Articles(commands.Cog):
    """Lists what the bot can quote from, with previous/next buttons."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot

    @app_commands.command(name="articles", description="List the articles I answer from.")
    @app_commands.describe(search="Only articles whose title or file name contains this")
    async def articles(self, interaction: discord.Interaction, search: str | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await asyncio.to_thread(self.bot.engine.articles, search)
        pager = ArticlePager(
            found, interaction.user.id, search=search, timeout=self.bot.pager_timeout
        )
        if pager.pages <= 1:
            pager.stop()
            await interaction.edit_original_response(content=pager.content())
            return
        pager.interaction = interaction
        await interaction.edit_original_response(content=pager.content(), view=pager)


async def setup(bot: CitebotBot) -> None:
    await bot.add_cog(Articles(bot))
