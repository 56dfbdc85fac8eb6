"""The gateway websocket: HELLO, IDENTIFY, READY, heartbeats, dispatches, RECONNECT and RESUME."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tests.fake_discord.models import Message

if TYPE_CHECKING:
    from tests.fake_discord.server import FakeDiscord

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT = 0, 1, 2, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11
HEARTBEAT_INTERVAL_MS = 41250

GUILD_MEMBERS = 1 << 1
GUILD_MESSAGES = 1 << 9
GUILD_PRESENCES = 1 << 8
MESSAGE_CONTENT = 1 << 15
PRIVILEGED = {
    "members": GUILD_MEMBERS,
    "presences": GUILD_PRESENCES,
    "message_content": MESSAGE_CONTENT,
}
MESSAGE_EVENTS = {"MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"}

CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_DISALLOWED_INTENTS = 4014


@dataclass
class Frame:
    """One gateway payload as seen on the wire, sent or received by the fake."""

    direction: str  # "sent" or "received"
    op: int
    event: str | None
    seq: int | None
    data: Any
    path: str


@dataclass
class Session:
    """A gateway session: survives dropped connections until the client closes it cleanly."""

    id: str
    intents: int
    seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    connection: Connection | None = None
    ended: bool = False


@dataclass
class Connection:
    ws: web.WebSocketResponse
    path: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    session: Session | None = None


class Gateway:
    """Serves the websocket that discord.py connects to, and pushes events to its sessions."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.sessions: dict[str, Session] = {}
        self.connections: list[Connection] = []

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """One websocket connection, from HELLO to close."""
        ws = web.WebSocketResponse(autoclose=True, max_msg_size=0)
        await ws.prepare(request)
        conn = Connection(ws, request.path)
        self.connections.append(conn)
        try:
            await self._send(
                conn, {"op": HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}}
            )
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._received(conn, json.loads(msg.data))
        finally:
            self.connections.remove(conn)
            session = conn.session
            if session is not None and session.connection is conn:
                session.connection = None
                if ws.close_code in (1000, 1001):
                    session.ended = True
            self.fake._notify()
        return ws

    async def _received(self, conn: Connection, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d") or {}
        self._log("received", conn, op, None, None, data)
        if op == HEARTBEAT:
            await self._send(conn, {"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(conn, data)
        elif op == RESUME:
            await self._resume(conn, data)
        elif op == REQUEST_MEMBERS and conn.session is not None:
            guild = self.fake.world.guilds[int(data["guild_id"])]
            chunk = {
                "guild_id": str(guild.id),
                "members": [m.payload() for m in guild.members.values()],
                "chunk_index": 0,
                "chunk_count": 1,
                "nonce": data.get("nonce"),
            }
            await self._dispatch_to(conn.session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        if data.get("token") != self.fake.token:
            await conn.ws.close(code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        allowed = 0
        for name in self.fake.privileged_intents:
            allowed |= PRIVILEGED[name]
        denied = intents & (GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT) & ~allowed
        if denied:
            await conn.ws.close(code=CLOSE_DISALLOWED_INTENTS, message=b"Disallowed intent(s).")
            return
        session = Session(secrets.token_hex(16), intents)
        self.sessions[session.id] = session
        conn.session = session
        session.connection = conn
        world = self.fake.world
        ready = {
            "v": 10,
            "user": world.bot.payload() | {"verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g), "unavailable": True} for g in world.guilds],
            "session_id": session.id,
            "resume_gateway_url": f"{self.fake.ws_url}/gw/resume",
            "application": {"id": str(world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "shard": [0, 1],
        }
        await self._dispatch_to(session, "READY", ready)
        for guild in world.guilds.values():
            await self._dispatch_to(session, "GUILD_CREATE", guild.payload())

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        session = self.sessions.get(data.get("session_id", ""))
        if session is None or session.ended or data.get("token") != self.fake.token:
            await self._send(conn, {"op": INVALID_SESSION, "d": False})
            return
        last_seen = int(data.get("seq") or 0)
        async with conn.lock:
            conn.session = session
            session.connection = conn
            for frame in [f for f in session.sent if f["s"] > last_seen]:
                await self._write(conn, frame)
            session.seq += 1
            resumed = {"op": DISPATCH, "t": "RESUMED", "s": session.seq, "d": {}}
            session.sent.append(resumed)
            await self._write(conn, resumed)

    async def dispatch(
        self, event: str, data: dict[str, Any], view: Callable[[Session], Any] | None = None
    ) -> None:
        """Send an event to every live session; `view` adapts it per session (or drops it)."""
        for session in list(self.sessions.values()):
            if session.ended:
                continue
            if event in MESSAGE_EVENTS and not session.intents & GUILD_MESSAGES:
                continue
            await self._dispatch_to(session, event, view(session) if view else data)

    async def _dispatch_to(self, session: Session, event: str, data: Any) -> None:
        session.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.sent.append(frame)
        conn = session.connection
        if conn is not None:
            async with conn.lock:
                if session.connection is conn:
                    await self._write(conn, frame)

    async def _send(self, conn: Connection, payload: dict[str, Any]) -> None:
        async with conn.lock:
            await self._write(conn, payload)

    async def _write(self, conn: Connection, payload: dict[str, Any]) -> None:
        if conn.ws.closed:
            return
        try:
            await conn.ws.send_str(json.dumps(payload))
        except ConnectionError:
            return
        self._log("sent", conn, payload["op"], payload.get("t"), payload.get("s"), payload.get("d"))

    def _log(
        self, direction: str, conn: Connection, op: Any, event: Any, seq: Any, data: Any
    ) -> None:
        self.fake.gateway_log.append(Frame(direction, op, event, seq, data, conn.path))
        self.fake._notify()

    def live_connections(self) -> list[Connection]:
        return [c for c in self.connections if c.session is not None and not c.ws.closed]

    async def drop(self, code: int = 4000) -> None:
        """Close every identified connection, as a network fault would; sessions stay resumable."""
        for conn in self.live_connections():
            if conn.session is not None:
                conn.session.connection = None
            await conn.ws.close(code=code)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT, which makes the client reconnect and RESUME."""
        for conn in self.live_connections():
            await self._send(conn, {"op": RECONNECT, "d": None})

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; when not resumable, the client identifies anew."""
        for conn in self.live_connections():
            if not resumable and conn.session is not None:
                conn.session.ended = True
            await self._send(conn, {"op": INVALID_SESSION, "d": resumable})

    async def close(self) -> None:
        for conn in list(self.connections):
            await conn.ws.close(code=1001)


def as_seen(session: Session, message: Message, payload: dict[str, Any], bot_id: int) -> dict:
    """Without the message-content intent, Discord blanks messages not meant for the bot."""
    if session.intents & MESSAGE_CONTENT or message.author.id == bot_id:
        return payload
    if any(u.id == bot_id for u in message.mentions):
        return payload
    return payload | {"content": "", "embeds": [], "attachments": [], "components": []}
