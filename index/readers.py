"""Reading article files (.txt, .md, .html, .jsonl) from the corpus folder into Articles."""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import json
import logging
import os
import re
import unicodedata
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from index.errors import BadArticleError, CitebotError
from index.normalize import normalize_text, paragraphs_from_lines
from index.types import Article, Failure

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".jsonl"})
# One article larger than this is skipped (the same limit as uploads). Measured here: a 10 MB
# text normalises and splits in about 3 s, into ~24,000 passages and ~170,000 sentences, which
# would take some 20-30 minutes to embed on two cores; 2 MB (a long book) takes a few minutes.
MAX_ARTICLE_BYTES = 2 * 1024 * 1024
# A .jsonl file holds many articles; each of its articles still obeys MAX_ARTICLE_BYTES.
MAX_JSONL_BYTES = 200 * 1024 * 1024
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
_FRONT_MATTER_FIELDS = ("title", "url", "published", "author", "source")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y")


class UnreadableArticleError(BadArticleError):
    """An article file that cannot be read: binary, empty, undecodable, malformed or too big."""


class CorpusNotFoundError(CitebotError):
    """The corpus folder does not exist or is not a folder."""


def is_article_file(relative: PurePosixPath) -> bool:
    """Whether a file under the corpus is read as an article: not hidden, not README/LICENSE."""
    if any(part.startswith(".") for part in relative.parts):
        return False
    return not _NON_ARTICLE.match(relative.name)


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


def _clean_field(value: Any) -> str | None:
    if value is None:
        return None
    text = normalize_text(str(value))
    return text.replace("\n", " ") or None


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


def _split_front_matter(text: str, name: str) -> tuple[dict[str, Any], str]:
    """Separate a leading `---` YAML block from the body; raises on a broken block."""
    if not text.startswith("---\n") and text.strip() != "---":
        return {}, text
    end = re.search(r"^(?:---|\.\.\.)[ \t]*$", text[4:], re.MULTILINE)
    if end is None:
        raise UnreadableArticleError(f"{name}: front matter starts with '---' but never ends")
    block = text[4 : 4 + end.start()]
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise UnreadableArticleError(f"{name}: broken YAML front matter{where}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UnreadableArticleError(f"{name}: front matter is not a mapping of fields")
    return data, text[4 + end.end() :]


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
        "title": _clean_field(title) or _title_from_name(path),
        "url": _clean_field(fields.get("url")),
        "published": _normalize_date(fields.get("published")),
        "author": _clean_field(fields.get("author")),
        "source": _clean_field(fields.get("source")),
    }
    return Article(id=article_id, text=text, content_hash=content_hash(text, meta), **meta)  # type: ignore[arg-type]


def _read_text_article(raw: str, rel: str) -> Article:
    fields, body = _split_front_matter(raw.replace("\r\n", "\n").lstrip("\ufeff"), rel)
    text = normalize_text(body)
    title = fields.get("title")
    if title is None and text:
        first, _, rest = text.partition("\n")
        heading = first.lstrip("#").strip() if first.startswith("#") else None
        if heading and rest.strip():
            title, text = heading, rest.strip()
        elif rel.endswith(".txt") and rest.strip() and _looks_like_title(first):
            title, text = first, rest.strip()
    if not text:
        what = "no text after the front matter" if fields else "empty file"
        raise UnreadableArticleError(f"{rel}: {what}")
    return make_article(rel, rel, text, title, fields)


def _read_html_article(raw: str, rel: str) -> Article:
    from trafilatura import bare_extraction

    doc = bare_extraction(raw, with_metadata=True)
    body = getattr(doc, "text", None) if doc is not None else None
    if not body or not body.strip():
        raise UnreadableArticleError(f"{rel}: no article text found in the HTML")
    title = _clean_field(getattr(doc, "title", None))
    lines = [line for line in paragraphs_from_lines(body).split("\n\n")]
    if title and lines and lines[0] == title and len(lines) > 1:
        lines = lines[1:]
    fields = {
        "url": getattr(doc, "url", None),
        "published": getattr(doc, "date", None),
        "author": getattr(doc, "author", None),
        "source": getattr(doc, "sitename", None),
    }
    return make_article(rel, rel, "\n\n".join(lines), title, fields)


def _jsonl_article(line: str, rel: str, lineno: int) -> Article:
    where = f"{rel}:{lineno}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UnreadableArticleError(f"{where}: not valid JSON ({exc.msg})") from exc
    if not isinstance(record, dict):
        raise UnreadableArticleError(f"{where}: a line must be a JSON object")
    body = record.get("text")
    if not isinstance(body, str) or not body.strip():
        raise UnreadableArticleError(f"{where}: missing or empty 'text'")
    if len(body.encode("utf-8")) > MAX_ARTICLE_BYTES:
        raise UnreadableArticleError(f"{where}: article text exceeds {MAX_ARTICLE_BYTES:,} bytes")
    key = record.get("id")
    local_id = str(key).strip() if key is not None and str(key).strip() else f"line-{lineno}"
    title = record.get("title")
    return make_article(f"{rel}#{local_id}", rel, normalize_text(body), title, record)


def _read_jsonl(raw: str, rel: str) -> tuple[list[Article], list[Failure]]:
    articles: list[Article] = []
    failures: list[Failure] = []
    seen: set[str] = set()
    for lineno, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            article = _jsonl_article(line, rel, lineno)
        except UnreadableArticleError as exc:
            failures.append(Failure(path=f"{rel}:{lineno}", reason=str(exc).split(": ", 1)[1]))
            continue
        if article.id in seen:
            failures.append(Failure(f"{rel}:{lineno}", f"duplicate id {article.id!r}"))
            continue
        seen.add(article.id)
        articles.append(article)
    if not articles and not failures:
        raise UnreadableArticleError(f"{rel}: empty file")
    return articles, failures


def _read(path: Path, corpus_dir: Path) -> tuple[list[Article], list[Failure]]:
    rel = path.relative_to(corpus_dir).as_posix()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise UnreadableArticleError(f"{rel}: unsupported file type (supported: {allowed})")
    try:
        size = path.stat().st_size
        limit = MAX_JSONL_BYTES if suffix == ".jsonl" else MAX_ARTICLE_BYTES
        if size > limit:
            raise UnreadableArticleError(
                f"{rel}: file is {size:,} bytes; the limit is {limit:,} "
                "(split it into smaller articles)"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableArticleError(f"{rel}: cannot read ({exc.strerror or exc})") from exc
    if not data.strip():
        raise UnreadableArticleError(f"{rel}: empty file")
    raw = _decode(data, rel)
    if suffix == ".jsonl":
        return _read_jsonl(raw, rel)
    if suffix in (".html", ".htm"):
        return [_read_html_article(raw, rel)], []
    return [_read_text_article(raw, rel)], []


def read_file(path: Path, corpus_dir: Path) -> list[Article]:
    """The articles of one file (one, or one per line of a .jsonl file).

    Raises UnreadableArticleError naming the file and the reason; a .jsonl file with some
    bad lines raises only when no line is usable (read_corpus reports each bad line).
    """
    articles, failures = _read(path, corpus_dir)
    if not articles and failures:
        raise UnreadableArticleError(f"{failures[0].path}: {failures[0].reason}")
    return articles


def read_corpus(corpus_dir: Path) -> tuple[list[Article], list[Failure]]:
    """Every article under the folder, sorted by id, and one Failure per file or line skipped.

    Hidden files and folders and non-article files (README, LICENSE, ATTRIBUTION, ...) are
    ignored silently; any other file that cannot be read becomes a Failure.
    """
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusNotFoundError(f"corpus folder {corpus_dir} does not exist or is not a folder")
    articles: list[Article] = []
    failures: list[Failure] = []
    for root, dirs, files in os.walk(corpus_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            rel = PurePosixPath(path.relative_to(corpus_dir).as_posix())
            if not is_article_file(rel):
                continue
            try:
                found, bad = _read(path, corpus_dir)
            except UnreadableArticleError as exc:
                failures.append(Failure(path=str(rel), reason=_reason(exc, str(rel))))
                continue
            except Exception as exc:  # a reader library bug must not stop the build
                log.exception("unexpected error reading %s", rel)
                failures.append(Failure(path=str(rel), reason=f"cannot read ({exc})"))
                continue
            articles.extend(found)
            failures.extend(bad)
    for failure in failures:
        log.info("skipped %s: %s", failure.path, failure.reason)
    articles.sort(key=lambda a: a.id)
    return articles, failures


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
