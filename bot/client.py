"""The citebot Discord client, built by one function from an engine and settings."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cooldown import Cooldown
from bot.errors import message_for, reply_privately
from bot.memory import FILE_NAME, AnswerMemory
from bot.settings import Settings

if TYPE_CHECKING:
    from index.engine import Engine

log = logging.getLogger(__name__)

EXTENSIONS = ("bot.cogs.ask", "bot.cogs.sources", "bot.cogs.articles", "bot.cogs.admin")


class NotAdmin(app_commands.CheckFailure):
    """The member may not use an admin command."""


def intents() -> discord.Intents:
    """Guild events and message content: questions are read from ordinary messages."""
    wanted = discord.Intents.default()
    wanted.message_content = True
    wanted.members = False
    wanted.presences = False
    return wanted


PAGER_TIMEOUT = 600.0  # seconds an /articles list keeps its buttons


class CitebotBot(commands.Bot):
    """The bot: an engine to answer from, settings, and what it remembers of its answers.

    Its commands are offered in servers only, not in DMs: answers are meant to be seen by the
    server whose articles they quote, and a DM would step around its question channels.
    """

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        pager_timeout: float = PAGER_TIMEOUT,
        **options: Any,
    ) -> None:
        options.setdefault("intents", intents())
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            allowed_contexts=app_commands.AppCommandContext(
                guild=True, dm_channel=False, private_channel=False
            ),
            **options,
        )
        self.engine = engine
        self.settings = settings
        self.pager_timeout = pager_timeout
        self.memory = AnswerMemory(Path(settings.index_dir) / FILE_NAME)
        self.cooldown = Cooldown(settings.cooldown_seconds)
        self.tree.error(self.on_app_command_error)

    async def close(self) -> None:
        await super().close()
        await asyncio.to_thread(self.memory.close)

    async def setup_hook(self) -> None:
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands()

    async def sync_commands(self) -> None:
        """Register the slash commands: in one guild at once if configured, else globally."""
        if self.settings.guild_id:
            guild = discord.Object(id=self.settings.guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d application commands", len(synced))

    async def on_ready(self) -> None:
        log.info("connected as %s to %d guild(s)", self.user, len(self.guilds))

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: the Ask cog listens for questions."""

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Every slash-command error ends here as a private reply to the member."""
        if isinstance(error, NotAdmin):
            text = "Only members with Manage Server (or the admin role) can use this command."
        elif isinstance(error, app_commands.CommandInvokeError):
            name = interaction.command.qualified_name if interaction.command else "a command"
            text = message_for(error.original, f"/{name}")
        elif isinstance(error, app_commands.CheckFailure):
            text = "You can't use this command here."
        else:
            text = message_for(error, "a command")
        await reply_privately(interaction, text)


def is_admin(
    member: discord.abc.User, permissions: discord.Permissions, admin_role: str | None
) -> bool:
    """Manage Server (or Administrator) in this channel, or the configured admin role."""
    if permissions.manage_guild or permissions.administrator:
        return True
    if admin_role is None or not isinstance(member, discord.Member):
        return False
    return any(admin_role in (str(role.id), role.name) for role in member.roles)


def admin_only() -> Any:
    """A runtime check behind `default_permissions`: Discord's hiding is not a guarantee."""

    def predicate(interaction: discord.Interaction) -> bool:
        bot = interaction.client
        role = bot.settings.admin_role if isinstance(bot, CitebotBot) else None
        if not is_admin(interaction.user, interaction.permissions, role):
            raise NotAdmin("not an admin")
        return True

    return app_commands.check(predicate)


def build_bot(engine: Engine, settings: Settings, **options: Any) -> CitebotBot:
    """The one way to make the bot; `options` go to discord.py (e.g. guild_ready_timeout)."""
    return CitebotBot(engine, settings, **options)
