"""Discord's message limits, which the client never checks, refused with Discord's error shapes."""

from __future__ import annotations

from typing import Any

from tests.fake_discord.errors import empty_message, invalid_form_body
from tests.fake_discord.models import Message

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER_TEXT = 2048
MAX_AUTHOR_NAME = 256
MAX_EMBED_TOTAL = 6000
MAX_ACTION_ROWS = 5
MAX_ROW_COMPONENTS = 5
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
IS_COMPONENTS_V2 = 1 << 15


def _max_length(limit: int) -> dict[str, Any]:
    return {
        "_errors": [
            {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}
        ]
    }


def _required() -> dict[str, Any]:
    return {"_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]}


def _too_long(value: Any, limit: int) -> bool:
    return isinstance(value, str) and len(value) > limit


def embed_errors(embed: dict[str, Any]) -> dict[str, Any]:
    """Field errors of one embed, keyed as Discord keys them."""
    errors: dict[str, Any] = {}
    if _too_long(embed.get("title"), MAX_EMBED_TITLE):
        errors["title"] = _max_length(MAX_EMBED_TITLE)
    if _too_long(embed.get("description"), MAX_EMBED_DESCRIPTION):
        errors["description"] = _max_length(MAX_EMBED_DESCRIPTION)
    if _too_long((embed.get("footer") or {}).get("text"), MAX_FOOTER_TEXT):
        errors["footer"] = {"text": _max_length(MAX_FOOTER_TEXT)}
    if _too_long((embed.get("author") or {}).get("name"), MAX_AUTHOR_NAME):
        errors["author"] = {"name": _max_length(MAX_AUTHOR_NAME)}
    fields = embed.get("fields") or []
    if len(fields) > MAX_EMBED_FIELDS:
        errors["fields"] = _max_length(MAX_EMBED_FIELDS)
    else:
        field_errors: dict[str, Any] = {}
        for index, item in enumerate(fields):
            item_errors: dict[str, Any] = {}
            for key, limit in (("name", MAX_FIELD_NAME), ("value", MAX_FIELD_VALUE)):
                value = item.get(key)
                if not value:
                    item_errors[key] = _required()
                elif _too_long(value, limit):
                    item_errors[key] = _max_length(limit)
            if item_errors:
                field_errors[str(index)] = item_errors
        if field_errors:
            errors["fields"] = field_errors
    return errors


def embed_size(embed: dict[str, Any]) -> int:
    """Characters counted toward Discord's 6,000-per-message embed total."""
    size = len(embed.get("title") or "") + len(embed.get("description") or "")
    size += len((embed.get("footer") or {}).get("text") or "")
    size += len((embed.get("author") or {}).get("name") or "")
    for item in embed.get("fields") or []:
        size += len(item.get("name") or "") + len(item.get("value") or "")
    return size


def component_errors(components: list[dict[str, Any]]) -> dict[str, Any]:
    """Action-row and button limits of classic (non-v2) components."""
    if len(components) > MAX_ACTION_ROWS:
        return _max_length(MAX_ACTION_ROWS)
    errors: dict[str, Any] = {}
    for row_index, row in enumerate(components):
        children = row.get("components") or []
        if row.get("type") == 1 and len(children) > MAX_ROW_COMPONENTS:
            errors[str(row_index)] = {"components": _max_length(MAX_ROW_COMPONENTS)}
            continue
        child_errors: dict[str, Any] = {}
        for index, child in enumerate(children):
            item: dict[str, Any] = {}
            if _too_long(child.get("custom_id"), MAX_CUSTOM_ID):
                item["custom_id"] = _max_length(MAX_CUSTOM_ID)
            if _too_long(child.get("label"), MAX_BUTTON_LABEL):
                item["label"] = _max_length(MAX_BUTTON_LABEL)
            if item:
                child_errors[str(index)] = item
        if child_errors:
            errors[str(row_index)] = {"components": child_errors}
    return errors


def body_errors(body: dict[str, Any]) -> dict[str, Any]:
    """Discord's `errors` tree for a message body's fields (empty when the body is valid)."""
    errors: dict[str, Any] = {}
    if _too_long(body.get("content"), MAX_CONTENT):
        errors["content"] = _max_length(MAX_CONTENT)
    embeds = body.get("embeds") or []
    if len(embeds) > MAX_EMBEDS:
        errors["embeds"] = _max_length(MAX_EMBEDS)
    else:
        per_embed = {str(i): e for i, e in enumerate(map(embed_errors, embeds)) if e}
        if per_embed:
            errors["embeds"] = per_embed
        elif sum(map(embed_size, embeds)) > MAX_EMBED_TOTAL:
            errors["embeds"] = {
                "_errors": [
                    {
                        "code": "MAX_EMBED_SIZE_EXCEEDED",
                        "message": f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}",
                    }
                ]
            }
    components = body.get("components") or []
    flags = body.get("flags") or 0
    if components and not flags & IS_COMPONENTS_V2:
        found = component_errors(components)
        if found:
            errors["components"] = found
    if flags & IS_COMPONENTS_V2:
        for key in ("content", "embeds"):
            if body.get(key):
                errors[key] = {
                    "_errors": [
                        {
                            "code": "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                            "message": "The 'content' and 'embeds' fields cannot be used "
                            "when using MessageFlags.IS_COMPONENTS_V2",
                        }
                    ]
                }
    return errors


def is_empty(body: dict[str, Any], *, has_files: bool) -> bool:
    """True when the message would show nothing, which Discord refuses (50006)."""
    return not (
        body.get("content")
        or body.get("embeds")
        or body.get("components")
        or body.get("sticker_ids")
        or body.get("poll")
        or has_files
        or body.get("attachments")
    )


def edited_body(message: Message, edit: dict[str, Any]) -> dict[str, Any]:
    """The message's fields once `edit` is applied, for limit and emptiness checks."""
    merged: dict[str, Any] = {
        "content": message.content,
        "embeds": message.embeds,
        "components": message.components,
        "flags": message.flags,
    }
    merged.update({k: v for k, v in edit.items() if k in ("content", "embeds", "components")})
    if "attachments" in edit:
        merged["attachments"] = edit["attachments"]
    return merged


def check_message(body: dict[str, Any], *, has_files: bool, nest: str | None = None) -> None:
    """Raise Discord's error for a body over a limit (50035) or empty (50006).

    `nest` places the errors under a key, as Discord does under `data` for callbacks.
    """
    errors = body_errors(body)
    if errors:
        raise invalid_form_body({nest: errors} if nest else errors)
    if is_empty(body, has_files=has_files):
        raise empty_message()
