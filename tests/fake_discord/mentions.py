"""Who a message would notify, from its content and `allowed_mentions`, as Discord decides."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
EVERYONE_MENTION = re.compile(r"@(everyone|here)\b")


@dataclass(frozen=True)
class Pings:
    """Notifications a message sends; empty means nobody is pinged."""

    users: frozenset[int] = field(default_factory=frozenset)
    roles: frozenset[int] = field(default_factory=frozenset)
    everyone: bool = False
    replied_user: bool = False

    def __bool__(self) -> bool:
        return bool(self.users or self.roles or self.everyone or self.replied_user)


def parse_mentions(content: str) -> tuple[list[int], list[int], bool]:
    """User ids, role ids and whether @everyone/@here appear in the content, in order."""
    users = list(dict.fromkeys(int(m) for m in USER_MENTION.findall(content)))
    roles = list(dict.fromkeys(int(m) for m in ROLE_MENTION.findall(content)))
    return users, roles, bool(EVERYONE_MENTION.search(content))


def resolve_pings(
    content: str, allowed: dict[str, Any] | None, *, is_reply: bool, ephemeral: bool = False
) -> Pings:
    """Apply Discord's `allowed_mentions` rules; the worst case, ignoring the author's permissions.

    Without `allowed_mentions` every mention in the content pings and a reply pings its
    author; with it, only the `parse` kinds and listed ids ping. Ephemeral messages never ping.
    """
    if ephemeral:
        return Pings()
    users, roles, everyone = parse_mentions(content)
    if allowed is None:
        return Pings(frozenset(users), frozenset(roles), everyone, is_reply)
    parse = set(allowed.get("parse", []))
    allowed_users = {int(u) for u in allowed.get("users", [])}
    allowed_roles = {int(r) for r in allowed.get("roles", [])}
    return Pings(
        users=frozenset(u for u in users if "users" in parse or u in allowed_users),
        roles=frozenset(r for r in roles if "roles" in parse or r in allowed_roles),
        everyone=everyone and "everyone" in parse,
        replied_user=is_reply and bool(allowed.get("replied_user", False)),
    )
