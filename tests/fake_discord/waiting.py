"""What the fake recorded (REST calls, gateway frames) and waiting for what comes next."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeVar

from tests.fake_discord.gateway import Frame
from tests.fake_discord.models import Message
from tests.fake_discord.routing import Call, matches

T = TypeVar("T")
# Generous: a wait ends as soon as its event happens, so only a failing test pays for it, and
# a busy 2-core machine may take seconds to run the bot's side.
DEFAULT_TIMEOUT = 15.0
POLL_INTERVAL = 0.01


class Recorder:
    """The fake's records, a change signal, and waits that return each match only once."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.gateway_log: list[Frame] = []
        self._changed: asyncio.Event | None = None
        self._returned: set[int] = set()

    def calls_to(self, method: str, route: str) -> list[Call]:
        """Answered calls matching e.g. `("POST", "/channels/{channel_id}/messages")`."""
        pattern = f"{method} {route}"
        return [
            c for c in self.calls if c.status is not None and matches(pattern, c.method, c.path)
        ]

    async def wait_until(
        self, predicate: Callable[[], T | None], timeout: float = DEFAULT_TIMEOUT, what: str = "it"
    ) -> T:
        """Wait until `predicate()` is truthy and return its value, or raise TimeoutError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._event()
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = "\n  ".join(str(c) for c in self.calls[-10:]) or "none"
                raise TimeoutError(
                    f"timed out after {timeout}s waiting for {what}; last calls:\n  {recent}"
                )
            # Woken by the fake's own changes; the poll covers predicates on the bot's state.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(remaining, POLL_INTERVAL))

    async def wait_for_call(
        self,
        method: str,
        route: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        predicate: Callable[[Call], bool] | None = None,
    ) -> Call:
        """The next answered call matching `method route` not returned before."""

        def find() -> Call | None:
            for call in self.calls_to(method, route):
                if id(call) not in self._returned and (predicate is None or predicate(call)):
                    return call
            return None

        call = await self.wait_until(find, timeout, f"{method} {route}")
        self._returned.add(id(call))
        return call

    async def _wait_for_new_message(
        self,
        candidates: Callable[[], list[Message]],
        predicate: Callable[[Message], bool] | None,
        timeout: float,
        what: str,
    ) -> Message:
        def find() -> Message | None:
            for message in candidates():
                if id(message) not in self._returned and (predicate is None or predicate(message)):
                    return message
            return None

        message = await self.wait_until(find, timeout, what)
        self._returned.add(id(message))
        return message

    async def wait_for_sync(self, timeout: float = DEFAULT_TIMEOUT) -> Call:
        """The next command sync (bulk overwrite, global or guild)."""
        routes = (
            "PUT /applications/{application_id}/commands",
            "PUT /applications/{application_id}/guilds/{guild_id}/commands",
        )

        def find() -> Call | None:
            for call in self.calls:
                if call.status is None or id(call) in self._returned:
                    continue
                if any(matches(route, call.method, call.path) for route in routes):
                    return call
            return None

        call = await self.wait_until(find, timeout, "a command sync")
        self._returned.add(id(call))
        return call

    async def wait_for_gateway(
        self,
        *,
        op: int | None = None,
        event: str | None = None,
        direction: str = "received",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Frame:
        """The next gateway frame the fake received (or sent) with this op / event name."""

        def find() -> Frame | None:
            for frame in self.gateway_log:
                if (
                    id(frame) not in self._returned
                    and frame.direction == direction
                    and (op is None or frame.op == op)
                    and (event is None or frame.event == event)
                ):
                    return frame
            return None

        frame = await self.wait_until(find, timeout, f"gateway {direction} op={op} t={event}")
        self._returned.add(id(frame))
        return frame

    async def wait_for_resumed(self, timeout: float = DEFAULT_TIMEOUT) -> Frame:
        """The next RESUMED the fake sent after a client's RESUME."""
        return await self.wait_for_gateway(event="RESUMED", direction="sent", timeout=timeout)

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def _notify(self) -> None:
        """Wake every waiter; each re-checks its condition."""
        if self._changed is not None:
            self._changed.set()
            self._changed = None
