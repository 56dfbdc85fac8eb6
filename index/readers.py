"""Reading article files (.txt, .md, .html, .jsonl) from the corpus folder into Articles.

Only regular files whose real path lies inside the corpus folder are read. Links are followed
only when they lead to a regular file inside the corpus; folders behind links are not walked.
FIFOs, devices and sockets are never opened for reading (an open would block or never end),
every read is bounded by the size limit, and every parser (front matter, JSON, HTML) runs with
limits on size and nesting. Each file or `.jsonl` record that is refused is one Failure.
"""

from __future__ import annotations

import codecs
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from index.errors import BadArticleError, CitebotError
from index.frontmatter import FIELD_LIMITS, FrontMatterError, split_front_matter
from index.normalize import normalize_text, paragraphs_from_lines
from index.types import Article, Failure

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".jsonl"})
# One article larger than this is skipped (the same limit as uploads). Measured here: a 10 MB
# text normalises and splits in about 3 s, into ~24,000 passages and ~170,000 sentences, which
# would take some 20-30 minutes to embed on two cores; 2 MB (a long book) takes a few minutes.
MAX_ARTICLE_BYTES = 2 * 1024 * 1024
# A .jsonl file holds many articles; each of its articles still obeys the article limit.
MAX_JSONL_BYTES = 200 * 1024 * 1024
# Lists and objects inside one .jsonl record (an article record is a flat object).
MAX_JSON_DEPTH = 32
# Longest article id taken from a .jsonl record's "id".
MAX_ID_CHARS = 200
# Files kept beside articles that are not articles: their stem (case-insensitive) is one of
# these, alone or followed by "-", "_" or "." (LICENSE-CC-BY-SA-4.0.txt, README.md, ...).
NON_ARTICLE_STEMS = (
    "README",
    "LICENSE",
    "LICENCE",
    "COPYING",
    "ATTRIBUTION",
    "NOTICE",
    "AUTHORS",
    "CHANGELOG",
    "CONTRIBUTING",
)
_NON_ARTICLE = re.compile(rf"^(?:{'|'.join(NON_ARTICLE_STEMS)})(?:[-_.].*)?$", re.IGNORECASE)
_TITLE_MAX_WORDS = 20
_TITLE_MAX_CHARS = 200
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y")
_OPEN_FLAGS = (
    os.O_RDONLY
    | os.O_NONBLOCK
    | os.O_NOFOLLOW
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOCTTY", 0)
)
_CHUNK = 1 << 20
_REASON_CHARS = 300


class UnreadableArticleError(BadArticleError):
    """An article file that cannot be read: binary, empty, undecodable, malformed or too big."""


class CorpusNotFoundError(CitebotError):
    """The corpus folder does not exist or is not a folder."""


def is_article_file(relative: PurePosixPath) -> bool:
    """Whether a file under the corpus is read as an article: not hidden, not README/LICENSE."""
    if any(part.startswith(".") for part in relative.parts):
        return False
    return not _NON_ARTICLE.match(relative.name)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _not_regular(mode: int) -> str:
    return f"{_kind(mode)}, not a regular file; not read"


def _decode(data: bytes, name: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise UnreadableArticleError(f"{name}: not valid UTF-16 ({exc.reason})") from exc
    if b"\x00" in data[:8192]:
        raise UnreadableArticleError(f"{name}: binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableArticleError(
            f"{name}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from exc


def _normalize_date(value: Any) -> str | None:
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


def _clean_field(value: Any, limit: int) -> str | None:
    """A metadata field on one line; None when empty or longer than its limit."""
    if value is None:
        return None
    text = normalize_text(str(value)).replace("\n", " ")
    return text if text and len(text) <= limit else None


def _title_from_name(path: str) -> str:
    stem = PurePosixPath(path).stem
    return re.sub(r"[_\s]+", " ", stem).strip() or stem


def _looks_like_title(line: str) -> bool:
    """Short, and not ending like a sentence."""
    return (
        len(line) <= _TITLE_MAX_CHARS
        and len(line.split()) <= _TITLE_MAX_WORDS
        and not line.endswith((".", ",", ";", ":"))
    )


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


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
        "title": _clean_field(title, FIELD_LIMITS["title"]) or _title_from_name(path),
        "url": _clean_field(fields.get("url"), FIELD_LIMITS["url"]),
        "published": _normalize_date(fields.get("published")),
        "author": _clean_field(fields.get("author"), FIELD_LIMITS["author"]),
        "source": _clean_field(fields.get("source"), FIELD_LIMITS["source"]),
    }
    return Article(id=article_id, text=text, content_hash=content_hash(text, meta), **meta)  # type: ignore[arg-type]


def _read_text_article(raw: str, rel: str) -> Article:
    try:
        found = split_front_matter(raw.replace("\r\n", "\n").lstrip("\ufeff"))
    except FrontMatterError as exc:
        raise UnreadableArticleError(f"{rel}: {exc}") from exc
    fields, body = found if found is not None else ({}, raw.replace("\r\n", "\n").lstrip("\ufeff"))
    text = normalize_text(body)
    title = fields.get("title")
    if title is None and text:
        first, _, rest = text.partition("\n")
        heading = first.lstrip("#").strip() if first.startswith("#") else None
        if heading and rest.strip() and len(heading) <= FIELD_LIMITS["title"]:
            title, text = heading, rest.strip()
        elif rel.endswith(".txt") and rest.strip() and _looks_like_title(first):
            title, text = first, rest.strip()
    if not text:
        what = "no text after the front matter" if found is not None else "empty file"
        raise UnreadableArticleError(f"{rel}: {what}")
    return make_article(rel, rel, text, title, fields)


def _read_html_article(raw: str, rel: str) -> Article:
    from trafilatura import bare_extraction

    try:
        doc = bare_extraction(raw, with_metadata=True)
    except (RecursionError, ValueError, TypeError) as exc:
        reason = f"{rel}: the HTML cannot be parsed ({type(exc).__name__})"
        raise UnreadableArticleError(reason) from exc
    body = getattr(doc, "text", None) if doc is not None else None
    if not body or not body.strip():
        raise UnreadableArticleError(f"{rel}: no article text found in the HTML")
    title = _clean_field(getattr(doc, "title", None), FIELD_LIMITS["title"])
    lines = [line for line in paragraphs_from_lines(body).split("\n\n")]
    if title and lines and lines[0] == title and len(lines) > 1:
        lines = lines[1:]
    fields = {
        "url": getattr(doc, "url", None),
        "published": getattr(doc, "date", None),
        "author": getattr(doc, "author", None),
        "source": getattr(doc, "sitename", None),
    }
    text = "\n\n".join(lines)
    if not text:
        raise UnreadableArticleError(f"{rel}: no article text found in the HTML")
    return make_article(rel, rel, text, title, fields)


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
        if _has_surrogate(value):
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
    if _has_surrogate(body):
        raise UnreadableArticleError("'text' has an invalid \\u escape (a lone surrogate)")
    if len(body.encode("utf-8")) > max_bytes:
        raise UnreadableArticleError(f"article text exceeds {max_bytes:,} bytes")
    fields = {name: _record_field(record, name, limit) for name, limit in FIELD_LIMITS.items()}
    key = _record_field(record, "id", MAX_ID_CHARS)
    local_id = str(key).strip() if key is not None and str(key).strip() else f"line-{lineno}"
    if _has_surrogate(local_id) or any(unicodedata.category(c) == "Cc" for c in local_id):
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
    while chunk := read(_CHUNK):
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


def _read_jsonl(
    read: Callable[[int], bytes], rel: str, max_bytes: int
) -> tuple[list[Article], list[Failure]]:
    """Every good record of a .jsonl stream, and one Failure per bad record (file:line)."""
    first = read(_CHUNK)
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        rest = first + b"".join(iter(lambda: read(_CHUNK), b""))
        text = _decode(rest, rel)
        encoded = text.encode("utf-8")
        return _read_jsonl(_reader(encoded), rel, max_bytes)
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


def _reader(data: bytes) -> Callable[[int], bytes]:
    at = 0

    def read(n: int) -> bytes:
        nonlocal at
        chunk = data[at : at + n]
        at += len(chunk)
        return chunk

    return read


def read_article(
    name: str, data: bytes, *, max_bytes: int = MAX_ARTICLE_BYTES
) -> tuple[list[Article], list[Failure]]:
    """The articles in the bytes of one file named `name` (a path relative to the corpus).

    The suffix picks the reader. Returns the articles and one Failure per bad .jsonl record;
    raises UnreadableArticleError (naming the file) when the whole file is unusable.
    """
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise UnreadableArticleError(f"{name}: unsupported file type (supported: {allowed})")
    limit = max(MAX_JSONL_BYTES, max_bytes) if suffix == ".jsonl" else max_bytes
    if len(data) > limit:
        raise UnreadableArticleError(_too_big(name, len(data), limit))
    if not data.strip():
        raise UnreadableArticleError(f"{name}: empty file")
    if suffix == ".jsonl":
        return _read_jsonl(_reader(data), name, max_bytes)
    raw = _decode(data, name)
    if suffix in (".html", ".htm"):
        return [_read_html_article(raw, name)], []
    return [_read_text_article(raw, name)], []


def _too_big(rel: str, size: int, limit: int) -> str:
    return f"{rel}: file is {size:,} bytes; the limit is {limit:,} (split it into smaller articles)"


def _target(path: Path, root: Path, rel: str) -> Path:
    """The path to open for a corpus entry: itself, or a link's target inside the corpus.

    Raises UnreadableArticleError for a link loop, a dangling link, a link leading out of
    the corpus, and anything that is not a regular file (FIFO, device, socket, folder).
    """
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise UnreadableArticleError(f"{rel}: cannot read ({exc.strerror or exc})") from exc
    if stat.S_ISLNK(info.st_mode):
        try:
            target = path.resolve(strict=True)
        except RuntimeError as exc:  # Python 3.11 reports a loop this way
            raise UnreadableArticleError(f"{rel}: symbolic link loop; not read") from exc
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnreadableArticleError(f"{rel}: symbolic link loop; not read") from exc
            if exc.errno == errno.ENOENT:
                raise UnreadableArticleError(f"{rel}: symbolic link to a missing file") from exc
            raise UnreadableArticleError(f"{rel}: cannot read ({exc.strerror or exc})") from exc
        if not target.is_relative_to(root):
            raise UnreadableArticleError(
                f"{rel}: symbolic link to a file outside the corpus folder; not read"
            )
        path = target
        info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableArticleError(f"{rel}: {_not_regular(info.st_mode)}")
    return path


def _open(path: Path, root: Path, rel: str, limit: int) -> int:
    """A descriptor of the regular file at path, opened without blocking and size-checked."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a link since it was looked at
            raise UnreadableArticleError(f"{rel}: became a symbolic link; not read") from exc
        if exc.errno == errno.ENXIO:
            raise UnreadableArticleError(f"{rel}: a socket, not a regular file; not read") from exc
        raise UnreadableArticleError(f"{rel}: cannot read ({exc.strerror or exc})") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableArticleError(f"{rel}: {_not_regular(info.st_mode)}")
        real = _fd_path(fd)
        if real is not None and not real.is_relative_to(root):
            raise UnreadableArticleError(f"{rel}: lies outside the corpus folder; not read")
        if info.st_size > limit:
            raise UnreadableArticleError(_too_big(rel, info.st_size, limit))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _fd_path(fd: int) -> Path | None:
    """Where an open descriptor really points (Linux /proc), to catch a folder swapped mid-walk."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        return None


def _bounded_reader(fd: int, limit: int, rel: str) -> Callable[[int], bytes]:
    """read(n) on the descriptor that refuses to go past `limit` bytes (a file still growing)."""
    total = 0

    def read(n: int) -> bytes:
        nonlocal total
        try:
            chunk = os.read(fd, min(n, limit + 1 - total))
        except OSError as exc:
            raise UnreadableArticleError(f"{rel}: cannot read ({exc.strerror or exc})") from exc
        total += len(chunk)
        if total > limit:
            raise UnreadableArticleError(f"{rel}: grew past {limit:,} bytes while being read")
        return chunk

    return read


def _read_path(
    path: Path, root: Path, rel: str, max_bytes: int
) -> tuple[list[Article], list[Failure]]:
    """The articles of one corpus entry, read only if it is a regular file inside the corpus."""
    suffix = PurePosixPath(rel).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        _target(path, root, rel)  # a FIFO or a link out is reported as such
        allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise UnreadableArticleError(f"{rel}: unsupported file type (supported: {allowed})")
    target = _target(path, root, rel)
    limit = max(MAX_JSONL_BYTES, max_bytes) if suffix == ".jsonl" else max_bytes
    fd = _open(target, root, rel, limit)
    try:
        read = _bounded_reader(fd, limit, rel)
        if suffix == ".jsonl":
            return _read_jsonl(read, rel, max_bytes)
        data = b"".join(iter(lambda: read(_CHUNK), b""))
    finally:
        os.close(fd)
    return read_article(rel, data, max_bytes=max_bytes)


def read_file(path: Path, corpus_dir: Path, *, max_bytes: int = MAX_ARTICLE_BYTES) -> list[Article]:
    """The articles of one file (one, or one per line of a .jsonl file).

    Raises UnreadableArticleError naming the file and the reason; a .jsonl file with some
    bad lines raises only when no line is usable (read_corpus reports each bad line).
    """
    corpus_dir = Path(corpus_dir)
    root = corpus_dir.resolve()
    try:
        rel = Path(path).relative_to(corpus_dir).as_posix()
    except ValueError as exc:
        raise UnreadableArticleError(f"{path}: not inside the corpus folder {corpus_dir}") from exc
    articles, failures = _read_path(root / rel, root, rel, max_bytes)
    if not articles and failures:
        raise UnreadableArticleError(f"{failures[0].path}: {failures[0].reason}")
    return articles


def read_corpus(
    corpus_dir: Path, *, max_bytes: int = MAX_ARTICLE_BYTES
) -> tuple[list[Article], list[Failure]]:
    """Every article under the folder, sorted by id, and one Failure per file or line skipped.

    Hidden files and folders and non-article files (README, LICENSE, ATTRIBUTION, ...) are
    ignored silently; any other file that cannot be read becomes a Failure, as does every
    link to a folder (folders are read where they really are, never through a link).
    """
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusNotFoundError(f"corpus folder {corpus_dir} does not exist or is not a folder")
    root = corpus_dir.resolve()
    articles: list[Article] = []
    failures: list[Failure] = []

    def unreadable_folder(exc: OSError) -> None:
        where = _display(Path(exc.filename or root), root)
        failures.append(Failure(where, f"cannot read the folder ({exc.strerror or exc})"))

    for top, dirs, files in os.walk(root, onerror=unreadable_folder, followlinks=False):
        folder = Path(top)
        kept = []
        for name in sorted(dirs):
            if name.startswith("."):
                continue
            if os.path.islink(folder / name):
                failures.append(
                    Failure(
                        _display(folder / name, root),
                        "symbolic link to a folder; folders behind links are not read",
                    )
                )
                continue
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            path = folder / name
            rel = _display(path, root)
            if not is_article_file(PurePosixPath(rel)):
                continue
            if rel != path.relative_to(root).as_posix():
                failures.append(Failure(rel, "file name has control characters; not read"))
                continue
            try:
                found, bad = _read_path(path, root, rel, max_bytes)
            except UnreadableArticleError as exc:
                failures.append(Failure(rel, one_line(_reason(exc, rel))))
                continue
            except Exception as exc:  # a parser library bug must not stop the build
                log.debug("unexpected error reading %s", rel, exc_info=True)
                failures.append(
                    Failure(rel, one_line(f"cannot read ({type(exc).__name__}: {exc})"))
                )
                continue
            articles.extend(found)
            failures.extend(bad)
    for failure in failures:
        log.info("skipped %s: %s", failure.path, failure.reason)
    articles.sort(key=lambda a: a.id)
    return articles, failures


def _display(path: Path, root: Path) -> str:
    """A corpus-relative path fit for one line: control characters shown as escapes."""
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in rel):
        return rel.encode("unicode_escape", "backslashreplace").decode("ascii")
    return rel


def one_line(text: str) -> str:
    """A reason on one line of bounded length, whatever a parser put in its message."""
    text = " ".join(text.split())
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 1] + "…"


def _reason(exc: Exception, rel: str) -> str:
    message = str(exc)
    prefix = f"{rel}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_article_name(filename: str) -> str:
    """A file name safe to create in the corpus: no folders, no path tricks, plain characters.

    Keeps the suffix; raises BadArticleError when nothing usable is left.
    """
    name = normalize_text(filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE.sub("_", name).strip()
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = re.sub(r"[ _]+", "_", stem).strip(" ._-")
    suffix = re.sub(r"[^A-Za-z0-9]", "", suffix).lower()
    if not stem:
        raise BadArticleError(f"{filename!r} is not a usable file name")
    stem = stem[:100]
    return f"{stem}.{suffix}" if suffix else stem
