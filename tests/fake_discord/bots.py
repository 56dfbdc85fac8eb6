"""Small bots the harness's own tests run against the fake."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.ext import commands


def intents(*, message_content: bool = True, members: bool = False) -> discord.Intents:
    chosen = discord.Intents.default()
    chosen.message_content = message_content
    chosen.members = members
    return chosen


class EchoBot(commands.Bot):
    """Echoes `!echo` messages and mentions; offers /ask (deferred) and /now (immediate)."""

    def __init__(
        self, *, message_content: bool = True, members: bool = False, sync: bool = True
    ) -> None:
        super().__init__(
            command_prefix="!",
            intents=intents(message_content=message_content, members=members),
            guild_ready_timeout=0.1,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.sync_on_setup = sync
        self.seen: list[discord.Message] = []
        self.work_delay = 0.0
        self.failures: list[Exception] = []

        @self.tree.command(name="ask", description="Answer after deferring")
        @app_commands.describe(question="What to ask")
        async def ask(interaction: discord.Interaction, question: str) -> None:
            await asyncio.sleep(self.work_delay)
            try:
                await interaction.response.defer(thinking=True)
            except discord.HTTPException as error:
                self.failures.append(error)
                raise
            await interaction.followup.send(f"answer to: {question}")
            await interaction.followup.send("second followup")

        @self.tree.command(name="now", description="Answer at once")
        async def now(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("right away", ephemeral=True)

    async def setup_hook(self) -> None:
        if self.sync_on_setup:
            await self.tree.sync()

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot:
            return
        self.seen.append(message)
        if message.content.startswith("!echo "):
            await message.channel.send(message.content.removeprefix("!echo "))
        elif self.user in message.mentions:
            await message.channel.send(f"you said: {message.content}")
