"""The fake's world state: who exists, which messages are where, which commands are synced."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from tests.fake_discord.errors import (
    invalid_form_body,
    thread_already_created,
    unknown_channel,
    unknown_message,
    wrong_channel_type,
)
from tests.fake_discord.mentions import parse_mentions, resolve_pings
from tests.fake_discord.models import (
    ADMINISTRATOR,
    DM_CHANNEL,
    EPHEMERAL,
    HAS_THREAD,
    LOADING,
    MANAGE_GUILD,
    MEMBER_PERMISSIONS,
    NEWS_CHANNEL,
    PUBLIC_THREAD,
    TEXT_CHANNEL,
    Attachment,
    Channel,
    Guild,
    Member,
    Message,
    Role,
    Snowflakes,
    User,
    iso_now,
)

COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
# Flags a sender may set; LOADING is Discord's own.
SETTABLE_FLAGS = EPHEMERAL | (1 << 2) | (1 << 12) | (1 << 15)


@dataclass
class UploadedFile:
    filename: str
    data: bytes
    content_type: str | None = None


class World:
    """Users, guilds, channels, messages and synced commands, with the default cast built in."""

    def __init__(self) -> None:
        self.ids = Snowflakes()
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.attachments: dict[int, Attachment] = {}
        self.cdn_base = "https://cdn.discordapp.com"  # the fake's own address once it listens
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.bot = self.add_user("citebot", bot=True)
        self.application_id = self.bot.id
        self.owner = self.add_user("owner")

    def add_user(self, name: str, *, bot: bool = False) -> User:
        user = User(self.ids.next(), name, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str = "Test Guild") -> Guild:
        """A guild with @everyone, Admin, Member and bot roles, two text channels, and the bot."""
        guild = Guild(self.ids.next(), name, owner_id=self.owner.id)
        self.guilds[guild.id] = guild
        everyone = MEMBER_PERMISSIONS
        guild.roles[guild.id] = Role(guild.id, "@everyone", everyone, position=0)
        self.add_role(guild, "Member", MEMBER_PERMISSIONS, position=1)
        self.add_role(guild, "Admin", ADMINISTRATOR | MANAGE_GUILD, position=2)
        # Discord gives every bot a managed role named after it, tagged with the bot's id.
        bot_role = self.add_role(guild, "citebot", MEMBER_PERMISSIONS, position=3)
        bot_role.bot_id = self.bot.id
        self.add_channel(guild, "general")
        self.add_channel(guild, "random")
        self.add_member(guild, self.owner, [])
        self.add_member(guild, self.bot, [bot_role.id])
        return guild

    def add_role(self, guild: Guild, name: str, permissions: int, *, position: int = 1) -> Role:
        role = Role(self.ids.next(), name, permissions, position=position)
        guild.roles[role.id] = role
        return role

    def add_channel(self, guild: Guild, name: str) -> Channel:
        channel = Channel(self.ids.next(), name, guild.id, position=len(guild.channels))
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def add_dm(self, user: User) -> Channel:
        """The DM channel between a user and the bot."""
        channel = Channel(self.ids.next(), user.name, None, type=DM_CHANNEL, member_ids=[user.id])
        self.channels[channel.id] = channel
        return channel

    def add_thread(
        self,
        parent: Channel,
        name: str,
        owner: User,
        *,
        starter: Message | None = None,
        kind: int = PUBLIC_THREAD,
        auto_archive_duration: int = 4320,
    ) -> Channel:
        """A thread in a text channel; one started from a message takes that message's id."""
        if parent.type not in (TEXT_CHANNEL, NEWS_CHANNEL):
            raise wrong_channel_type()
        if not 1 <= len(name) <= 100:
            raise invalid_form_body(
                {"name": _error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")}
            )
        if starter is not None:
            if starter.channel_id != parent.id or starter.deleted or starter.ephemeral:
                raise unknown_message()
            if starter.thread is not None:
                raise thread_already_created()
        thread = Channel(
            starter.id if starter is not None else self.ids.next(),
            name,
            parent.guild_id,
            type=kind,
            parent_id=parent.id,
            owner_id=owner.id,
            member_ids=[owner.id],
            auto_archive_duration=auto_archive_duration,
        )
        self.guilds[parent.guild_id].threads[thread.id] = thread
        self.channels[thread.id] = thread
        if starter is not None:
            starter.thread = thread
            starter.flags |= HAS_THREAD
        return thread

    def add_attachment(
        self,
        filename: str,
        data: bytes,
        content_type: str | None = None,
        *,
        channel_id: int = 0,
        ephemeral: bool = False,
    ) -> Attachment:
        """A file stored on the fake's CDN, downloadable from its `url`."""
        attachment_id = self.ids.next()
        url = f"{self.cdn_base}/attachments/{channel_id}/{attachment_id}/{quote(filename, safe='')}"
        attachment = Attachment(attachment_id, filename, data, content_type, url, ephemeral)
        self.attachments[attachment.id] = attachment
        return attachment

    def add_member(self, guild: Guild, user: User, role_ids: list[int]) -> Member:
        member = Member(user, guild.id, list(role_ids))
        guild.members[user.id] = member
        return member

    def role_named(self, guild: Guild, name: str) -> Role:
        return next(r for r in guild.roles.values() if r.name == name)

    def channel(self, channel_id: int) -> Channel:
        try:
            return self.channels[int(channel_id)]
        except (KeyError, ValueError):
            raise unknown_channel() from None

    def message(self, message_id: int) -> Message:
        found = self.messages.get(int(message_id))
        if found is None or found.deleted:
            raise unknown_message()
        return found

    def member_of(self, guild_id: int | None, user: User) -> Member | None:
        if guild_id is None:
            return None
        return self.guilds[guild_id].members.get(user.id)

    def channel_messages(self, channel_id: int) -> list[Message]:
        return [m for m in self.messages.values() if m.channel_id == channel_id and not m.deleted]

    def create_message(
        self,
        channel_id: int,
        author: User,
        body: dict[str, Any],
        files: list[UploadedFile] = (),  # type: ignore[assignment]
        *,
        interaction_id: int | None = None,
        loading: bool = False,
    ) -> Message:
        """Store a new message built from a (validated) REST body."""
        channel = self.channel(channel_id)
        flags = int(body.get("flags") or 0) & SETTABLE_FLAGS
        if loading:
            flags |= LOADING
        message = Message(
            id=self.ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=author,
            flags=flags,
            allowed_mentions=body.get("allowed_mentions"),
            reference_id=_reference_id(body),
            interaction_id=interaction_id,
            webhook_id=self.application_id if interaction_id is not None else None,
            tts=bool(body.get("tts")),
        )
        self._apply(message, body, files)
        if not loading:
            self._settle_mentions(message)
        self.messages[message.id] = message
        return message

    def edit_message(
        self,
        message: Message,
        body: dict[str, Any],
        files: list[UploadedFile] = (),  # type: ignore[assignment]
    ) -> Message:
        """Apply an edit; a deferred response stops loading and takes its mentions now."""
        message.versions.append(message.content)
        self._apply(message, body, files, editing=True)
        if message.loading:
            message.flags &= ~LOADING
            self._settle_mentions(message)
        else:
            message.edited_at = iso_now()
        return message

    def _apply(
        self,
        message: Message,
        body: dict[str, Any],
        files: list[UploadedFile],
        *,
        editing: bool = False,
    ) -> None:
        if "content" in body:
            message.content = body["content"] or ""
        if "embeds" in body:
            message.embeds = list(body["embeds"] or [])
        if "components" in body:
            message.components = list(body["components"] or [])
        if editing and "flags" in body and body["flags"] is not None:
            keep = message.flags & (EPHEMERAL | LOADING)
            message.flags = keep | (int(body["flags"]) & SETTABLE_FLAGS & ~EPHEMERAL)
        if editing and "allowed_mentions" in body:
            message.allowed_mentions = body["allowed_mentions"]
        if editing and "attachments" in body:
            kept = {str(a.get("id")) for a in body["attachments"] or []}
            message.attachments = [a for a in message.attachments if str(a.id) in kept]
        for upload in files:
            message.attachments.append(
                self.add_attachment(
                    upload.filename, upload.data, upload.content_type, channel_id=message.channel_id
                )
            )

    def _settle_mentions(self, message: Message) -> None:
        message.pings = resolve_pings(
            message.content,
            message.allowed_mentions,
            is_reply=message.reference_id is not None,
            ephemeral=message.ephemeral,
        )
        user_ids, role_ids, _ = parse_mentions(message.content)
        if message.author.bot:
            user_ids = [u for u in user_ids if u in message.pings.users]
        message.mentions = [self.users[u] for u in user_ids if u in self.users]
        message.mention_role_ids = role_ids
        message.mention_everyone = message.pings.everyone

    def sync_commands(self, guild_id: int | None, payload: list[dict[str, Any]]) -> list[dict]:
        """Bulk-overwrite one scope's commands as Discord does, keeping ids of same-named ones."""
        errors: dict[str, Any] = {}
        seen: set[tuple[str, int]] = set()
        for index, command in enumerate(payload):
            problem = _command_errors(command)
            key = (command.get("name", ""), int(command.get("type", 1)))
            if key in seen:
                problem["name"] = _error(
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                )
            seen.add(key)
            if problem:
                errors[str(index)] = problem
        if errors:
            raise invalid_form_body(errors)
        previous = {(c["name"], c["type"]): c["id"] for c in self.commands.get(guild_id, [])}
        stored = []
        for command in payload:
            kind = int(command.get("type", 1))
            entry = {
                "default_member_permissions": None,
                "dm_permission": True,
                "nsfw": False,
                "options": [],
                "description": "",
                **command,
                "type": kind,
                "id": previous.get((command["name"], kind)) or str(self.ids.next()),
                "application_id": str(self.application_id),
                "version": str(self.ids.next()),
            }
            if entry["default_member_permissions"] is not None:
                entry["default_member_permissions"] = str(entry["default_member_permissions"])
            if guild_id is not None:
                entry["guild_id"] = str(guild_id)
            stored.append(entry)
        self.commands[guild_id] = stored
        return stored

    def find_command(self, name: str, kind: int, guild_id: int | None) -> dict[str, Any] | None:
        """A synced command by name: the guild's own first, then the global ones."""
        scopes = [guild_id, None] if guild_id is not None else [None]
        for scope in scopes:
            for command in self.commands.get(scope, []):
                if command["name"] == name and command["type"] == kind:
                    return command
        return None


def _reference_id(body: dict[str, Any]) -> int | None:
    reference = body.get("message_reference") or {}
    return int(reference["message_id"]) if reference.get("message_id") else None


def _error(code: str, message: str) -> dict[str, Any]:
    return {"_errors": [{"code": code, "message": message}]}


def _command_errors(command: dict[str, Any]) -> dict[str, Any]:
    """Name, description and option-count rules of an application command."""
    errors: dict[str, Any] = {}
    kind = int(command.get("type", 1))
    name = command.get("name") or ""
    if kind == 1 and (not COMMAND_NAME.match(name) or name != name.lower()):
        errors["name"] = _error("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    elif not 1 <= len(name) <= 32:
        errors["name"] = _error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
    description = command.get("description") or ""
    if kind == 1 and not 1 <= len(description) <= 100:
        errors["description"] = _error(
            "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    if len(command.get("options") or []) > 25:
        errors["options"] = _error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    return errors
