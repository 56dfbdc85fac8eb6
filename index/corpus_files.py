"""Opening corpus files safely: regular files inside the corpus only, never blocking, bounded.

A corpus entry is read only when it is a regular file whose real path lies inside the corpus
folder; a link is followed only to such a file. FIFOs, devices and sockets are refused before
any open, and the open itself is non-blocking and does not follow a final link, so an entry
swapped for something else in between is refused too. The size is checked on the open
descriptor, and no read goes past the limit even if the file grows.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

from index.errors import BadArticleError

# A failure's reason is one line of at most this many characters.
_REASON_CHARS = 300
# Non-blocking (a FIFO or device never stalls the open), no final link, no terminal.
_OPEN_FLAGS = (
    os.O_RDONLY
    | os.O_NONBLOCK
    | os.O_NOFOLLOW
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOCTTY", 0)
)

CHUNK = 1 << 20  # bytes per read


class UnreadableArticleError(BadArticleError):
    """An article file that cannot be read: binary, empty, undecodable, malformed or too big."""


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


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (BOM or not) or UTF-16 with a BOM; NUL bytes mean a binary file."""
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


def too_big(rel: str, size: int, limit: int) -> str:
    """The reason for a file over the size limit."""
    return f"{rel}: file is {size:,} bytes; the limit is {limit:,} (split it into smaller articles)"


def regular_target(path: Path, root: Path, rel: str) -> Path:
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


def open_regular(path: Path, root: Path, rel: str, limit: int) -> int:
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
            raise UnreadableArticleError(too_big(rel, info.st_size, limit))
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


def bounded_reader(fd: int, limit: int, rel: str) -> Callable[[int], bytes]:
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


def one_line(text: str) -> str:
    """A reason on one line of bounded length, whatever a parser put in its message."""
    text = " ".join(text.split())
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 1] + "…"
