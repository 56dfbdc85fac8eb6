"""The index checks itself: checksummed files, a sealed manifest, SQLite's checks of the
database, a sane CURRENT, tidy leftovers, safe modes.

Works on a manifest (a dict) and the files it names, whatever files the store keeps:
`write_manifest` records the size and xxh3-128 hash of each file written once and never changed
(named relative to a root folder) and a hash over the manifest body; `read_manifest` and
`verify_files` check them when a version is opened. A database changed in place cannot have a
checksum: `check_database` runs SQLite's own checks on it instead. Every failure is an
IndexCorruptError of one line ending in the command that fixes it.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import re
import shutil
import sqlite3
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import xxhash

from index.errors import CitebotError, ConfigError, IndexCorruptError, IndexMismatchError

log = logging.getLogger(__name__)

FIX = "rebuild it with `citebot index build --rebuild`"
ALGORITHM = "xxh3_128"
CHECKSUMS = "checksums"
MANIFEST_CHECKSUM = "manifest_checksum"
# Opening a version hashes every file when they total at most this (some 90,000 passages):
# ≤ 0.13 s from the page cache, ~0.5 s from disk (tests/bench/integrity.py). Above it only sizes
# are checked on open; `citebot index verify` and every build before it reuses vectors hash all.
FULL_CHECK_ON_OPEN_BYTES = 1 << 30
FILE_MODE = 0o644
DIR_MODE = 0o755
VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_CURRENT_MAX_BYTES = 4096


def damaged(where: Path | str, problem: object) -> IndexCorruptError:
    """The error for a damaged index: one line naming what is wrong and the fix."""
    text = " ".join(str(problem).split())  # library messages may span several lines
    return IndexCorruptError(f"index {where} is damaged: {text}; {FIX}")


# Checksums


def file_digest(path: Path) -> str:
    """The xxh3-128 hash of a file's bytes, as hex."""
    digest = xxhash.xxh3_128()
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size:
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
                digest.update(view)
    return digest.hexdigest()


def manifest_digest(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != MANIFEST_CHECKSUM}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return xxhash.xxh3_128_hexdigest(text.encode("utf-8"))


def seal(
    manifest: dict[str, Any],
    root: Path,
    names: Iterable[str],
    known: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The manifest with the size and hash of each named file (relative to `root`), and its
    own hash.

    `known`: checksum entries of files already verified (those of the version a build reuses);
    a file listed there with the same size keeps its entry instead of being hashed again.
    """
    files: dict[str, dict[str, Any]] = {}
    for name in sorted(set(names)):
        path = root / name
        size = path.stat().st_size
        entry = (known or {}).get(name)
        if entry is not None and entry.get("size") == size:
            files[name] = dict(entry)
        else:
            files[name] = {"size": size, "hash": file_digest(path)}
    sealed = {k: v for k, v in manifest.items() if k != MANIFEST_CHECKSUM}
    sealed[CHECKSUMS] = {"algorithm": ALGORITHM, "files": files}
    sealed[MANIFEST_CHECKSUM] = manifest_digest(sealed)
    return sealed


def write_manifest(
    path: Path,
    manifest: dict[str, Any],
    *,
    root: Path,
    names: Iterable[str],
    known: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Seal the manifest over the named files and write it; call once they are all written."""
    sealed = seal(manifest, root, names, known)
    path.write_text(json.dumps(sealed, indent=2) + "\n", encoding="utf-8")
    return sealed


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest at `path`, its own hash and field types checked; raises IndexCorruptError."""
    folder, name = path.parent, path.name
    if not folder.is_dir():
        raise damaged(folder, "the version folder is missing")
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise damaged(folder, f"{name} is missing") from None
    except (OSError, ValueError) as exc:
        raise damaged(folder, f"{name} is unreadable ({exc})") from exc
    if not isinstance(manifest, dict):
        raise damaged(folder, f"{name} is not a JSON object")
    if MANIFEST_CHECKSUM not in manifest and CHECKSUMS not in manifest:
        raise IndexMismatchError(
            f"index {folder} was written by an older citebot, without checksums; {FIX}"
        )
    if manifest.get(MANIFEST_CHECKSUM) != manifest_digest(manifest):
        raise damaged(folder, f"{name} does not match its checksum")
    problem = manifest_problem(manifest)
    if problem:
        raise damaged(folder, f"{name}: {problem}")
    return manifest


def _is_count(value: object, minimum: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _safe_relative(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and ".." not in parts and "" not in parts


def manifest_problem(manifest: dict[str, Any]) -> str | None:
    """What is wrong with the types of the manifest's fields, or None."""
    checks: list[tuple[str, bool, str]] = [
        ("format_version", _is_count(manifest.get("format_version")), "a whole number"),
        ("model", isinstance(manifest.get("model"), str) and bool(manifest.get("model")), "text"),
        ("dimension", _is_count(manifest.get("dimension"), 1), "a positive whole number"),
    ]
    counts = manifest.get("counts", {})
    checks.append(
        (
            "counts",
            isinstance(counts, dict) and all(_is_count(v) for v in counts.values()),
            "whole numbers",
        )
    )
    for field, ok, expected in checks:
        if not ok:
            return f'"{field}" is {manifest.get(field)!r:.60}, not {expected}'
    sums = manifest.get(CHECKSUMS)
    if not isinstance(sums, dict) or sums.get("algorithm") != ALGORITHM:
        return f'"{CHECKSUMS}" is not a table of {ALGORITHM} checksums'
    files = sums.get("files")
    if not isinstance(files, dict) or not files:
        return f'"{CHECKSUMS}" lists no files'
    for file, entry in files.items():
        if not (
            _safe_relative(file)
            and isinstance(entry, dict)
            and _is_count(entry.get("size"))
            and isinstance(entry.get("hash"), str)
        ):
            return f'"{CHECKSUMS}" has a bad entry for {file!r:.60}'
    return None


def data_bytes(manifest: dict[str, Any]) -> int:
    """Total size of the files the manifest lists."""
    return sum(int(e["size"]) for e in manifest[CHECKSUMS]["files"].values())


def verify_files(folder: Path, manifest: dict[str, Any], *, full: bool | None = None) -> None:
    """Check each file the manifest lists (relative to `folder`): present with its size and,
    if `full`, its hash.

    `full=None` hashes when the files total at most FULL_CHECK_ON_OPEN_BYTES. Raises
    IndexCorruptError for the first file that fails.
    """
    files: dict[str, dict[str, Any]] = manifest[CHECKSUMS]["files"]
    if full is None:
        full = data_bytes(manifest) <= FULL_CHECK_ON_OPEN_BYTES
    for name, entry in files.items():
        path = folder / name
        try:
            info = path.lstat()
        except FileNotFoundError:
            raise damaged(folder, f"{name} is missing") from None
        except OSError as exc:
            raise damaged(folder, f"{name} is unreadable ({exc})") from exc
        if not stat.S_ISREG(info.st_mode):
            raise damaged(folder, f"{name} is not a regular file")
        if info.st_size != entry["size"]:
            raise damaged(
                folder, f"{name} is {info.st_size:,} bytes, it was written as {entry['size']:,}"
            )
    if not full:
        return
    for name, entry in files.items():
        try:
            digest = file_digest(folder / name)
        except OSError as exc:
            raise damaged(folder, f"{name} is unreadable ({exc})") from exc
        if digest != entry["hash"]:
            raise damaged(folder, f"{name} does not match its checksum")


# The database

# SQLite's own checks of the database every version shares (it changes in place, so no version
# can record a checksum of it), by level: "schema" (header, tables; ~1 ms at any size), "pages"
# (+ PRAGMA quick_check: every page and b-tree well formed; 5-8 us a passage) and "all" (+ FTS5's
# integrity-check of its index against its rows, 25-39 us a passage, and the rows' texts against
# their offsets, 10-14 us a passage). Measured at 10,000 passages (a 37 MB database) on a shared
# machine; tests/bench/integrity.py gives them at the sample size. They grow with the database.
# Opening for serving runs "all" while the database is at most this size (~2,000 passages,
# <= ~0.15 s), else "schema":
FULL_DB_CHECK_ON_OPEN_BYTES = 8 << 20
# Before a build reuses rows it runs "all" up to this size (~17,000 passages, <= ~1 s), else
# "pages"; `citebot index verify` runs "all" at any size.
FULL_DB_CHECK_ON_BUILD_BYTES = 64 << 20
DB_CHECKS = ("schema", "pages", "all")
_SQLITE_HEADER = b"SQLite format 3\x00"


def database_check_level(path: Path, full: bool | None) -> str:
    """The level of check for the database at `path`: `full` None when opening to serve, True
    before a build reuses it, False for the cheap check only."""
    if full is False:
        return "schema"
    size = path.stat().st_size
    if full is None:
        return "all" if size <= FULL_DB_CHECK_ON_OPEN_BYTES else "schema"
    return "all" if size <= FULL_DB_CHECK_ON_BUILD_BYTES else "pages"


def check_database_header(path: Path) -> None:
    """The database file is there and starts as an SQLite database; raises IndexCorruptError.

    (An empty file would otherwise open as a new, empty database.)
    """
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        raise damaged(path.parent, f"{path.name} is missing") from None
    except OSError as exc:
        raise damaged(path.parent, f"{path.name} is unreadable ({exc})") from exc
    if header != _SQLITE_HEADER:
        raise damaged(path.parent, f"{path.name} is not an SQLite database")


def check_database(
    path: Path,
    *,
    tables: Iterable[str],
    level: str,
    content: Callable[[sqlite3.Connection], str | None] | None = None,
) -> None:
    """Check the database at `path` on a connection of its own; raises IndexCorruptError.

    "schema": its header, and every one of `tables` in its schema. "pages": and PRAGMA
    quick_check. "all": and each FTS5 table's integrity-check (it takes the write lock for a
    moment, so it waits for a build's commit; skipped where the database cannot be written)
    and `content(db)` (the rows against each other), which returns what is wrong or None.
    """
    if level not in DB_CHECKS:
        raise ValueError(level)
    check_database_header(path)
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=30)
    except sqlite3.Error as exc:
        raise damaged(path.parent, f"{path.name}: {exc}") from exc
    try:
        schema = dict(db.execute("SELECT name, sql FROM sqlite_master").fetchall())
        missing = sorted(set(tables) - set(schema))
        if missing:
            raise damaged(path.parent, f"{path.name} has no table {missing[0]}")
        if level == "schema":
            return
        if level == "all":
            for table in tables:
                if _FTS5.search(str(schema.get(table) or "")):
                    _fts_check(db, table)
        db.execute("BEGIN")
        problems = [str(row[0]) for row in db.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            raise damaged(path.parent, f"{path.name} fails its check ({'; '.join(problems)})")
        problem = content(db) if content is not None and level == "all" else None
        if problem:
            raise damaged(path.parent, f"{path.name}: {problem}")
    except sqlite3.Error as exc:
        raise damaged(path.parent, f"{path.name}: {exc}") from exc
    finally:
        db.close()


_FTS5 = re.compile(r"USING\s+fts5\s*\(", re.IGNORECASE)


def _fts_check(db: sqlite3.Connection, table: str) -> None:
    try:
        db.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_READONLY:
            raise


# CURRENT


def read_current(path: Path, *, strict: bool, versions: Path | None = None) -> str | None:
    """The version name in a CURRENT file; None if there is no such file.

    A damaged CURRENT (empty, not UTF-8, not a version name, not a file, or, given the
    `versions` folder, naming no folder in it) raises IndexCorruptError when `strict`;
    otherwise it is taken as no version, so a build starts afresh.
    """
    name, problem = _parse_current(path)
    if problem and strict:
        raise damaged(path.parent, f"{path.name} is {problem}")
    if strict and name and versions is not None and not (versions / name).is_dir():
        raise damaged(path.parent, f"{path.name} names version {name}, which is not there")
    return name


def _parse_current(path: Path) -> tuple[str | None, str | None]:
    """(version name, None), or (None, what is wrong with the file); (None, None) if absent."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(_CURRENT_MAX_BYTES + 1)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"unreadable ({exc})"
    try:
        name = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    if not VERSION_NAME.fullmatch(name):
        return None, f"{name[:40]!r}, not a version name"
    return name, None


# Leftovers


def remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def tidy(
    index_dir: Path,
    *,
    current: str,
    versions: str,
    partial_suffix: str,
    data: str,
    live: str | None,
    files_of: Callable[[Path], Iterable[str]],
) -> list[str]:
    """Clear what killed or failed builds left, so any index folder can be built into again.

    Removes a CURRENT.tmp, a folder where CURRENT belongs, anything that is not a folder where
    the versions or data folder belongs, partial version folders, every complete version but
    `live` and the one made before it (version names sort in the order they were made), and
    every file in the data folder that no kept version uses (`files_of(version folder)` names
    them relative to the index folder; a file's -wal, -shm and -journal go with it). With no
    readable live version nothing complete is removed. Files an open store still reads may be
    unlinked: it keeps reading them. Call it under the build lock. Returns the names removed.
    """
    removed: list[str] = []
    for path, stray in (
        (index_dir / (current + ".tmp"), True),
        (index_dir / current, (index_dir / current).is_dir()),
    ):
        if stray and (path.exists() or path.is_symlink()):
            remove(path)
            removed.append(path.name)
    _, problem = _parse_current(index_dir / current)
    if problem:
        log.warning("%s is %s: building a new index from scratch", index_dir / current, problem)
    for name in (versions, data):
        folder = index_dir / name
        if (folder.exists() or folder.is_symlink()) and not folder.is_dir():
            remove(folder)
            removed.append(folder.name)
    folder = index_dir / versions
    if not folder.is_dir():
        return removed
    complete = []
    for child in sorted(folder.iterdir()):
        if child.name.endswith(partial_suffix):
            remove(child)
            removed.append(child.name)
        elif child.is_dir() and not child.is_symlink():
            complete.append(child.name)
    if live in complete:
        keep = [live, *[name for name in complete if name < live][-1:]]
        for name in complete:
            if name not in keep:
                remove(folder / name)
                removed.append(name)
        removed += prune_data(index_dir, data, [folder / name for name in keep], files_of)
    return removed


def prune_data(
    index_dir: Path,
    data: str,
    keep: list[Path],
    files_of: Callable[[Path], Iterable[str]],
) -> list[str]:
    """Remove every entry of the data folder that none of the `keep` version folders uses.

    The first of `keep` is the live version: if its manifest cannot be read nothing is removed;
    another kept version that cannot be read uses nothing (it cannot be served).
    """
    used: set[str] = set()
    for position, version in enumerate(keep):
        try:
            used.update(files_of(version))
        except (CitebotError, OSError, KeyError, TypeError, ValueError):
            if position == 0:
                return []
    folder = index_dir / data
    removed = []
    if folder.is_dir():
        for entry in sorted(folder.iterdir()):
            rel = f"{data}/{entry.name}"
            owner = rel
            for suffix in ("-wal", "-shm", "-journal"):
                owner = owner.removesuffix(suffix)
            if owner not in used:
                remove(entry)
                removed.append(rel)
    return removed


# File modes


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def sane_mode(path: Path | int) -> int:
    """0644 for a file, 0755 for a folder, tightened further by the process's umask."""
    is_dir = stat.S_ISDIR(os.stat(path).st_mode)
    return (DIR_MODE if is_dir else FILE_MODE) & ~_umask()


def tighten(path: Path | int) -> None:
    """Drop any permission beyond 0644/0755 (and the umask) from a file citebot created."""
    try:
        current = stat.S_IMODE(os.stat(path).st_mode)
        wanted = current & sane_mode(path)
        if wanted != current:
            os.chmod(path, wanted)
    except PermissionError:  # someone else's file: not ours to change
        log.debug("cannot change the mode of %s", path)


def settle_modes(root: Path) -> None:
    """Give a folder citebot wrote, and everything in it, exactly 0755/0644 less the umask."""
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            os.chmod(path, sane_mode(path))


def make_dirs(path: Path, *, private: bool = False) -> None:
    """Create a folder and its missing parents at 0755 less the umask.

    `private`: the folder itself is made 0700 and must not exist yet (settle_modes opens it up).
    """
    for parent in reversed([p for p in path.parents if not p.is_dir()]):
        parent.mkdir(mode=DIR_MODE, exist_ok=True)
    path.mkdir(mode=0o700 if private else DIR_MODE, exist_ok=not private)


def make_index_dir(index_dir: Path, lock_name: str) -> Path:
    """Create the index folder if needed, clear anything but a file where its lock file goes.

    Returns the lock file's path. A path to something other than a folder is refused, never
    removed: it is not ours.
    """
    if (index_dir.exists() or index_dir.is_symlink()) and not index_dir.is_dir():
        raise ConfigError(f"the index folder {index_dir} is not a folder")
    make_dirs(index_dir)
    lock = index_dir / lock_name
    if (lock.exists() or lock.is_symlink()) and not (lock.is_file() and not lock.is_symlink()):
        remove(lock)
    return lock


def write_bytes_atomic(target: Path, data: bytes) -> None:
    """Write a file whole or not at all, created 0644 less the umask whatever the umask."""
    tmp = target.with_name(f".{target.name}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with open(fd, "wb") as handle:
        os.fchmod(fd, FILE_MODE & ~_umask())  # O_CREAT's mode does not apply to an old file
        handle.write(data)
        handle.flush()
        os.fsync(fd)
    os.replace(tmp, target)
