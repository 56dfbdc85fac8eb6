"""Errors turned into words for the person who asked, at the edge; the rest gets a reference id."""

from __future__ import annotations

import logging
import secrets

import discord

from index.errors import (
    BadArticleError,
    CitebotError,
    EmptyQuestionError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotBuiltError,
    NoSearchableWordsError,
    QuestionTooLongError,
    ReindexInProgressError,
)

log = logging.getLogger("bot.errors")


def describe(exc: BaseException) -> str | None:
    """A short explanation of citebot's own errors for a member; None for unexpected ones."""
    if isinstance(exc, EmptyQuestionError):
        return "Ask me a question, for example: `@citebot who founded the University of Chicago?`"
    if isinstance(exc, QuestionTooLongError):
        return f"That question is too long ({exc.length} characters; the limit is {exc.limit})."
    if isinstance(exc, NoSearchableWordsError):
        return "That question has no words I can search for. Try asking it in plain words."
    if isinstance(exc, IndexNotBuiltError):
        return "There is no index of the articles yet. An admin can build it with `/reindex`."
    if isinstance(exc, IndexMismatchError | IndexCorruptError):
        return "The index of the articles can't be used as it is. An admin should run `/reindex`."
    if isinstance(exc, ReindexInProgressError):
        return "A reindex is already running. I'll keep answering from the current index."
    if isinstance(exc, BadArticleError):
        return f"I can't add that article: {exc}"
    if isinstance(exc, CitebotError):
        return str(exc)
    return None


def new_reference() -> str:
    """A short id that ties an apology to its traceback in the log."""
    return secrets.token_hex(4).upper()


def log_unexpected(exc: BaseException, where: str) -> str:
    """Log the traceback under a fresh reference id, and return the id."""
    reference = new_reference()
    log.error("unexpected error in %s [ref %s]", where, reference, exc_info=exc)
    return reference


def apology(reference: str) -> str:
    return (
        "Sorry, something went wrong on my side. "
        f"If it keeps happening, tell an admin the reference `{reference}`."
    )


def message_for(exc: BaseException, where: str) -> str:
    """The words for any error: its description, or an apology with a logged reference."""
    return describe(exc) or apology(log_unexpected(exc, where))


async def reply_privately(interaction: discord.Interaction, content: str) -> None:
    """An ephemeral reply whether or not the interaction was already answered."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(content, ephemeral=True)
        else:
            await interaction.response.send_message(content, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell the user about an error", exc_info=True)
