"""The bot's settings: citebot's own settings plus what only the Discord bot needs."""

from __future__ import annotations

from dataclasses import dataclass, field

from index.settings import Settings as IndexSettings
from index.settings import (
    SettingsError,
    ids,
    optional_id,
    seconds,
    setting,
    text_or_none,
)

__all__ = ["Settings", "SettingsError"]


@dataclass(frozen=True, repr=False)
class Settings(IndexSettings):
    """Everything `citebot` needs; the token never appears in its repr."""

    token: str | None = field(
        default=None,
        metadata={
            "env": "DISCORD_TOKEN",
            "convert": text_or_none,
            "expected": "the bot's token",
            "secret": True,
        },
    )
    question_channels: frozenset[int] = setting(
        "CITEBOT_QUESTION_CHANNELS", ids, "channel ids (numbers)", frozenset()
    )
    admin_role: str | None = setting(
        "CITEBOT_ADMIN_ROLE", text_or_none, "a role id or name", None
    )  # a role id or a role name
    cooldown_seconds: float = setting(
        "CITEBOT_COOLDOWN_SECONDS", seconds, "a number of seconds", 5.0
    )
    # Sync slash commands to this guild only (instant), else globally.
    guild_id: int | None = setting("CITEBOT_GUILD_ID", optional_id, "a server id (a number)", None)
    progress_interval: float = setting(
        "CITEBOT_PROGRESS_INTERVAL", seconds, "a number of seconds", 2.0
    )
