"""What the bot remembers of its answers, in a small SQLite file that survives restarts.

Answers are keyed by the id of the message that shows them, so a Sources button, "Show
sources", `/sources` and a reply as a follow-up still work on an answer given before a restart.
Only the newest `capacity` answers (and thread topics) are kept. Every method may be called
from any thread; the bot calls them through `asyncio.to_thread` so the disk never holds up
the event loop.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import zlib
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from index.types import Answer, Quote, RetrievedPassage

log = logging.getLogger(__name__)

FILE_NAME = "answers.sqlite"
DEFAULT_CAPACITY = 2000
FILE_MODE = 0o644

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    message_id INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    answer BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_by_seq ON answers (seq);
CREATE INDEX IF NOT EXISTS answers_by_channel ON answers (channel_id, seq);
CREATE TABLE IF NOT EXISTS threads (
    thread_id INTEGER PRIMARY KEY,
    question TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS threads_by_seq ON threads (seq);
"""


def encode(answer: Answer) -> bytes:
    """An answer as compressed JSON."""
    return zlib.compress(json.dumps(asdict(answer), ensure_ascii=False).encode("utf-8"))


def _build(cls: Any, data: dict[str, Any]) -> Any:
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in known})


def decode(blob: bytes) -> Answer:
    """The answer `encode` stored; raises ValueError/TypeError/KeyError if it can't be read."""
    data = json.loads(zlib.decompress(blob).decode("utf-8"))
    data["quotes"] = tuple(_build(Quote, q) for q in data.get("quotes", ()))
    data["passages"] = tuple(_build(RetrievedPassage, p) for p in data.get("passages", ()))
    answer: Answer = _build(Answer, data)
    return answer


class AnswerMemory:
    """Recent answers by message, the latest per channel, and each thread's first question.

    With a `path` they are kept in that SQLite file (created 0644); without one, or when the
    file can't be used, in memory only, so answering never depends on the disk.
    """

    def __init__(self, path: Path | None = None, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self.path = path
        self._lock = threading.Lock()
        self._db = self._open(path)

    def _open(self, path: Path | None) -> sqlite3.Connection:
        if path is not None:
            try:
                return self._connect(path)
            except (OSError, sqlite3.Error) as exc:
                log.warning("can't keep answers in %s (%s); remembering them in memory", path, exc)
                self.path = None
        return self._connect(None)

    @staticmethod
    def _connect(path: Path | None) -> sqlite3.Connection:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
                os.chmod(path, FILE_MODE)  # whatever the umask
        db = sqlite3.connect(
            ":memory:" if path is None else str(path), timeout=5.0, check_same_thread=False
        )
        try:
            db.executescript(_SCHEMA)
        except sqlite3.Error:
            db.close()
            raise
        return db

    def _next_seq(self, table: str) -> int:
        (last,) = self._db.execute(f"SELECT coalesce(max(seq), 0) FROM {table}").fetchone()
        return int(last) + 1

    def remember(self, message_id: int, channel_id: int, answer: Answer) -> None:
        """Keep an answer shown in `message_id`, now the channel's latest."""
        blob = encode(answer)
        try:
            with self._lock, self._db:
                seq = self._next_seq("answers")
                self._db.execute(
                    "INSERT OR REPLACE INTO answers (message_id, channel_id, seq, answer)"
                    " VALUES (?, ?, ?, ?)",
                    (message_id, channel_id, seq, blob),
                )
                self._db.execute("DELETE FROM answers WHERE seq <= ?", (seq - self.capacity,))
        except sqlite3.Error:
            log.warning("could not remember an answer", exc_info=True)

    def _decoded(self, row: tuple[bytes] | None) -> Answer | None:
        if row is None:
            return None
        try:
            return decode(row[0])
        except (ValueError, TypeError, KeyError, zlib.error):
            log.warning("a remembered answer could not be read; treating it as forgotten")
            return None

    def answer(self, message_id: int) -> Answer | None:
        """The answer shown in a message, if still remembered."""
        with self._lock:
            row = self._db.execute(
                "SELECT answer FROM answers WHERE message_id = ?", (message_id,)
            ).fetchone()
        return self._decoded(row)

    def latest(self, channel_id: int) -> Answer | None:
        """The last answer shown in a channel, if still remembered."""
        with self._lock:
            row = self._db.execute(
                "SELECT answer FROM answers WHERE channel_id = ? ORDER BY seq DESC LIMIT 1",
                (channel_id,),
            ).fetchone()
        return self._decoded(row)

    def thread_question(self, thread_id: int) -> str | None:
        """The question a thread is about: its first question, or its starter answer's."""
        with self._lock:
            row = self._db.execute(
                "SELECT question FROM threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
        if row is not None:
            return str(row[0])
        # A thread started from a message has that message's id.
        starter = self.answer(thread_id)
        return starter.question if starter is not None else None

    def note_thread(self, thread_id: int, question: str) -> None:
        """Record a thread's topic the first time the bot answers in it."""
        if self.thread_question(thread_id) is not None:
            return
        try:
            with self._lock, self._db:
                seq = self._next_seq("threads")
                self._db.execute(
                    "INSERT OR IGNORE INTO threads (thread_id, question, seq) VALUES (?, ?, ?)",
                    (thread_id, question, seq),
                )
                self._db.execute("DELETE FROM threads WHERE seq <= ?", (seq - self.capacity,))
        except sqlite3.Error:
            log.warning("could not remember a thread's question", exc_info=True)

    def close(self) -> None:
        with self._lock:
            self._db.close()
