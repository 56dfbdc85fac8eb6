"""Bot-token REST routes: login, application, command sync, channels, messages, typing."""

from __future__ import annotations

from tests.fake_discord.errors import (
    CANNOT_EDIT_OTHERS_MESSAGE,
    DiscordHTTPError,
    invalid_form_body,
    unknown_message,
)
from tests.fake_discord.models import PRIVATE_THREAD, PUBLIC_THREAD, Message
from tests.fake_discord.routing import ROUTES, Reply, Request
from tests.fake_discord.rules import check_message, edited_body


@ROUTES.add("GET", "/users/@me")
async def get_me(req: Request) -> Reply:
    return 200, req.fake.world.bot.payload() | {"verified": True, "mfa_enabled": False}


@ROUTES.add("GET", "/oauth2/applications/@me")
@ROUTES.add("GET", "/applications/@me")
async def get_application(req: Request) -> Reply:
    world = req.fake.world
    return 200, {
        "id": str(world.application_id),
        "name": world.bot.name,
        "description": "",
        "icon": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": world.owner.payload(),
        "verify_key": "0" * 64,
        "flags": 0,
        "bot": world.bot.payload(),
    }


@ROUTES.add("GET", "/gateway")
@ROUTES.add("GET", "/gateway/bot")
async def get_gateway(req: Request) -> Reply:
    return 200, {
        "url": f"{req.fake.ws_url}/gw",
        "shards": 1,
        "session_start_limit": {
            "total": 1000,
            "remaining": 1000,
            "reset_after": 0,
            "max_concurrency": 1,
        },
    }


def _check_application(req: Request) -> None:
    if req.params["application_id"] != str(req.fake.world.application_id):
        raise DiscordHTTPError(404, 10002, "Unknown Application")


def _guild_scope(req: Request) -> int | None:
    guild_id = req.params.get("guild_id")
    if guild_id is None:
        return None
    if int(guild_id) not in req.fake.world.guilds:
        raise DiscordHTTPError(404, 10004, "Unknown Guild")
    return int(guild_id)


@ROUTES.add("GET", "/applications/{application_id}/commands")
@ROUTES.add("GET", "/applications/{application_id}/guilds/{guild_id}/commands")
async def get_commands(req: Request) -> Reply:
    _check_application(req)
    return 200, req.fake.world.commands.get(_guild_scope(req), [])


@ROUTES.add("PUT", "/applications/{application_id}/commands")
@ROUTES.add("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
async def put_commands(req: Request) -> Reply:
    _check_application(req)
    payload = req.call.json if isinstance(req.call.json, list) else []
    return 200, req.fake.world.sync_commands(_guild_scope(req), payload)


@ROUTES.add("GET", "/channels/{channel_id}")
async def get_channel(req: Request) -> Reply:
    return 200, req.fake.world.channel(int(req.params["channel_id"])).payload()


@ROUTES.add("POST", "/channels/{channel_id}/typing")
async def typing(req: Request) -> Reply:
    req.fake.world.channel(int(req.params["channel_id"]))
    return 204, None


@ROUTES.add("POST", "/channels/{channel_id}/messages")
async def create_message(req: Request) -> Reply:
    fake = req.fake
    channel = fake.world.channel(int(req.params["channel_id"]))
    check_message(req.body, has_files=bool(req.files))
    body = _checked_reference(req, channel.id)
    message = fake.world.create_message(channel.id, fake.world.bot, body, req.files)
    await fake._message_event("MESSAGE_CREATE", message)
    return 200, fake._message_payload(message)


def _checked_reference(req: Request, channel_id: int) -> dict:
    """A reply to a message that is gone: refused (50035), or sent as a plain message when
    `fail_if_not_exists` is false, as Discord does."""
    body = req.body
    reference = body.get("message_reference") or {}
    if not reference.get("message_id"):
        return body
    found = req.fake.world.messages.get(int(reference["message_id"]))
    if found is not None and not found.deleted and found.channel_id == channel_id:
        return body
    if reference.get("fail_if_not_exists", True) is False:
        return {k: v for k, v in body.items() if k != "message_reference"}
    raise invalid_form_body(
        {
            "message_reference": {
                "_errors": [{"code": "REPLIES_UNKNOWN_MESSAGE", "message": "Unknown message"}]
            }
        }
    )


def _channel_message(req: Request) -> Message:
    world = req.fake.world
    channel = world.channel(int(req.params["channel_id"]))
    message = world.message(int(req.params["message_id"]))
    if message.channel_id != channel.id or message.ephemeral:
        raise unknown_message()
    return message


@ROUTES.add("GET", "/channels/{channel_id}/messages/{message_id}")
async def get_message(req: Request) -> Reply:
    return 200, req.fake._message_payload(_channel_message(req))


@ROUTES.add("GET", "/channels/{channel_id}/messages")
async def get_messages(req: Request) -> Reply:
    world = req.fake.world
    channel = world.channel(int(req.params["channel_id"]))
    limit = int(req.call.query.get("limit", 50))
    before = int(req.call.query.get("before", 1 << 63))
    after = int(req.call.query.get("after", 0))
    found = [
        m
        for m in reversed(world.channel_messages(channel.id))
        if not m.ephemeral and after < m.id < before
    ]
    return 200, [req.fake._message_payload(m) for m in found[:limit]]


@ROUTES.add("PATCH", "/channels/{channel_id}/messages/{message_id}")
async def edit_message(req: Request) -> Reply:
    fake = req.fake
    message = _channel_message(req)
    if message.author.id != fake.world.bot.id:
        raise DiscordHTTPError(
            403, CANNOT_EDIT_OTHERS_MESSAGE, "Cannot edit a message authored by another user"
        )
    check_message(edited_body(message, req.body), has_files=bool(req.files or message.attachments))
    fake.world.edit_message(message, req.body, req.files)
    await fake._message_event("MESSAGE_UPDATE", message)
    return 200, fake._message_payload(message)


@ROUTES.add("DELETE", "/channels/{channel_id}/messages/{message_id}")
async def delete_message(req: Request) -> Reply:
    message = _channel_message(req)
    message.deleted = True
    await req.fake._message_event("MESSAGE_DELETE", message)
    return 204, None


@ROUTES.add("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
async def add_reaction(req: Request) -> Reply:
    message = _channel_message(req)
    if req.params["emoji"] not in message.reactions:
        message.reactions.append(req.params["emoji"])
    return 204, None


@ROUTES.add("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
async def remove_reaction(req: Request) -> Reply:
    message = _channel_message(req)
    if req.params["emoji"] in message.reactions:
        message.reactions.remove(req.params["emoji"])
    return 204, None


@ROUTES.add("POST", "/channels/{channel_id}/messages/{message_id}/threads")
async def start_thread_from_message(req: Request) -> Reply:
    """The bot starts a public thread from a message; the thread takes the message's id."""
    fake = req.fake
    starter = _channel_message(req)
    parent = fake.world.channel(starter.channel_id)
    name = str(req.body.get("name") or "")
    thread = fake.world.add_thread(
        parent, name, fake.world.bot, starter=starter, auto_archive_duration=_archive(req)
    )
    await fake._thread_created(thread, starter, fake.world.bot)
    return 201, thread.payload()


@ROUTES.add("POST", "/channels/{channel_id}/threads")
async def start_thread(req: Request) -> Reply:
    """The bot starts a thread without a message (type 11 public or 12 private)."""
    fake = req.fake
    parent = fake.world.channel(int(req.params["channel_id"]))
    kind = int(req.body.get("type") or PRIVATE_THREAD)
    if kind not in (PUBLIC_THREAD, PRIVATE_THREAD):
        raise invalid_form_body(
            {"type": {"_errors": [{"code": "BASE_TYPE_CHOICES", "message": "Invalid type"}]}}
        )
    name = str(req.body.get("name") or "")
    thread = fake.world.add_thread(
        parent, name, fake.world.bot, kind=kind, auto_archive_duration=_archive(req)
    )
    await fake._thread_created(thread, None, fake.world.bot)
    return 201, thread.payload()


def _archive(req: Request) -> int:
    """Minutes of inactivity before the thread archives (Discord's default: 3 days)."""
    return int(req.body.get("auto_archive_duration") or 4320)


@ROUTES.add("GET", "/guilds/{guild_id}")
async def get_guild(req: Request) -> Reply:
    guild_id = _guild_scope(req)
    return 200, req.fake.world.guilds[guild_id].payload()  # type: ignore[index]


@ROUTES.add("GET", "/guilds/{guild_id}/members/{user_id}")
async def get_member(req: Request) -> Reply:
    guild = req.fake.world.guilds[_guild_scope(req)]  # type: ignore[index]
    member = guild.members.get(int(req.params["user_id"]))
    if member is None:
        raise DiscordHTTPError(404, 10007, "Unknown Member")
    return 200, member.payload()


@ROUTES.add("GET", "/guilds/{guild_id}/channels")
async def get_guild_channels(req: Request) -> Reply:
    guild = req.fake.world.guilds[_guild_scope(req)]  # type: ignore[index]
    return 200, [c.payload() for c in guild.channels.values()]


@ROUTES.add("GET", "/guilds/{guild_id}/roles")
async def get_guild_roles(req: Request) -> Reply:
    guild = req.fake.world.guilds[_guild_scope(req)]  # type: ignore[index]
    return 200, [r.payload() for r in guild.roles.values()]
