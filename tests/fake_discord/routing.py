"""REST plumbing: route table, body parsing, call recording, injected faults, JSON replies."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from tests.fake_discord.errors import DiscordHTTPError, not_found, unauthorized
from tests.fake_discord.state import UploadedFile

if TYPE_CHECKING:
    from tests.fake_discord.server import FakeDiscord

API_PREFIX = "/api/v10"
_PARAM = re.compile(r"\{(\w+)\}")


@dataclass
class Call:
    """One REST request the client made, with the fake's answer."""

    method: str
    path: str
    route: str | None
    query: dict[str, str]
    json: Any
    files: list[UploadedFile]
    authorization: str | None
    at: float = field(default_factory=time.monotonic)
    status: int | None = None
    response: Any = None

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        """The `allowed_mentions` sent (top level, or under `data` for callbacks)."""
        body = self.json if isinstance(self.json, dict) else {}
        if "allowed_mentions" in body:
            return body["allowed_mentions"]
        data = body.get("data")
        return data.get("allowed_mentions") if isinstance(data, dict) else None

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass
class Request:
    fake: FakeDiscord
    call: Call
    params: dict[str, str]

    @property
    def body(self) -> dict[str, Any]:
        return self.call.json if isinstance(self.call.json, dict) else {}

    @property
    def files(self) -> list[UploadedFile]:
        return self.call.files


Reply = tuple[int, Any]
Handler = Callable[[Request], Awaitable[Reply]]


@dataclass
class Fault:
    """A canned error answer for the next call(s) matching a route pattern."""

    pattern: str
    status: int
    retry_after: float
    is_global: bool
    code: int
    message: str
    remaining: int = 1

    def reply(self) -> tuple[int, dict[str, Any], dict[str, str]]:
        if self.status == 429:
            body = {
                "message": "You are being rate limited.",
                "retry_after": self.retry_after,
                "global": self.is_global,
            }
            headers = {
                "Via": "1.1 google",
                "Retry-After": str(math.ceil(self.retry_after)),
                "X-RateLimit-Scope": "global" if self.is_global else "user",
            }
            if self.is_global:
                headers["X-RateLimit-Global"] = "true"
            return 429, body, headers
        return self.status, {"message": self.message, "code": self.code}, {}


def compile_path(template: str, *, named: bool = True) -> re.Pattern[str]:
    """`/channels/{channel_id}` as a regex matching one path segment per placeholder."""
    parts = _PARAM.split(template)
    regex = ""
    for index, part in enumerate(parts):
        if index % 2:
            regex += f"(?P<{part}>[^/]+)" if named else "[^/]+"
        else:
            regex += re.escape(part)
    return re.compile(regex)


def matches(pattern: str, method: str, path: str) -> bool:
    """Whether `"POST /channels/{id}/messages"` (method optional, `*` = any) matches a call."""
    want_method, _, want_path = pattern.strip().rpartition(" ")
    if want_method and want_method not in ("*", method.upper()):
        return False
    if want_path.startswith(API_PREFIX):
        want_path = want_path[len(API_PREFIX) :]
    return compile_path(want_path, named=False).fullmatch(path) is not None


class Router:
    """Routes in registration order; the first that matches wins."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, str, re.Pattern[str], Handler, bool]] = []

    def add(self, method: str, template: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append((method, template, compile_path(template), handler, auth))
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[str, dict[str, str], Handler, bool] | None:
        for route_method, template, regex, handler, auth in self.routes:
            found = regex.fullmatch(path)
            if route_method == method and found:
                return template, found.groupdict(), handler, auth
        return None


ROUTES = Router()


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    """A reply with Content-Type exactly `application/json`, as discord.py requires."""
    if status == 204 or body is None:
        return web.Response(status=204, headers=headers)
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


async def _read_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
    if not request.can_read_body:
        return None, []
    if request.content_type.startswith("multipart/"):
        payload: Any = None
        files: list[UploadedFile] = []
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                payload = json.loads(await part.text())
            else:
                data = await part.read()
                content_type = part.headers.get("Content-Type")
                files.append(UploadedFile(part.filename or "file", bytes(data), content_type))
        return payload, files
    text = await request.text()
    return (json.loads(text) if text else None), []


async def serve(fake: FakeDiscord, request: web.Request) -> web.Response:
    """Answer one REST call: record it, apply a pending fault, check auth, run the route."""
    if not request.path.startswith(API_PREFIX):
        return json_response(404, not_found().body())
    path = request.path[len(API_PREFIX) :]
    body, files = await _read_body(request)
    found = ROUTES.match(request.method, path)
    call = Call(
        method=request.method,
        path=path,
        route=found[0] if found else None,
        query=dict(request.query),
        json=body,
        files=files,
        authorization=request.headers.get("Authorization"),
    )
    fake.calls.append(call)
    headers: dict[str, str] = {}
    fault = fake._take_fault(call)
    if fault is not None:
        status, reply, headers = fault.reply()
    elif found is None:
        status, reply = 404, not_found().body()
    else:
        _, params, handler, auth = found
        try:
            if auth and call.authorization != f"Bot {fake.token}":
                raise unauthorized()
            status, reply = await handler(Request(fake, call, params))
        except DiscordHTTPError as error:
            status, reply = error.status, error.body()
    call.status, call.response = status, reply
    fake._notify()
    return json_response(status, reply, headers)
