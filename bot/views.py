"""Buttons under the bot's messages: Sources under each answer, and the article pager."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import discord

from bot.errors import message_for, reply_privately
from bot.listings import articles_page, page_count, sources_embeds, sources_summary
from index.types import Answer, ArticleInfo

log = logging.getLogger(__name__)

SOURCES_BUTTON_ID = "citebot:sources"
FORGOTTEN = "I no longer remember the sources of that answer. Ask the question again to see them."


async def show_sources(
    interaction: discord.Interaction, answer: Answer | None, missing: str = FORGOTTEN
) -> None:
    """Send, ephemerally, the passages behind an answer with the quoted sentences in bold."""
    if answer is None:
        await interaction.response.send_message(missing, ephemeral=True)
        return
    await interaction.response.send_message(
        sources_summary(answer), embeds=sources_embeds(answer), ephemeral=True
    )


class SourcesView(discord.ui.View):
    """The persistent "Sources" button; it finds the answer by the message it sits under."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(
        label="Sources", style=discord.ButtonStyle.secondary, custom_id=SOURCES_BUTTON_ID
    )
    async def sources(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        memory = getattr(interaction.client, "memory", None)
        message = interaction.message
        answer = await asyncio.to_thread(memory.answer, message.id) if memory and message else None
        await show_sources(interaction, answer)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await reply_privately(interaction, message_for(error, "the Sources button"))


class ArticlePager(discord.ui.View):
    """Previous/next buttons over a list of articles, for the member who asked for it.

    After `timeout` seconds without a click the buttons are disabled, so a list left open
    doesn't offer buttons that no longer work; `interaction` (the `/articles` that showed the
    list) is how its message is edited then, as an ephemeral message has no other handle.
    """

    def __init__(
        self,
        articles: Sequence[ArticleInfo],
        owner_id: int,
        *,
        search: str | None = None,
        timeout: float = 600,
    ) -> None:
        super().__init__(timeout=timeout)
        self.articles = list(articles)
        self.owner_id = owner_id
        self.search = search
        self.page = 0
        self.pages = page_count(len(self.articles))
        self.interaction: discord.Interaction | None = None
        self._update_buttons()

    def content(self) -> str:
        return articles_page(self.articles, self.page, search=self.search)

    def _update_buttons(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= self.pages - 1

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = min(max(self.page + step, 0), self.pages - 1)
        self._update_buttons()
        await interaction.response.edit_message(content=self.content(), view=self)

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        if self.interaction is None:
            return
        try:
            await self.interaction.edit_original_response(view=self)
        except discord.HTTPException:  # gone, or its interaction token expired
            log.debug("could not disable an article list's buttons", exc_info=True)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            "Use `/articles` to get your own list.", ephemeral=True
        )
        return False

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, +1)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await reply_privately(interaction, message_for(error, "the article pager"))
