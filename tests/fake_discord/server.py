"""FakeDiscord: the loopback server's lifecycle and the API tests drive it with."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from tests.fake_discord import interactions as _interactions  # noqa: F401  (registers routes)
from tests.fake_discord import rest as _rest  # noqa: F401  (registers routes)
from tests.fake_discord.errors import FakeDiscordError, InvalidInvocation
from tests.fake_discord.gateway import Gateway, Session, as_seen
from tests.fake_discord.interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    COMPONENT,
    MODAL_SUBMIT,
    Interaction,
)
from tests.fake_discord.invocations import component_data, context_menu_data, slash_data
from tests.fake_discord.models import (
    PUBLIC_THREAD,
    THREAD_CREATED,
    Attachment,
    Channel,
    Guild,
    Member,
    Message,
    User,
    walk_components,
)
from tests.fake_discord.routing import Call, Fault, json_response, matches, serve
from tests.fake_discord.state import World
from tests.fake_discord.waiting import DEFAULT_TIMEOUT, Recorder

ChannelRef = Channel | int | None


class FakeDiscord(Recorder):
    """A Discord REST API and gateway on 127.0.0.1 for the real discord.py client.

    The default world: one guild (`guild`) with text channels `channel` (#general) and
    `other_channel` (#random); roles `admin_role` (Administrator + Manage Server),
    `member_role` and the bot's own; members `admin` and `member` (plus the guild owner and
    the bot). Build extra guilds, channels and members before the bot connects.
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        interaction_deadline: float = 3.0,
        token_lifetime: float = 15 * 60.0,
        privileged_intents: Iterable[str] = ("members", "presences", "message_content"),
    ) -> None:
        super().__init__()
        self.token = token
        self.interaction_deadline = interaction_deadline
        self.token_lifetime = token_lifetime
        self.privileged_intents = set(privileged_intents)
        self.world = World()
        self.guild = self.world.add_guild()
        self.channel = next(iter(self.guild.channels.values()))
        self.other_channel = list(self.guild.channels.values())[1]
        self.member_role = self.world.role_named(self.guild, "Member")
        self.admin_role = self.world.role_named(self.guild, "Admin")
        self.bot_role = self.world.role_named(self.guild, "citebot")
        self.admin = self.add_member("alice", roles=[self.admin_role.id])
        self.member = self.add_member("bob", roles=[self.member_role.id])
        self.interactions: dict[int, Interaction] = {}
        self.gateway = Gateway(self)
        self._faults: list[Fault] = []
        self._time_offset = 0.0
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.downloads: list[Attachment] = []

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        """Listen on an ephemeral 127.0.0.1 port."""
        app = web.Application()
        app.router.add_get("/gw", self.gateway.handle)
        app.router.add_get("/gw/resume", self.gateway.handle)
        app.router.add_get(
            "/attachments/{channel_id}/{attachment_id}/{filename:.*}", self._serve_attachment
        )
        app.router.add_route("*", "/{tail:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.world.cdn_base = f"http://127.0.0.1:{self.port}"
        return self

    async def close(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def api_base(self) -> str:
        """What `discord.http.Route.BASE` must be set to."""
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def gateway_url(self) -> str:
        """What `DiscordWebSocket.DEFAULT_GATEWAY` must be set to."""
        return f"{self.ws_url}/gw"

    # -- the world ---------------------------------------------------------------------------

    @property
    def bot_user(self) -> User:
        return self.world.bot

    @property
    def application_id(self) -> int:
        return self.world.application_id

    def add_guild(self, name: str) -> Guild:
        """Another guild (with the default roles and channels and the bot in it)."""
        return self.world.add_guild(name)

    def add_channel(self, name: str, *, guild: Guild | None = None) -> Channel:
        return self.world.add_channel(guild or self.guild, name)

    def add_member(
        self, name: str, *, roles: Iterable[int] = (), guild: Guild | None = None
    ) -> Member:
        """A new user who is a member of the guild with these role ids."""
        user = self.world.add_user(name)
        return self.world.add_member(guild or self.guild, user, list(roles))

    def attachment(
        self, filename: str, data: bytes, *, content_type: str | None = None
    ) -> Attachment:
        """A file a member picks for an attachment option; its `url` serves `data`.

        The filename is kept as given (path tricks included), as a hostile upload would send it.
        """
        return self.world.add_attachment(filename, data, content_type, ephemeral=True)

    async def create_thread(
        self,
        start: Message | ChannelRef,
        name: str,
        *,
        owner: Member | None = None,
    ) -> Channel:
        """A member starts a public thread from a message (same id) or in a channel.

        As on Discord, the starter message is updated; a thread without one leaves a
        THREAD_CREATED notice (content: the thread's name) in the parent channel.
        """
        owner = owner or self.member
        if isinstance(start, Message):
            starter: Message | None = start
            parent = self.world.channel(start.channel_id)
        else:
            starter, parent = None, self._channel(start)
        thread = self.world.add_thread(parent, name, owner.user, starter=starter)
        await self._thread_created(thread, starter, owner.user)
        return thread

    def threads(self, channel: ChannelRef = None) -> list[Channel]:
        """The threads of a channel, oldest first."""
        parent = self._channel(channel)
        guild = self.world.guilds[parent.guild_id]
        return [t for t in guild.threads.values() if t.parent_id == parent.id]

    def commands(self, guild: Guild | int | None = None) -> list[dict[str, Any]]:
        """The commands synced globally (None) or to a guild, as Discord stores them."""
        guild_id = guild.id if isinstance(guild, Guild) else guild
        return list(self.world.commands.get(guild_id, []))

    # -- read-back ---------------------------------------------------------------------------

    def messages(self, channel: ChannelRef = None) -> list[Message]:
        """A channel's messages in order (including ephemeral ones), edits applied."""
        return self.world.channel_messages(self._channel(channel).id)

    def bot_messages(self, channel: ChannelRef = None) -> list[Message]:
        return [m for m in self.messages(channel) if m.author.id == self.world.bot.id]

    def message(self, message_id: int) -> Message:
        return self.world.messages[int(message_id)]

    @property
    def sessions(self) -> list[Session]:
        return list(self.gateway.sessions.values())

    async def wait_for_message(
        self,
        channel: ChannelRef = None,
        predicate: Callable[[Message], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Message:
        """The next visible message the bot posted in the channel, not returned before."""
        target = self._channel(channel)
        return await self._wait_for_new_message(
            lambda: [m for m in self.bot_messages(target) if not m.loading],
            predicate,
            timeout,
            f"a bot message in #{target.name}",
        )

    # -- driving the bot ---------------------------------------------------------------------

    async def inject_message(
        self,
        channel: ChannelRef,
        content: str,
        *,
        author: Member | None = None,
        mentions_bot: bool = False,
        reply_to: Message | int | None = None,
        embeds: list[dict[str, Any]] | None = None,
    ) -> Message:
        """A user posts a message (prefixed with the bot's mention when `mentions_bot`)."""
        target = self._channel(channel)
        author = author or self.member
        if mentions_bot:
            content = f"{self.world.bot.mention} {content}"
        body: dict[str, Any] = {"content": content, "embeds": embeds or []}
        if reply_to is not None:
            reference = reply_to.id if isinstance(reply_to, Message) else int(reply_to)
            body["message_reference"] = {"message_id": reference}
        message = self.world.create_message(target.id, author.user, body)
        await self._message_event("MESSAGE_CREATE", message)
        return message

    def dm_channel(self, member: Member | None = None) -> Channel:
        """A member's direct-message channel with the bot (inject into it like a channel)."""
        return self.world.add_dm((member or self.member).user)

    async def delete_message(self, message: Message) -> None:
        """Its author (or a moderator) deletes a message; the bot gets MESSAGE_DELETE."""
        message.deleted = True
        await self._message_event("MESSAGE_DELETE", message)

    async def invoke_slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        member: Member | None = None,
        channel: ChannelRef = None,
        check_permissions: bool = True,
    ) -> Interaction:
        """A member runs a synced slash command; `name` may include subcommands.

        Raises CommandNotSynced, CommandNotPermitted (the command's default member
        permissions; `check_permissions=False` acts as a server-side override) or
        InvalidInvocation, as Discord's client would not offer those.
        """
        target = self._channel(channel)
        member = member or self.member
        guild = self.world.guilds[target.guild_id]
        data = slash_data(
            self.world, guild, name, options or {}, member, check_permissions=check_permissions
        )
        return await self._interact(APPLICATION_COMMAND, target, member, data)

    async def autocomplete(
        self,
        name: str,
        options: dict[str, Any],
        focused: str,
        *,
        member: Member | None = None,
        channel: ChannelRef = None,
    ) -> Interaction:
        """A member types into option `focused`; the reply is `autocomplete_choices`."""
        target = self._channel(channel)
        member = member or self.member
        guild = self.world.guilds[target.guild_id]
        data = slash_data(self.world, guild, name, options, member, focused=focused)
        return await self._interact(AUTOCOMPLETE, target, member, data)

    async def invoke_context_menu(
        self,
        name: str,
        target: Message | Member | User,
        *,
        member: Member | None = None,
        channel: ChannelRef = None,
        check_permissions: bool = True,
    ) -> Interaction:
        """A member runs a message (target is a Message) or user context-menu command."""
        where = self._channel(
            channel or (target.channel_id if isinstance(target, Message) else None)
        )
        member = member or self.member
        guild = self.world.guilds[where.guild_id]
        data = context_menu_data(
            self.world, guild, name, target, member, check_permissions=check_permissions
        )
        return await self._interact(APPLICATION_COMMAND, where, member, data)

    async def click_button(
        self, message: Message | int, custom_id: str, *, member: Member | None = None
    ) -> Interaction:
        """A member clicks a button of a message the bot sent."""
        return await self._component(message, custom_id, None, member)

    async def choose(
        self,
        message: Message | int,
        custom_id: str,
        values: list[str],
        *,
        member: Member | None = None,
    ) -> Interaction:
        """A member picks values in a select menu of a message."""
        return await self._component(message, custom_id, values, member)

    async def submit_modal(
        self, interaction: Interaction, values: dict[str, str], *, member: Member | None = None
    ) -> Interaction:
        """The member fills and submits the modal the bot answered `interaction` with."""
        modal = interaction.modal
        if modal is None:
            raise InvalidInvocation(f"{interaction} was not answered with a modal")
        inputs = [c for c in walk_components(modal.get("components", [])) if c.get("type") == 4]
        known = {c["custom_id"] for c in inputs}
        if set(values) - known:
            raise InvalidInvocation(f"modal has inputs {sorted(known)}, not {sorted(values)}")
        rows = [
            {
                "type": 1,
                "components": [
                    {
                        "type": 4,
                        "custom_id": c["custom_id"],
                        "value": values.get(c["custom_id"], ""),
                    }
                ],
            }
            for c in inputs
        ]
        data = {"custom_id": modal["custom_id"], "components": rows}
        where = self.world.channel(interaction.channel_id)
        return await self._interact(
            MODAL_SUBMIT, where, member or interaction.member, data, interaction.message_id
        )

    async def _component(
        self,
        message: Message | int,
        custom_id: str,
        values: list[str] | None,
        member: Member | None,
    ) -> Interaction:
        target = message if isinstance(message, Message) else self.world.message(message)
        if target.deleted:
            raise InvalidInvocation(f"message {target.id} was deleted")
        data = component_data(target, custom_id, values)
        where = self.world.channel(target.channel_id)
        return await self._interact(COMPONENT, where, member or self.member, data, target.id)

    async def _interact(
        self,
        kind: int,
        channel: Channel,
        member: Member,
        data: dict[str, Any],
        message_id: int | None = None,
    ) -> Interaction:
        if member.guild_id != channel.guild_id:
            raise FakeDiscordError(f"{member.user.name} is not a member of that channel's guild")
        interaction = Interaction(
            fake=self,
            id=self.world.ids.next(),
            token=f"fake-interaction-{secrets.token_hex(24)}",
            type=kind,
            guild_id=channel.guild_id,
            channel_id=channel.id,
            member=member,
            data=data,
            created_at=self.clock(),
            message_id=message_id,
        )
        self.interactions[interaction.id] = interaction
        await self.gateway.dispatch("INTERACTION_CREATE", interaction.payload())
        return interaction

    # -- time and faults ---------------------------------------------------------------------

    def clock(self) -> float:
        """The fake's monotonic clock, which `advance_time` moves forward."""
        return time.monotonic() + self._time_offset

    def advance_time(self, seconds: float) -> None:
        """Let deadlines pass instantly (the interaction deadline, 15-minute tokens)."""
        self._time_offset += seconds
        self._notify()

    def fail_next(
        self,
        route: str,
        status: int = 429,
        *,
        retry_after: float = 0.05,
        is_global: bool = False,
        count: int = 1,
        code: int = 0,
        message: str = "",
    ) -> None:
        """Answer the next `count` calls matching `"POST /channels/{id}/messages"` with an error.

        429 comes as Discord's rate limit: `retry_after` in the body and a `Via` header, so
        discord.py sleeps and retries. Other statuses get `{"message", "code"}`.
        """
        self._faults.append(
            Fault(route, status, retry_after, is_global, code, message or f"{status}", count)
        )

    def _take_fault(self, call: Call) -> Fault | None:
        for fault in self._faults:
            if matches(fault.pattern, call.method, call.path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the gateway connection; the client reconnects and RESUMEs."""
        await self.gateway.drop(code)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT; the client reconnects and RESUMEs."""
        await self.gateway.request_reconnect()

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION."""
        await self.gateway.invalidate_session(resumable=resumable)

    # -- internals used by the routes and the gateway ---------------------------------------

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        return await serve(self, request)

    async def _serve_attachment(self, request: web.Request) -> web.StreamResponse:
        """The CDN: an attachment's bytes by id (no Authorization, as on Discord's CDN)."""
        try:
            found = self.world.attachments.get(int(request.match_info["attachment_id"]))
        except ValueError:
            found = None
        if found is None:
            return json_response(404, {"message": "404: Not Found", "code": 0})
        self.downloads.append(found)
        self._notify()
        headers = {"Content-Type": found.content_type or "application/octet-stream"}
        return web.Response(body=found.data, headers=headers)

    async def _thread_created(
        self, thread: Channel, starter: Message | None, creator: User
    ) -> None:
        """THREAD_CREATE, then the starter's update or the parent's THREAD_CREATED notice."""
        data = thread.payload() | {"newly_created": True}
        if self.world.bot.id in thread.member_ids:
            data["member"] = thread.member_payload(self.world.bot.id)
        await self.gateway.dispatch("THREAD_CREATE", data)
        if starter is not None:
            await self._message_event("MESSAGE_UPDATE", starter)
        elif thread.type == PUBLIC_THREAD:
            parent_id = thread.parent_id or 0
            notice = self.world.create_message(parent_id, creator, {"content": thread.name})
            notice.type, notice.reference_channel_id = THREAD_CREATED, thread.id
            await self._message_event("MESSAGE_CREATE", notice)

    def _channel(self, channel: ChannelRef) -> Channel:
        if channel is None:
            return self.channel
        return channel if isinstance(channel, Channel) else self.world.channel(channel)

    def _message_payload(self, message: Message) -> dict[str, Any]:
        payload = message.payload(self.world.member_of(message.guild_id, message.author))
        interaction = self.interactions.get(message.interaction_id or 0)
        if interaction is not None:
            payload["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": interaction.member.user.payload(),
                "authorizing_integration_owners": {"0": str(interaction.guild_id)},
            }
            if interaction.original_id and interaction.original_id != message.id:
                payload["interaction_metadata"]["original_response_message_id"] = str(
                    interaction.original_id
                )
        return payload

    async def _message_event(self, event: str, message: Message) -> None:
        """Tell the gateway; ephemeral messages are never dispatched, as on Discord."""
        self._notify()
        if message.ephemeral:
            return
        if event == "MESSAGE_DELETE":
            data = {"id": str(message.id), "channel_id": str(message.channel_id)}
            if message.guild_id is not None:
                data["guild_id"] = str(message.guild_id)
            await self.gateway.dispatch(event, data)
            return
        payload = self._message_payload(message)
        bot_id = self.world.bot.id
        await self.gateway.dispatch(event, payload, lambda s: as_seen(s, message, payload, bot_id))
