"""Reading article files (.txt, .md, .html, .jsonl) from the corpus folder into Articles.

Only regular files inside the corpus are read (see corpus_files); front matter, JSON and HTML
are parsed with limits on size and nesting. Every file or `.jsonl` record refused is one
Failure naming it and the reason, on one line; nothing a file holds stops the build.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from pathlib import Path, PurePosixPath

from index.corpus_files import (
    CHUNK,
    UnreadableArticleError,
    bounded_reader,
    decode_text,
    one_line,
    open_regular,
    regular_target,
    too_big,
)
from index.errors import BadArticleError, CitebotError
from index.frontmatter import FIELD_LIMITS, FrontMatterError, split_front_matter
from index.jsonl import byte_reader, read_jsonl
from index.metadata import clean_field, content_hash, make_article
from index.normalize import normalize_text, paragraphs_from_lines
from index.types import Article, Failure

__all__ = [
    "MAX_ARTICLE_BYTES",
    "SUPPORTED_SUFFIXES",
    "CorpusNotFoundError",
    "UnreadableArticleError",
    "content_hash",
    "is_article_file",
    "make_article",
    "read_article",
    "read_corpus",
    "read_file",
    "safe_article_name",
]

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".jsonl"})
# One article larger than this is skipped (the same limit as uploads). Measured here: a 10 MB
# text normalises and splits in about 3 s, into ~24,000 passages and ~170,000 sentences, which
# would take some 20-30 minutes to embed on two cores; 2 MB (a long book) takes a few minutes.
MAX_ARTICLE_BYTES = 2 * 1024 * 1024
# A .jsonl file holds many articles; each of its articles still obeys the article limit.
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


class CorpusNotFoundError(CitebotError):
    """The corpus folder does not exist or is not a folder."""


def is_article_file(relative: PurePosixPath) -> bool:
    """Whether a file under the corpus is read as an article: not hidden, not README/LICENSE."""
    if any(part.startswith(".") for part in relative.parts):
        return False
    return not _NON_ARTICLE.match(relative.name)


def _looks_like_title(line: str) -> bool:
    """Short, and not ending like a sentence."""
    return (
        len(line) <= _TITLE_MAX_CHARS
        and len(line.split()) <= _TITLE_MAX_WORDS
        and not line.endswith((".", ",", ";", ":"))
    )


def _read_text_article(raw: str, rel: str) -> Article:
    raw = raw.replace("\r\n", "\n").lstrip("\ufeff")
    try:
        found = split_front_matter(raw)
    except FrontMatterError as exc:
        raise UnreadableArticleError(f"{rel}: {exc}") from exc
    fields, body = found if found is not None else ({}, raw)
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
    title = clean_field(getattr(doc, "title", None), FIELD_LIMITS["title"])
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


def _unsupported(name: str) -> UnreadableArticleError:
    allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
    return UnreadableArticleError(f"{name}: unsupported file type (supported: {allowed})")


def _limit(suffix: str, max_bytes: int) -> int:
    """The size limit of a file: a .jsonl file holds many articles."""
    return max(MAX_JSONL_BYTES, max_bytes) if suffix == ".jsonl" else max_bytes


def read_article(
    name: str, data: bytes, *, max_bytes: int = MAX_ARTICLE_BYTES
) -> tuple[list[Article], list[Failure]]:
    """The articles in the bytes of one file named `name` (a path relative to the corpus).

    The suffix picks the reader. Returns the articles and one Failure per bad .jsonl record;
    raises UnreadableArticleError (naming the file) when the whole file is unusable.
    """
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise _unsupported(name)
    limit = _limit(suffix, max_bytes)
    if len(data) > limit:
        raise UnreadableArticleError(too_big(name, len(data), limit))
    if not data.strip():
        raise UnreadableArticleError(f"{name}: empty file")
    if suffix == ".jsonl":
        return read_jsonl(byte_reader(data), name, max_bytes)
    raw = decode_text(data, name)
    if suffix in (".html", ".htm"):
        return [_read_html_article(raw, name)], []
    return [_read_text_article(raw, name)], []


def _read_path(
    path: Path, root: Path, rel: str, max_bytes: int
) -> tuple[list[Article], list[Failure]]:
    """The articles of one corpus entry, read only if it is a regular file inside the corpus."""
    suffix = PurePosixPath(rel).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        regular_target(path, root, rel)  # a FIFO or a link out is reported as such
        raise _unsupported(rel)
    target = regular_target(path, root, rel)
    limit = _limit(suffix, max_bytes)
    fd = open_regular(target, root, rel, limit)
    try:
        read = bounded_reader(fd, limit, rel)
        if suffix == ".jsonl":
            return read_jsonl(read, rel, max_bytes)
        data = b"".join(iter(lambda: read(CHUNK), b""))
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
                failures.append(
                    Failure(rel, "file name has control characters or undecodable bytes; not read")
                )
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
