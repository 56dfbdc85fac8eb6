"""The fake's world: users, guilds, roles, channels, members, messages, and their JSON payloads."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fake_discord.mentions import Pings

DISCORD_EPOCH_MS = 1420070400000

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADD_REACTIONS = 1 << 6
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
MANAGE_MESSAGES = 1 << 13
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_APPLICATION_COMMANDS = 1 << 31
ALL_PERMISSIONS = (1 << 51) - 1
MEMBER_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_APPLICATION_COMMANDS
)

# Message flags.
HAS_THREAD = 1 << 5
EPHEMERAL = 1 << 6
LOADING = 1 << 7

# Channel and message types.
TEXT_CHANNEL, DM_CHANNEL, NEWS_CHANNEL = 0, 1, 5
NEWS_THREAD, PUBLIC_THREAD, PRIVATE_THREAD = 10, 11, 12
THREAD_TYPES = {NEWS_THREAD, PUBLIC_THREAD, PRIVATE_THREAD}
DEFAULT_MESSAGE, THREAD_CREATED, REPLY, THREAD_STARTER = 0, 18, 19, 21


class Snowflakes:
    """Unique, increasing snowflake ids whose timestamps are now (discord.py reads them)."""

    def __init__(self) -> None:
        self._last = 0
        self._counter = itertools.count()

    def next(self) -> int:
        stamp = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(self._last + 1, stamp | (next(self._counter) & 0xFFF))
        return self._last


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class User:
    id: int
    name: str
    bot: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass
class Role:
    id: int
    name: str
    permissions: int
    position: int = 0
    mentionable: bool = False
    bot_id: int | None = None  # set on a bot's managed role, the one "@citebot" completes to

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.bot_id is not None,
            "mentionable": self.mentionable,
            "flags": 0,
            **({"tags": {"bot_id": str(self.bot_id)}} if self.bot_id is not None else {}),
        }


@dataclass
class Channel:
    """A guild text channel, a thread (`type` 10-12) with its `parent_id` and `owner_id`, or a
    DM (`type` 1, no guild) with the bot, `member_ids` holding the other user."""

    id: int
    name: str
    guild_id: int | None
    type: int = TEXT_CHANNEL
    position: int = 0
    parent_id: int | None = None
    owner_id: int | None = None
    member_ids: list[int] = field(default_factory=list)
    archived: bool = False
    auto_archive_duration: int = 4320
    created_at: str = field(default_factory=iso_now)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    def payload(self) -> dict[str, Any]:
        if self.is_thread:
            return self._thread_payload()
        if self.type == DM_CHANNEL:
            return {"id": str(self.id), "type": DM_CHANNEL, "last_message_id": None}
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "topic": None,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }

    def _thread_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "parent_id": str(self.parent_id),
            "owner_id": str(self.owner_id),
            "name": self.name,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "total_message_sent": 0,
            "member_count": min(len(self.member_ids), 50),
            "flags": 0,
            "thread_metadata": {
                "archived": self.archived,
                "auto_archive_duration": self.auto_archive_duration,
                "archive_timestamp": self.created_at,
                "locked": False,
                "create_timestamp": self.created_at,
            },
        }

    def member_payload(self, user_id: int) -> dict[str, Any]:
        """A thread member object, as THREAD_CREATE carries it for the receiving user."""
        joined = iso_now()
        return {"id": str(self.id), "user_id": str(user_id), "join_timestamp": joined, "flags": 0}


@dataclass
class Member:
    user: User
    guild_id: int
    role_ids: list[int]
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return self.user.mention

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.role_ids],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    threads: dict[int, Channel] = field(default_factory=dict)

    def permissions_of(self, member: Member) -> int:
        """Guild-level permissions: @everyone plus the member's roles; admins and owner get all."""
        if member.id == self.owner_id:
            return ALL_PERMISSIONS
        bits = self.roles[self.id].permissions if self.id in self.roles else 0
        for role_id in member.role_ids:
            bits |= self.roles[role_id].permissions
        return ALL_PERMISSIONS if bits & ADMINISTRATOR else bits

    def payload(self) -> dict[str, Any]:
        """The GUILD_CREATE payload; `member_count` matches the list so no chunking is needed."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": iso_now(),
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "members": [m.payload() for m in self.members.values()],
            "channels": [c.payload() for c in self.channels.values()],
            "threads": [t.payload() for t in self.threads.values() if not t.archived],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


@dataclass
class Attachment:
    """A file on the fake's CDN: `url` downloads `data` from the fake itself."""

    id: int
    filename: str
    data: bytes
    content_type: str | None = None
    url: str = ""
    ephemeral: bool = False

    @property
    def size(self) -> int:
        return len(self.data)

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
        }
        if self.content_type is not None:
            data["content_type"] = self.content_type
        if self.ephemeral:
            data["ephemeral"] = True
        return data


@dataclass
class Message:
    """A message as stored by the fake, with edits applied; read it as a user would see it."""

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    mentions: list[User] = field(default_factory=list)
    mention_role_ids: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    allowed_mentions: dict[str, Any] | None = None
    reference_id: int | None = None
    interaction_id: int | None = None
    webhook_id: int | None = None
    tts: bool = False
    created_at: str = field(default_factory=iso_now)
    edited_at: str | None = None
    deleted: bool = False
    reactions: list[str] = field(default_factory=list)
    pings: Pings = field(default_factory=Pings)
    versions: list[str] = field(default_factory=list)
    type: int | None = None  # None: a reply (19) if it references a message, else default (0)
    thread: Channel | None = None  # the thread started from this message
    reference_channel_id: int | None = None  # a THREAD_CREATED notice points at its thread

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while a deferred response still shows "thinking..."."""
        return bool(self.flags & LOADING)

    @property
    def edited(self) -> bool:
        return self.edited_at is not None

    @property
    def kind(self) -> int:
        """The message type Discord reports."""
        if self.type is not None:
            return self.type
        return REPLY if self.reference_id else DEFAULT_MESSAGE

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Every button in the message's components, in display order."""
        return [c for c in walk_components(self.components) if c.get("type") == 2]

    @property
    def text(self) -> str:
        """Content plus embed titles, descriptions and fields: all the text a reader sees."""
        parts = [self.content] if self.content else []
        for embed in self.embeds:
            for key in ("title", "description"):
                if embed.get(key):
                    parts.append(embed[key])
            for embed_field in embed.get("fields", []):
                parts.extend([embed_field.get("name", ""), embed_field.get("value", "")])
            if embed.get("footer", {}).get("text"):
                parts.append(embed["footer"]["text"])
        return "\n".join(parts)

    def payload(self, member: Member | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.kind,
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": self.created_at,
            "edited_timestamp": self.edited_at,
            "tts": self.tts,
            "mention_everyone": self.mention_everyone,
            "mentions": [u.payload() for u in self.mentions],
            "mention_roles": [str(r) for r in self.mention_role_ids],
            "attachments": [a.payload() for a in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "flags": self.flags,
            "reactions": [],
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if member is not None:
            data["member"] = member.payload(with_user=False)
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
            data["application_id"] = str(self.webhook_id)
        if self.reference_id is not None or self.reference_channel_id is not None:
            data["message_reference"] = {
                "type": 0,
                "channel_id": str(self.reference_channel_id or self.channel_id),
                "guild_id": str(self.guild_id) if self.guild_id else None,
            }
            if self.reference_id is not None:
                data["message_reference"]["message_id"] = str(self.reference_id)
        if self.thread is not None:
            data["thread"] = self.thread.payload()
        return data


def walk_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All components, depth first (action rows, containers, sections and their children)."""
    found: list[dict[str, Any]] = []
    for component in components:
        found.append(component)
        found.extend(walk_components(component.get("components", [])))
        if isinstance(component.get("accessory"), dict):
            found.extend(walk_components([component["accessory"]]))
    return found
