"""Admin: `/reindex` and `/add-article`, rebuilding in the background and swapping live.

Who sees them: with no admin role configured, Discord shows them only to members with Manage
Server. With `CITEBOT_ADMIN_ROLE` set they are shown to everyone, since Discord cannot show a
command to one role by default; the check behind them refuses everyone else, privately.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import time
from pathlib import Path

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CitebotBot, admin_only
from bot.errors import describe, log_unexpected
from bot.render import escape
from bot.reports import failure_text, progress_line, report_text, save_failure_text
from index.errors import BadArticleError, ReindexInProgressError
from index.readers import SUPPORTED_SUFFIXES
from index.types import BuildProgress, BuildReport

log = logging.getLogger(__name__)

BUSY = "A reindex is already running; I'll keep answering from the current index until it's done."
ARTICLE_TYPES = tuple(sorted(SUPPORTED_SUFFIXES))  # the readers' list: one set of upload rules


class Admin(commands.Cog):
    """Rebuilds the index while questions keep being answered from the old one."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot
        self.running = False  # set before the build thread starts, so a race can't slip in
        if bot.settings.admin_role:
            # Members with only the admin role must be able to see the commands to use them.
            self.reindex.default_permissions = None
            self.add_article.default_permissions = None

    def busy(self) -> bool:
        return self.running or self.bot.engine.reindexing

    @app_commands.command(name="reindex", description="Rebuild the index from the corpus folder.")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @admin_only()
    async def reindex(self, interaction: discord.Interaction) -> None:
        if self.busy():
            await interaction.response.send_message(BUSY, ephemeral=True)
            return
        self.running = True
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await self.rebuild(interaction, "Reindexing")
        finally:
            self.running = False

    @app_commands.command(name="add-article", description="Add an article file, then reindex.")
    @app_commands.describe(file="A .txt, .md, .html, .htm or .jsonl article")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @admin_only()
    async def add_article(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        limit = self.bot.engine.max_article_bytes
        if file.size > limit:
            await interaction.response.send_message(
                f"That file is {file.size:,} bytes; the limit is {limit:,}.", ephemeral=True
            )
            return
        if not file.filename.lower().endswith(ARTICLE_TYPES):
            await interaction.response.send_message(
                f"Only {', '.join(ARTICLE_TYPES)} files can be added.", ephemeral=True
            )
            return
        if self.busy():
            await interaction.response.send_message(BUSY, ephemeral=True)
            return
        self.running = True
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            data = await file.read()
            try:
                saved = await asyncio.to_thread(self.bot.engine.add_article, file.filename, data)
            except BadArticleError as exc:
                await interaction.edit_original_response(content=describe(exc))
                return
            except OSError as exc:
                log.warning("could not save an uploaded article", exc_info=exc)
                reason = os_reason(exc)
                await interaction.edit_original_response(content=save_failure_text(reason))
                return
            except Exception as exc:
                reference = log_unexpected(exc, "/add-article")
                await interaction.edit_original_response(
                    content=save_failure_text(f"an unexpected error (reference `{reference}`)")
                )
                return
            shown = escape(self._relative(saved))
            await self.rebuild(
                interaction,
                f"Added `{shown}`. Indexing",
                intro_done=f"Added `{shown}` and reindexed",
                failed_intro=f"Saved `{shown}`, but the reindex failed",
            )
        finally:
            self.running = False

    def _relative(self, path: Path) -> str:
        corpus = self.bot.settings.corpus_dir.resolve()
        try:
            return path.resolve().relative_to(corpus).as_posix()
        except ValueError:
            return path.name

    async def rebuild(
        self,
        interaction: discord.Interaction,
        intro: str,
        intro_done: str = "Reindexed",
        failed_intro: str = "Reindex failed",
    ) -> None:
        """Run the engine's rebuild in a thread, editing one message with its progress."""
        latest: list[BuildProgress | None] = [None]
        started = time.monotonic()

        def progress(step: BuildProgress) -> None:
            latest[0] = step  # called from the build thread; the ticker below shows it

        ticker = asyncio.create_task(self._show_progress(interaction, latest, started, intro))
        try:
            report: BuildReport = await asyncio.to_thread(self.bot.engine.reindex, progress)
        except ReindexInProgressError:
            text = BUSY
        except Exception as exc:  # the old index keeps serving; say why the new one failed
            reason = describe(exc) or f"{exc} [ref {log_unexpected(exc, 'reindex')}]"
            text = failure_text(reason, failed_intro)
        else:
            log.info("reindexed: %s", report.to_json())
            text = report_text(report, intro_done)
        finally:
            ticker.cancel()
        await self._edit(interaction, text, final=True)

    async def _show_progress(
        self,
        interaction: discord.Interaction,
        latest: list[BuildProgress | None],
        started: float,
        intro: str,
    ) -> None:
        shown = ""
        while True:
            text = progress_line(latest[0], time.monotonic() - started, intro)
            if text != shown:
                await self._edit(interaction, text)
                shown = text
            await asyncio.sleep(self.bot.settings.progress_interval)

    async def _edit(self, interaction: discord.Interaction, text: str, final: bool = False) -> None:
        """Edit the progress message; after 15 minutes its token expires, so post the result."""
        try:
            await interaction.edit_original_response(content=text)
        except discord.HTTPException:
            if not final:
                log.debug("could not edit the progress message", exc_info=True)
                return
            channel = interaction.channel
            if isinstance(channel, discord.abc.Messageable):
                await channel.send(text)


_OS_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EACCES: "the bot is not allowed to write to the corpus folder",
    errno.EPERM: "the bot is not allowed to write to the corpus folder",
    errno.EROFS: "the corpus folder is on a read-only disk",
    errno.EEXIST: "something in the corpus folder is in the way (a file where a folder should be)",
    errno.ENOTDIR: "something in the corpus folder is in the way (a file where a folder should be)",
    errno.ENAMETOOLONG: "the file name is too long",
}


def os_reason(exc: OSError) -> str:
    """Why the system refused to save a file, in plain words."""
    if exc.errno in _OS_REASONS:
        return _OS_REASONS[exc.errno]
    if exc.errno is not None:
        return f"the system said: {os.strerror(exc.errno).lower()}"
    return "the file system refused it"


async def setup(bot: CitebotBot) -> None:
    await bot.add_cog(Admin(bot))
