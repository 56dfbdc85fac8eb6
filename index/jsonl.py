"""`.jsonl` articles: one JSON object per line, each bad line its own failure, the rest kept.

The file is read as a stream of lines, never whole; a line's nesting is measured before it
is parsed, a number too long for Python, bad UTF-8 or a lone surrogate fails that line alone.
"""

from __future__ import annotations

import codecs
import json
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from index.corpus_files import CHUNK, UnreadableArticleError, decode_text, one_line
from index.frontmatter import FIELD_LIMITS, has_surrogate
from index.metadata import make_article
from index.normalize import normalize_text
from index.types import Article, Failure

# Lists and objects inside one .jsonl record (an article record is a flat object).
MAX_JSON_DEPTH = 32


# Longest article id taken from a .jsonl record's "id".
MAX_ID_CHARS = 200


def json_depth(line: bytes) -> int:
    """How deeply lists and objects nest in a JSON text, counted without parsing it.

    Brackets inside strings do not count: a quote opens or closes a string unless an odd
    number of backslashes precede it. Vectorised, so a line of megabytes costs milliseconds.
    """
    data = np.frombuffer(line, dtype=np.uint8)
    if not data.size:
        return 0
    positions = np.arange(data.size)
    backslash = data == ord("\\")
    # For each byte, the position of the last byte before it that is not a backslash.
    last_plain = np.maximum.accumulate(np.where(backslash, -1, positions))
    before = np.concatenate(([-1], last_plain[:-1]))
    escaped = ((positions - 1 - before) % 2) == 1
    quotes = (data == ord('"')) & ~escaped
    outside = (np.cumsum(quotes) - quotes) % 2 == 0
    opens = ((data == ord("[")) | (data == ord("{"))) & outside
    closes = ((data == ord("]")) | (data == ord("}"))) & outside
    depth = np.cumsum(opens.astype(np.int64) - closes.astype(np.int64))
    return max(0, int(depth.max()))


def _record_field(record: dict[str, Any], name: str, limit: int) -> Any:
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise UnreadableArticleError(f"'{name}' must be text, not a {type(value).__name__}")
    if isinstance(value, str):
        if has_surrogate(value):
            raise UnreadableArticleError(f"'{name}' has an invalid \\u escape (a lone surrogate)")
        if len(value) > limit:
            raise UnreadableArticleError(
                f"'{name}' is {len(value):,} characters; the limit is {limit:,}"
            )
    return value


def _jsonl_record(line: bytes, rel: str, lineno: int, max_bytes: int) -> Article:
    """One .jsonl line as an article; UnreadableArticleError gives the reason alone."""
    depth = json_depth(line)
    if depth > MAX_JSON_DEPTH:
        raise UnreadableArticleError(f"nested {depth:,} levels deep; the limit is {MAX_JSON_DEPTH}")
    try:
        text_line = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableArticleError(
            f"not valid UTF-8 (byte 0x{line[exc.start]:02x} at offset {exc.start} of the line)"
        ) from exc
    try:
        record = json.loads(text_line)
    except json.JSONDecodeError as exc:
        raise UnreadableArticleError(f"not valid JSON ({exc.msg})") from exc
    except ValueError as exc:  # an integer longer than Python converts
        raise UnreadableArticleError("not valid JSON (a number is too long)") from exc
    except RecursionError as exc:  # cannot happen under the depth limit; a last guard
        raise UnreadableArticleError("not valid JSON (nested too deeply)") from exc
    if not isinstance(record, dict):
        raise UnreadableArticleError("a line must be a JSON object")
    body = record.get("text")
    if not isinstance(body, str) or not body.strip():
        raise UnreadableArticleError("missing or empty 'text'")
    if has_surrogate(body):
        raise UnreadableArticleError("'text' has an invalid \\u escape (a lone surrogate)")
    if len(body.encode("utf-8")) > max_bytes:
        raise UnreadableArticleError(f"article text exceeds {max_bytes:,} bytes")
    fields = {name: _record_field(record, name, limit) for name, limit in FIELD_LIMITS.items()}
    key = _record_field(record, "id", MAX_ID_CHARS)
    local_id = str(key).strip() if key is not None and str(key).strip() else f"line-{lineno}"
    if has_surrogate(local_id) or any(unicodedata.category(c) == "Cc" for c in local_id):
        raise UnreadableArticleError("'id' has control characters")
    text = normalize_text(body)
    if not text:
        raise UnreadableArticleError("missing or empty 'text'")
    return make_article(f"{rel}#{local_id}", rel, text, fields["title"], fields)


def _lines(read: Callable[[int], bytes], max_line: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line without its end) of a byte stream; None for a line over max_line."""
    buffer = b""
    lineno = 0
    skipping = False  # inside a line already reported as too long
    while chunk := read(CHUNK):
        buffer += chunk
        start = 0
        while (cut := buffer.find(b"\n", start)) >= 0:
            line, start = buffer[start:cut], cut + 1
            lineno += 1
            if skipping:
                skipping = False
                continue
            yield lineno, (None if len(line) > max_line else line.removesuffix(b"\r"))
        buffer = buffer[start:]
        if len(buffer) > max_line:
            if not skipping:
                yield lineno + 1, None
            skipping, buffer = True, b""
    if buffer and not skipping:
        yield lineno + 1, buffer.removesuffix(b"\r")


def read_jsonl(
    read: Callable[[int], bytes], rel: str, max_bytes: int
) -> tuple[list[Article], list[Failure]]:
    """Every good record of a .jsonl stream, and one Failure per bad record (file:line)."""
    first = read(CHUNK)
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        rest = first + b"".join(iter(lambda: read(CHUNK), b""))
        text = decode_text(rest, rel)
        encoded = text.encode("utf-8")
        return read_jsonl(byte_reader(encoded), rel, max_bytes)
    if b"\x00" in first[:8192]:
        raise UnreadableArticleError(f"{rel}: binary file (contains NUL bytes), not text")
    first = first.removeprefix(codecs.BOM_UTF8)
    pending = [first]

    def replay(n: int) -> bytes:
        return pending.pop() if pending else read(n)

    # JSON escapes (\u00e9 for é) can make a line several times longer than its text.
    max_line = 4 * max_bytes + 64 * 1024
    articles: list[Article] = []
    failures: list[Failure] = []
    seen: set[str] = set()
    for lineno, line in _lines(replay, max_line):
        where = f"{rel}:{lineno}"
        if line is None:
            failures.append(Failure(where, f"line is longer than {max_line:,} bytes"))
            continue
        if not line.strip():
            continue
        try:
            article = _jsonl_record(line, rel, lineno, max_bytes)
        except UnreadableArticleError as exc:
            failures.append(Failure(where, one_line(str(exc))))
            continue
        if article.id in seen:
            failures.append(Failure(where, f"duplicate id {article.id!r}"))
            continue
        seen.add(article.id)
        articles.append(article)
    if not articles and not failures:
        raise UnreadableArticleError(f"{rel}: empty file")
    return articles, failures


def byte_reader(data: bytes) -> Callable[[int], bytes]:
    """read(n) over bytes in memory, as read_jsonl takes a file."""
    at = 0

    def read(n: int) -> bytes:
        nonlocal at
        chunk = data[at : at + n]
        at += len(chunk)
        return chunk

    return read
