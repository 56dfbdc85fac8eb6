"""A small bot the harness's own tests run against the fake, one behaviour per command."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands
from discord.ext import commands


def intents(*, message_content: bool = True, members: bool = False) -> discord.Intents:
    chosen = discord.Intents.default()
    chosen.message_content = message_content
    chosen.members = members
    return chosen


async def _no_work() -> None:
    return None


class ClickView(discord.ui.View):
    """One button that rewrites its message with who clicked it."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Press", custom_id="press", style=discord.ButtonStyle.primary)
    async def press(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(
            content=f"pressed by {interaction.user.name}", view=None
        )


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput = discord.ui.TextInput(label="Your feedback", custom_id="text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


class EchoBot(commands.Bot):
    """Echoes `!echo` and mentions; slash commands exercise each interaction rule."""

    def __init__(
        self,
        *,
        message_content: bool = True,
        members: bool = False,
        sync: bool = True,
        sync_guild: int | None = None,
    ) -> None:
        super().__init__(
            command_prefix="!",
            intents=intents(message_content=message_content, members=members),
            guild_ready_timeout=0.1,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.sync_on_setup = sync
        self.sync_guild = discord.Object(sync_guild) if sync_guild else None
        self.seen: list[discord.Message] = []
        self.work: Callable[[], Awaitable[None]] = _no_work
        self.failures: list[discord.HTTPException] = []
        self.threads: list[discord.Thread] = []
        self.release = asyncio.Event()
        self._add_commands()

    def _add_commands(self) -> None:
        tree = self.tree

        @tree.command(name="ask", description="Answer after deferring")
        @app_commands.describe(question="What to ask")
        async def ask(interaction: discord.Interaction, question: str) -> None:
            await self.work()
            await self._guard(interaction.response.defer(thinking=True))
            await interaction.followup.send(f"answer to: {question}")
            await interaction.followup.send("second followup")

        @tree.command(name="revise", description="Defer, then edit the original response")
        async def revise(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            await interaction.edit_original_response(content="first answer")
            await interaction.edit_original_response(content="revised answer")

        @tree.command(name="now", description="Answer at once, privately")
        async def now(interaction: discord.Interaction) -> None:
            await self.work()
            await self._guard(interaction.response.send_message("right away", ephemeral=True))

        @tree.command(name="say", description="Answer with the given text")
        async def say(interaction: discord.Interaction, text: str, times: int = 1) -> None:
            await self._guard(interaction.response.send_message(text * times))

        @tree.command(name="topic", description="Pick a topic")
        async def topic(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(f"topic: {name}")

        @topic.autocomplete("name")
        async def topic_names(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            names = ["astronomy", "astrology", "biology"]
            return [app_commands.Choice(name=n, value=n) for n in names if n.startswith(current)]

        @tree.command(name="late", description="Defer, then follow up when released")
        async def late(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True)
            await self.release.wait()
            await self._guard(interaction.followup.send("finally"))

        @tree.command(name="buttons", description="A message with a button")
        async def buttons(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("press it", view=ClickView())

        @tree.command(name="feedback", description="Ask for feedback in a modal")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(FeedbackModal())

        @tree.command(name="reindex", description="Admins only")
        @app_commands.default_permissions(manage_guild=True)
        async def reindex(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("reindexing", ephemeral=True)

        @tree.command(name="upload", description="Read an attached file back")
        async def upload(interaction: discord.Interaction, file: discord.Attachment) -> None:
            data = await file.read()
            await interaction.response.send_message(
                f"{file.filename} ({file.size} bytes, {file.content_type}): {data.decode()}"
            )

        @tree.command(name="vanish", description="Delete the thinking message, then follow up")
        async def vanish(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.delete_original_response()
            await interaction.followup.send("only you see this", ephemeral=True)
            await self._guard(interaction.edit_original_response(content="too late"))

        @tree.context_menu(name="Quote")
        async def quote(interaction: discord.Interaction, message: discord.Message) -> None:
            await interaction.response.send_message(f"> {message.content}", ephemeral=True)

    async def _guard(self, call: Awaitable[object]) -> None:
        """Keep Discord's refusals for the test to inspect, and re-raise them."""
        try:
            await call
        except discord.HTTPException as error:
            self.failures.append(error)
            raise

    async def setup_hook(self) -> None:
        if self.sync_guild is not None:
            self.tree.copy_global_to(guild=self.sync_guild)
            self.tree.clear_commands(guild=None)
            await self.tree.sync(guild=self.sync_guild)
        elif self.sync_on_setup:
            await self.tree.sync()

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.threads.append(thread)

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot:
            return
        self.seen.append(message)
        content = message.content
        if content.startswith("!echo "):
            await message.channel.send(content.removeprefix("!echo "))
        elif content.startswith("!embed "):
            size = int(content.removeprefix("!embed "))
            await message.channel.send(embed=discord.Embed(description="x" * size))
        elif content == "!file":
            data = discord.File(io.BytesIO(b"quoted passage"), filename="passage.txt")
            await message.channel.send("see attached", file=data)
        elif content == "!edit":
            draft = await message.channel.send("draft")
            await draft.edit(content="final")
        elif content.startswith("!thread "):
            thread = await message.create_thread(name=content.removeprefix("!thread "))
            await thread.send(f"thread from message {message.id}")
        elif content.startswith("!standalone "):
            standalone = await message.channel.create_thread(  # type: ignore[union-attr]
                name=content.removeprefix("!standalone "), type=discord.ChannelType.public_thread
            )
            await standalone.send("a thread of my own")
        elif content.startswith("!ping "):
            pings = discord.AllowedMentions(users=True, replied_user=True)
            await message.reply(content.removeprefix("!ping "), allowed_mentions=pings)
        elif self.user in message.mentions:
            await message.channel.send(f"you said: {content}")
