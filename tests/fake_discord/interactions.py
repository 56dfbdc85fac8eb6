"""Interactions: the record of one, its callback, original response and followups (token routes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fake_discord.errors import (
    DiscordHTTPError,
    already_acknowledged,
    invalid_form_body,
    invalid_webhook_token,
    unknown_interaction,
    unknown_message,
    unknown_webhook,
)
from tests.fake_discord.invocations import ATTACHMENT_SIZE_LIMIT
from tests.fake_discord.models import EPHEMERAL, Member, Message
from tests.fake_discord.routing import ROUTES, Reply, Request
from tests.fake_discord.rules import check_message, edited_body
from tests.fake_discord.waiting import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from tests.fake_discord.server import FakeDiscord

APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9


@dataclass
class Interaction:
    """One interaction the fake sent the bot, and everything the bot answered to it."""

    fake: FakeDiscord = field(repr=False)
    id: int
    token: str
    type: int
    guild_id: int
    channel_id: int
    member: Member
    data: dict[str, Any]
    created_at: float
    message_id: int | None = None
    callback_type: int | None = None
    callback_data: dict[str, Any] | None = None
    original_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    refusals: list[DiscordHTTPError] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return self.callback_type is not None

    @property
    def deferred(self) -> bool:
        return self.callback_type in (DEFERRED_MESSAGE, DEFERRED_UPDATE)

    @property
    def original(self) -> Message | None:
        """The original response message (edits applied), None before a message callback."""
        return self.fake.world.messages.get(self.original_id) if self.original_id else None

    @property
    def ephemeral(self) -> bool:
        return self.original is not None and self.original.ephemeral

    @property
    def followups(self) -> list[Message]:
        return [self.fake.world.messages[i] for i in self.followup_ids]

    @property
    def replies(self) -> list[Message]:
        """Every message the interaction shows: the original (once not loading), then followups."""
        shown = [m for m in [self.original, *self.followups] if m is not None]
        return [m for m in shown if not m.loading and not m.deleted]

    @property
    def modal(self) -> dict[str, Any] | None:
        return self.callback_data if self.callback_type == MODAL else None

    @property
    def autocomplete_choices(self) -> list[dict[str, Any]] | None:
        if self.callback_type != AUTOCOMPLETE_RESULT:
            return None
        return list((self.callback_data or {}).get("choices", []))

    async def wait_for_callback(self, timeout: float = DEFAULT_TIMEOUT) -> Interaction:
        """Wait until the bot answered the callback (message, defer, update, modal...)."""
        await self.fake.wait_until(lambda: self.acknowledged, timeout, f"a callback to {self}")
        return self

    async def wait_for_reply(
        self, predicate: Callable[[Message], bool] | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> Message:
        """The next visible reply (original or followup) not returned before and matching."""
        return await self.fake._wait_for_new_message(
            lambda: self.replies, predicate, timeout, f"a reply to {self}"
        )

    async def wait_for_refusal(self, timeout: float = DEFAULT_TIMEOUT) -> DiscordHTTPError:
        """The first error Discord's rules gave the bot for this interaction."""
        await self.fake.wait_until(lambda: bool(self.refusals), timeout, f"a refusal on {self}")
        return self.refusals[0]

    def __str__(self) -> str:
        name = self.data.get("name") or self.data.get("custom_id")
        return f"interaction {self.id} ({name})"

    def payload(self) -> dict[str, Any]:
        """INTERACTION_CREATE data, with the fields discord.py reads."""
        world = self.fake.world
        guild = world.guilds[self.guild_id]
        channel = world.channel(self.channel_id)
        member = self.member.payload() | {"permissions": str(guild.permissions_of(self.member))}
        data: dict[str, Any] = {
            "id": str(self.id),
            "application_id": str(world.application_id),
            "type": self.type,
            "data": self.data,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "channel_id": str(channel.id),
            "channel": channel.payload(),
            "member": member,
            "token": self.token,
            "version": 1,
            "app_permissions": str(guild.permissions_of(guild.members[world.bot.id])),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if self.message_id is not None:
            message = world.messages[self.message_id]
            data["message"] = self.fake._message_payload(message)
        return data


def _refuse(interaction: Interaction, error: DiscordHTTPError) -> DiscordHTTPError:
    interaction.refusals.append(error)
    return error


def _by_id(req: Request) -> Interaction:
    found = req.fake.interactions.get(int(req.params["interaction_id"]))
    if found is None or found.token != req.params["token"]:
        raise unknown_interaction()
    return found


def _by_token(req: Request) -> Interaction:
    """The interaction a webhook token belongs to, if still valid (15 minutes) and answered."""
    fake = req.fake
    found = next((i for i in fake.interactions.values() if i.token == req.params["token"]), None)
    if found is None or req.params["application_id"] != str(fake.world.application_id):
        raise unknown_webhook()
    if fake.clock() - found.created_at > fake.token_lifetime:
        raise _refuse(found, invalid_webhook_token())
    if not found.acknowledged:
        raise _refuse(found, unknown_webhook())
    return found


@ROUTES.add("POST", "/interactions/{interaction_id}/{token}/callback", auth=False)
async def callback(req: Request) -> Reply:
    """The one initial response, refused after the deadline (10062) or when repeated (40060)."""
    fake = req.fake
    interaction = _by_id(req)
    if fake.clock() - interaction.created_at > fake.interaction_deadline:
        raise _refuse(interaction, unknown_interaction())
    if interaction.acknowledged:
        raise _refuse(interaction, already_acknowledged())
    kind = int(req.body.get("type", 0))
    data = req.body.get("data") or {}
    _check_response(interaction, kind, data, req)
    # Acknowledged before any await, so a concurrent second callback sees it.
    interaction.callback_type, interaction.callback_data = kind, data
    message = await _respond(fake, interaction, kind, data, req)
    fake._notify()
    if "with_response" not in req.call.query:
        return 204, None
    result: dict[str, Any] = {
        "interaction": {
            "id": str(interaction.id),
            "type": interaction.type,
            "response_message_loading": kind == DEFERRED_MESSAGE,
            "response_message_ephemeral": bool(message and message.ephemeral),
        },
        "resource": {"type": kind},
    }
    if message is not None:
        result["interaction"]["response_message_id"] = str(message.id)
        result["resource"]["message"] = fake._message_payload(message)
    return 200, result


def _check_response(
    interaction: Interaction, kind: int, data: dict[str, Any], req: Request
) -> None:
    """Refuse a response type the interaction cannot take, or a message over Discord's limits."""
    on_message = interaction.type in (COMPONENT, MODAL_SUBMIT) and interaction.message_id
    allowed = {
        APPLICATION_COMMAND: {MESSAGE, DEFERRED_MESSAGE, MODAL},
        COMPONENT: {MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL},
        AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
        MODAL_SUBMIT: {MESSAGE, DEFERRED_MESSAGE}
        | ({DEFERRED_UPDATE, UPDATE_MESSAGE} if on_message else set()),
    }[interaction.type]
    try:
        if kind not in allowed:
            raise invalid_form_body(
                {"type": _error("INTERACTION_RESPONSE_TYPE_INVALID", "Invalid response type")}
            )
        if kind == MESSAGE:
            check_message(data, has_files=bool(req.files), nest="data")
        elif kind == UPDATE_MESSAGE:
            message = interaction.fake.world.messages[interaction.message_id]  # type: ignore[index]
            check_message(
                edited_body(message, data), has_files=bool(req.files or message.attachments)
            )
    except DiscordHTTPError as error:
        raise _refuse(interaction, error) from None


async def _respond(
    fake: FakeDiscord, interaction: Interaction, kind: int, data: dict[str, Any], req: Request
) -> Message | None:
    """Carry out a checked response: create, defer or update the message it concerns."""
    world = fake.world
    if kind in (MESSAGE, DEFERRED_MESSAGE):
        loading = kind == DEFERRED_MESSAGE
        body = {"flags": int(data.get("flags") or 0) & EPHEMERAL} if loading else data
        message = world.create_message(
            interaction.channel_id,
            world.bot,
            body,
            [] if loading else req.files,
            interaction_id=interaction.id,
            loading=loading,
        )
        interaction.original_id = message.id
        await fake._message_event("MESSAGE_CREATE", message)
        return message
    if kind in (DEFERRED_UPDATE, UPDATE_MESSAGE):
        message = world.messages[interaction.message_id]  # type: ignore[index]
        interaction.original_id = message.id
        if kind == DEFERRED_UPDATE:
            return None
        world.edit_message(message, data, req.files)
        await fake._message_event("MESSAGE_UPDATE", message)
        return message
    return None


def _error(code: str, message: str) -> dict[str, Any]:
    return {"_errors": [{"code": code, "message": message}]}


async def _edit(
    fake: FakeDiscord, interaction: Interaction, message: Message, body: dict, req: Request
) -> None:
    try:
        check_message(edited_body(message, body), has_files=bool(req.files or message.attachments))
    except DiscordHTTPError as error:
        raise _refuse(interaction, error) from None
    fake.world.edit_message(message, body, req.files)
    await fake._message_event("MESSAGE_UPDATE", message)


@ROUTES.add("POST", "/webhooks/{application_id}/{token}", auth=False)
async def followup(req: Request) -> Reply:
    """A followup; the first one after a thinking defer fills the loading original instead.

    Once that original was deleted, a followup is a new message with its own flags.
    """
    fake = req.fake
    interaction = _by_token(req)
    try:
        check_message(req.body, has_files=bool(req.files))
    except DiscordHTTPError as error:
        raise _refuse(interaction, error) from None
    original = interaction.original
    if original is not None and original.loading and not original.deleted:
        body = {k: v for k, v in req.body.items() if k != "flags"}
        fake.world.edit_message(original, body, req.files)
        await fake._message_event("MESSAGE_UPDATE", original)
        message = original
    else:
        message = fake.world.create_message(
            interaction.channel_id,
            fake.world.bot,
            req.body,
            req.files,
            interaction_id=interaction.id,
        )
        interaction.followup_ids.append(message.id)
        await fake._message_event("MESSAGE_CREATE", message)
    fake._notify()
    if req.call.query.get("wait") not in ("1", "true", "True"):
        return 204, None
    return 200, fake._message_payload(message)


def _webhook_message(req: Request) -> tuple[Interaction, Message]:
    interaction = _by_token(req)
    wanted = req.params["message_id"]
    message_id = interaction.original_id if wanted == "@original" else int(wanted)
    if message_id is None or message_id not in [interaction.original_id, *interaction.followup_ids]:
        raise _refuse(interaction, unknown_message())
    message = req.fake.world.messages[message_id]
    if message.deleted:
        raise _refuse(interaction, unknown_message())
    return interaction, message


@ROUTES.add("GET", "/webhooks/{application_id}/{token}/messages/{message_id}", auth=False)
async def get_webhook_message(req: Request) -> Reply:
    _, message = _webhook_message(req)
    return 200, req.fake._message_payload(message)


@ROUTES.add("PATCH", "/webhooks/{application_id}/{token}/messages/{message_id}", auth=False)
async def edit_webhook_message(req: Request) -> Reply:
    interaction, message = _webhook_message(req)
    await _edit(req.fake, interaction, message, req.body, req)
    req.fake._notify()
    return 200, req.fake._message_payload(message)


@ROUTES.add("DELETE", "/webhooks/{application_id}/{token}/messages/{message_id}", auth=False)
async def delete_webhook_message(req: Request) -> Reply:
    _, message = _webhook_message(req)
    message.deleted = True
    await req.fake._message_event("MESSAGE_DELETE", message)
    return 204, None
