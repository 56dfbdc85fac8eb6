"""Interaction `data` built from synced commands, refusing what Discord's client would refuse."""

from __future__ import annotations

from typing import Any

from tests.fake_discord.errors import CommandNotPermitted, CommandNotSynced, InvalidInvocation
from tests.fake_discord.models import (
    ADMINISTRATOR,
    Attachment,
    Channel,
    Guild,
    Member,
    Message,
    Role,
    User,
    walk_components,
)
from tests.fake_discord.state import World

SUBCOMMAND, GROUP, STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = range(1, 11)
ATTACHMENT = 11
# The upload limit of a guild without boosts; Discord's client refuses bigger files.
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
SLASH, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
BUTTON = 2
SELECTS = {3, 5, 6, 7, 8}


def synced_command(world: World, guild: Guild, name: str, kind: int) -> dict[str, Any]:
    """The synced command a user could pick, or CommandNotSynced naming what was synced."""
    command = world.find_command(name, kind, guild.id)
    if command is None:
        synced = sorted(
            c["name"]
            for scope in (guild.id, None)
            for c in world.commands.get(scope, [])
            if c["type"] == kind
        )
        raise CommandNotSynced(
            f"command {name!r} (type {kind}) was never synced globally or to guild "
            f"{guild.id}; synced: {synced or 'none'}"
        )
    return command


def check_default_permissions(command: dict[str, Any], guild: Guild, member: Member) -> None:
    """Discord hides a command from members lacking its `default_member_permissions`."""
    required = command.get("default_member_permissions")
    if required is None:
        return
    permissions = guild.permissions_of(member)
    if permissions & ADMINISTRATOR:
        return
    needed = int(required)
    if needed == 0 or permissions & needed != needed:
        raise CommandNotPermitted(
            f"{member.user.name} lacks permissions {needed:#x} that {command['name']!r} requires"
        )


def slash_data(
    world: World,
    guild: Guild,
    name: str,
    options: dict[str, Any],
    member: Member,
    *,
    check_permissions: bool = True,
    focused: str | None = None,
) -> dict[str, Any]:
    """The `data` of a slash command; `name` may hold subcommands (`"index build"`).

    With `focused`, it is an autocomplete request: that option holds the partial text
    typed so far and required options may still be missing.
    """
    root, *subcommands = name.split()
    command = synced_command(world, guild, root, SLASH)
    if check_permissions:
        check_default_permissions(command, guild, member)
    top: list[dict[str, Any]] = []
    container, definitions = top, command.get("options") or []
    for sub in subcommands:
        found = _definition(definitions, sub, (SUBCOMMAND, GROUP))
        entry: dict[str, Any] = {"name": sub, "type": found["type"], "options": []}
        container.append(entry)
        container, definitions = entry["options"], found.get("options") or []
    nested = [d["name"] for d in definitions if d.get("type") in (SUBCOMMAND, GROUP)]
    if nested:
        raise InvalidInvocation(f"{name!r} needs a subcommand, one of {nested}")
    resolved: dict[str, dict[str, Any]] = {}
    container.extend(_options(guild, member, definitions, options, resolved, focused))
    data: dict[str, Any] = {"id": command["id"], "name": root, "type": SLASH, "options": top}
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    if resolved:
        data["resolved"] = resolved
    return data


def context_menu_data(
    world: World,
    guild: Guild,
    name: str,
    target: Message | Member | User,
    member: Member,
    *,
    check_permissions: bool = True,
) -> dict[str, Any]:
    """The `data` of a message or user context-menu command on `target`."""
    kind = MESSAGE_COMMAND if isinstance(target, Message) else USER_COMMAND
    command = synced_command(world, guild, name, kind)
    if check_permissions:
        check_default_permissions(command, guild, member)
    resolved: dict[str, dict[str, Any]] = {}
    if isinstance(target, Message):
        author = world.member_of(target.guild_id, target.author)
        resolved["messages"] = {str(target.id): target.payload(author)}
    else:
        _resolve_user(guild, target, resolved)
    data: dict[str, Any] = {
        "id": command["id"],
        "name": name,
        "type": kind,
        "target_id": str(target.id),
        "resolved": resolved,
    }
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    return data


def component_data(message: Message, custom_id: str, values: list[str] | None) -> dict[str, Any]:
    """The `data` of a click on a button (or a choice in a select menu) of `message`."""
    for component in walk_components(message.components):
        if component.get("custom_id") != custom_id:
            continue
        if component.get("disabled"):
            raise InvalidInvocation(f"component {custom_id!r} is disabled")
        kind = component["type"]
        if kind == BUTTON:
            if values is not None:
                raise InvalidInvocation(f"{custom_id!r} is a button: it takes no values")
            return {"custom_id": custom_id, "component_type": BUTTON}
        if kind in SELECTS:
            if values is None:
                raise InvalidInvocation(f"{custom_id!r} is a select menu: pass values")
            return {"custom_id": custom_id, "component_type": kind, "values": values}
    ids = [c["custom_id"] for c in walk_components(message.components) if "custom_id" in c]
    raise InvalidInvocation(f"message {message.id} has no component {custom_id!r}; it has {ids}")


def _definition(definitions: list[dict[str, Any]], name: str, kinds: tuple[int, ...]) -> dict:
    for definition in definitions:
        if definition["name"] == name and definition.get("type") in kinds:
            return definition
    names = [d["name"] for d in definitions]
    raise InvalidInvocation(f"no option or subcommand {name!r}; the command has {names}")


def _options(
    guild: Guild,
    invoker: Member,
    definitions: list[dict[str, Any]],
    given: dict[str, Any],
    resolved: dict[str, dict[str, Any]],
    focused: str | None = None,
) -> list[dict[str, Any]]:
    by_name = {d["name"]: d for d in definitions}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        raise InvalidInvocation(f"unknown options {unknown}; the command has {sorted(by_name)}")
    missing = [d["name"] for d in definitions if d.get("required") and d["name"] not in given]
    if missing and focused is None:
        raise InvalidInvocation(f"required options missing: {missing}")
    if focused is not None and not by_name.get(focused, {}).get("autocomplete"):
        raise InvalidInvocation(f"option {focused!r} does not autocomplete")
    found = []
    for name, value in given.items():
        option: dict[str, Any] = {"name": name, "type": by_name[name]["type"]}
        if name == focused:
            option |= {"value": str(value), "focused": True}
        else:
            option["value"] = _value(guild, invoker, by_name[name], value, resolved)
        found.append(option)
    return found


def _value(
    guild: Guild,
    invoker: Member,
    definition: dict[str, Any],
    value: Any,
    resolved: dict[str, dict[str, Any]],
) -> Any:
    """An option value as Discord sends it, checked against the option's type and limits."""
    kind, name = definition["type"], definition["name"]
    if kind == STRING:
        if not isinstance(value, str):
            raise InvalidInvocation(f"option {name!r} takes a string, got {value!r}")
        low, high = definition.get("min_length", 0), definition.get("max_length", 6000)
        if not low <= len(value) <= high:
            raise InvalidInvocation(f"option {name!r} must be {low}..{high} characters")
    elif kind in (INTEGER, NUMBER):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInvocation(f"option {name!r} takes a number, got {value!r}")
        if kind == INTEGER and not float(value).is_integer():
            raise InvalidInvocation(f"option {name!r} takes an integer, got {value!r}")
        low, high = definition.get("min_value"), definition.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise InvalidInvocation(f"option {name!r} must be within {low}..{high}")
    elif kind == BOOLEAN:
        if not isinstance(value, bool):
            raise InvalidInvocation(f"option {name!r} takes a boolean, got {value!r}")
    elif kind in (USER, CHANNEL, ROLE, MENTIONABLE):
        return _resolve(guild, invoker, kind, name, value, resolved)
    elif kind == ATTACHMENT:
        if not isinstance(value, Attachment):
            raise InvalidInvocation(
                f"option {name!r} takes a file from fake_discord.attachment(), got {value!r}"
            )
        if value.size > ATTACHMENT_SIZE_LIMIT:
            raise InvalidInvocation(
                f"option {name!r}: {value.size} bytes is over the {ATTACHMENT_SIZE_LIMIT} limit"
            )
        resolved.setdefault("attachments", {})[str(value.id)] = value.payload()
        return str(value.id)
    else:
        raise InvalidInvocation(f"option {name!r} has type {kind}, which the fake cannot send")
    choices = definition.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise InvalidInvocation(f"option {name!r} must be one of {[c['value'] for c in choices]}")
    return value


def _resolve(
    guild: Guild,
    invoker: Member,
    kind: int,
    name: str,
    value: Any,
    resolved: dict[str, dict[str, Any]],
) -> str:
    if kind in (USER, MENTIONABLE) and isinstance(value, Member | User):
        return _resolve_user(guild, value, resolved)
    if kind in (ROLE, MENTIONABLE) and isinstance(value, Role):
        resolved.setdefault("roles", {})[str(value.id)] = value.payload()
        return str(value.id)
    if kind == CHANNEL and isinstance(value, Channel):
        data = value.payload() | {"permissions": str(guild.permissions_of(invoker))}
        resolved.setdefault("channels", {})[str(value.id)] = data
        return str(value.id)
    raise InvalidInvocation(f"option {name!r} (type {kind}) cannot take {value!r}")


def _resolve_user(guild: Guild, target: Member | User, resolved: dict[str, dict[str, Any]]) -> str:
    user = target.user if isinstance(target, Member) else target
    resolved.setdefault("users", {})[str(user.id)] = user.payload()
    member = guild.members.get(user.id)
    if member is not None:
        member_data = member.payload(with_user=False)
        member_data["permissions"] = str(guild.permissions_of(member))
        resolved.setdefault("members", {})[str(user.id)] = member_data
    return str(user.id)
