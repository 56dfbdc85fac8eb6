"""An Article from its text and raw metadata: fields cleaned, capped, dated and hashed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import PurePosixPath
from typing import Any

from index.frontmatter import FIELD_LIMITS
from index.normalize import normalize_text
from index.types import Article

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y")


def normalize_date(value: Any) -> str | None:
    """A published date as YYYY-MM-DD, or None when it cannot be understood."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > FIELD_LIMITS["published"]:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def clean_field(value: Any, limit: int) -> str | None:
    """A metadata field on one line; None when empty or longer than its limit."""
    if value is None:
        return None
    text = normalize_text(str(value)).replace("\n", " ")
    return text if text and len(text) <= limit else None


def title_from_name(path: str) -> str:
    """A title from the file name when the article has none."""
    stem = PurePosixPath(path).stem
    return re.sub(r"[_\s]+", " ", stem).strip() or stem


def content_hash(text: str, meta: dict[str, str | None]) -> str:
    """sha256 of the stored text and every metadata field that appears in answers."""
    payload = json.dumps({"text": text, **meta}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def make_article(
    article_id: str,
    path: str,
    text: str,
    title: str | None,
    fields: dict[str, Any] | None = None,
) -> Article:
    """An Article from already-normalised text and raw metadata fields."""
    fields = fields or {}
    meta = {
        "path": path,
        "title": clean_field(title, FIELD_LIMITS["title"]) or title_from_name(path),
        "url": clean_field(fields.get("url"), FIELD_LIMITS["url"]),
        "published": normalize_date(fields.get("published")),
        "author": clean_field(fields.get("author"), FIELD_LIMITS["author"]),
        "source": clean_field(fields.get("source"), FIELD_LIMITS["source"]),
    }
    return Article(id=article_id, text=text, content_hash=content_hash(text, meta), **meta)  # type: ignore[arg-type]
