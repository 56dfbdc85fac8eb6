"""Writing index versions: a full build into a new database, or one change set applied in place.

See `index.store` for the layout and why a kill at any moment leaves a complete version live.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index import ann, integrity
from index.backend import ArticleRows, ChangeSet
from index.errors import ReindexInProgressError
from index.store import (
    CURRENT,
    DATA,
    MANIFEST,
    META,
    PARTIAL_SUFFIX,
    SCHEMA,
    TOKENIZER,
    VERSIONS,
    IndexStore,
    _fsync_dir,
    _fsync_file,
    load_manifest,
    manifest_files,
    read_current,
)


def _insert(
    db: sqlite3.Connection,
    articles: list[tuple[Any, ...]],
    passages: list[tuple[Any, ...]],
    sentences: list[tuple[Any, ...]],
    fts: list[tuple[Any, ...]],
) -> None:
    db.executemany("INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", articles)
    db.executemany("INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?)", passages)
    db.executemany("INSERT INTO sentences VALUES (?, ?, ?, ?, ?)", sentences)
    db.executemany("INSERT INTO passages_fts(rowid, title, text) VALUES (?, ?, ?)", fts)


def _term_counts(rows: Iterable[tuple[Any, ...]]) -> list[tuple[str, int]]:
    """(term, passages holding it) over (rowid, title, text) rows, tokenised as FTS5 does."""
    mem = sqlite3.connect(":memory:")
    try:
        mem.execute(f"CREATE VIRTUAL TABLE t USING fts5(title, text, tokenize = '{TOKENIZER}')")
        mem.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
        mem.executemany("INSERT INTO t(rowid, title, text) VALUES (?, ?, ?)", rows)
        return [(str(term), int(doc)) for term, doc in mem.execute("SELECT term, doc FROM v")]
    finally:
        mem.close()


def _set_state(db: sqlite3.Connection, version: str) -> None:
    db.execute("INSERT OR REPLACE INTO state VALUES ('version', ?)", (version,))


class _Rows:
    """SQL rows of the upserted articles, flushed to a database in batches or all at once."""

    def __init__(self) -> None:
        self.articles: list[tuple[Any, ...]] = []
        self.passages: list[tuple[Any, ...]] = []
        self.sentences: list[tuple[Any, ...]] = []
        self.fts: list[tuple[Any, ...]] = []

    def __len__(self) -> int:
        return len(self.passages) + len(self.sentences)

    def add(self, rows: ArticleRows, p_ids: np.ndarray, s_ids: np.ndarray) -> None:
        a = rows.article
        self.articles.append(
            (a.id, a.path, a.title, a.url, a.published, a.author, a.source, a.text, a.content_hash)
        )
        for ordinal, (pid, (start, end)) in enumerate(
            zip(p_ids.tolist(), rows.passages, strict=True)
        ):
            self.passages.append((pid, a.id, ordinal, start, end, a.text[start:end]))
            self.fts.append((pid, a.title, a.text[start:end]))
        for ordinal, (sid, (start, end)) in enumerate(
            zip(s_ids.tolist(), rows.sentences, strict=True)
        ):
            self.sentences.append((sid, a.id, ordinal, start, end))

    def flush(self, db: sqlite3.Connection) -> None:
        _insert(db, self.articles, self.passages, self.sentences, self.fts)
        self.__init__()  # type: ignore[misc]


class VersionWriter:
    """Writes one new version beside the live one; `commit` makes it live atomically."""

    def __init__(self, index_dir: Path, version: str, previous: IndexStore | None) -> None:
        self.index_dir = Path(index_dir)
        self.version = version
        self.previous = previous
        self.final = self.index_dir / VERSIONS / version
        self.path = self.final.with_name(version + PARTIAL_SUFFIX)
        integrity.make_dirs(self.path, private=True)  # opened up by commit()
        integrity.make_dirs(self.index_dir / DATA)
        self.manifest: dict[str, Any] = {}
        self._pending: _Rows | None = None  # an incremental change, applied by commit()
        self._removals: list[str] = []
        self._written: list[Path] = []  # new data files, made durable before the switch

    def _data(self, name: str) -> Path:
        return self.index_dir / DATA / name

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.index_dir).as_posix()

    def write(self, changes: ChangeSet, manifest: dict[str, Any]) -> None:
        """Write the new rows' vectors, the dense index and the manifest (and, for a full
        build, the whole new database); on any failure remove what was written."""
        try:
            self._write(changes, manifest)
        except BaseException:
            self.abort()
            raise

    def _write(self, changes: ChangeSet, manifest: dict[str, Any]) -> None:
        prev = None if changes.reset else self.previous
        dim = int(manifest["dimension"])
        pm = prev.manifest if prev is not None else {}
        next_p, next_s = pm.get("next_ids", [0, 0])
        files = pm.get("files", {})
        p_segments = [list(pair) for pair in files.get("passage_segments", [])]
        s_segments = [list(pair) for pair in files.get("sentence_segments", [])]
        p_writer = ann.SegmentWriter(self._data(f"p-{self.version}.f32"), next_p, dim)
        s_writer = ann.SegmentWriter(self._data(f"s-{self.version}.f16"), next_s, dim)
        rows = _Rows()
        db: sqlite3.Connection | None = None
        removed_p = np.zeros(0, dtype=np.int64)
        if prev is None:
            database = self._data(f"db-{self.version}.sqlite")
            db = sqlite3.connect(database)
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.executescript(SCHEMA)
        else:
            database = self.index_dir / str(pm["database"])
        articles = 0
        try:
            articles = self._write_rows(changes.upserts, p_writer, s_writer, rows, db)
            p_writer.finish()
            s_writer.finish()
        finally:
            p_writer.close()
            s_writer.close()
        new_p = np.arange(next_p, next_p + p_writer.count, dtype=np.int64)
        for writer, segments in ((p_writer, p_segments), (s_writer, s_segments)):
            if writer.count:
                segments.append([self._rel(writer.ids_path), self._rel(writer.path)])
                self._written += [writer.ids_path, writer.path]
            else:
                writer.path.unlink()
                writer.ids_path.unlink()
        if db is not None:
            rows.flush(db)
            db.execute("INSERT INTO passages_fts(passages_fts) VALUES ('optimize')")
            db.execute("INSERT INTO terms SELECT term, doc FROM passages_vocab")
            _set_state(db, self.version)
            db.commit()
            db.execute("PRAGMA journal_mode = WAL")
            db.close()
            self._written.append(database)
            counts = {"articles": articles, "passages": len(new_p), "sentences": s_writer.count}
        else:
            assert prev is not None
            self._pending, self._removals = rows, sorted(set(changes.removals))
            removed_p = prev.row_ids("passages", self._removals)
            removed_s = prev.row_ids("sentences", self._removals)
            old = pm["counts"]
            gone = prev.held_articles(self._removals)
            counts = {
                "articles": old["articles"] - gone + articles,
                "passages": old["passages"] - len(removed_p) + len(new_p),
                "sentences": old["sentences"] - len(removed_s) + s_writer.count,
            }
            new_s = np.arange(next_s, next_s + s_writer.count, dtype=np.int64)
            if len(p_segments) > ann.MAX_SEGMENTS:
                p_segments = self._merge_tail(prev, "passages", p_segments, removed_p, new_p, dim)
            if len(s_segments) > ann.MAX_SEGMENTS:
                s_segments = self._merge_tail(prev, "sentences", s_segments, removed_s, new_s, dim)
        dense = self._dense(prev, p_segments, new_p, removed_p, counts["passages"], dim)
        manifest.update(
            database=self._rel(database),
            next_ids=[int(next_p + p_writer.count), int(next_s + s_writer.count)],
            previous=prev.version if prev is not None else None,
        )
        manifest["counts"] = {**manifest.get("counts", {}), **counts}
        manifest["files"] = {
            "passage_segments": p_segments,
            "sentence_segments": s_segments,
            **dense["files"],
        }
        manifest["ann"] = dense["ann"]
        known = prev.manifest[integrity.CHECKSUMS]["files"] if prev is not None else None
        self.manifest = integrity.write_manifest(  # last: it seals the files written before
            self.path / MANIFEST,
            manifest,
            root=self.index_dir,
            names=manifest_files(manifest)[1:],  # the database changes in place: SQLite checks it
            known=known,
        )
        os.symlink(os.path.relpath(database, self.path), self.path / META)

    def _merge_tail(
        self,
        prev: IndexStore,
        table: str,
        segments: list[list[str]],
        removed: np.ndarray,
        new: np.ndarray,
        dim: int,
    ) -> list[list[str]]:
        """Every segment after the first merged into one holding only live rows."""
        head, tail = segments[:1], segments[1:]
        vectors = ann.VectorTable([(self.index_dir / i, self.index_dir / v) for i, v in tail], dim)
        live = np.union1d(np.setdiff1d(prev.ids_from(table, int(vectors.ids[0])), removed), new)
        suffix = Path(tail[0][1]).suffix
        path = self._data(f"{table[0]}-{self.version}-merged{suffix}")
        writer = ann.SegmentWriter(path, 0, dim)
        try:
            for _, part in vectors.chunks(live):
                writer.add(part)
            writer.finish(ids=live)
        finally:
            writer.close()
        self._written += [writer.ids_path, writer.path]
        return [*head, [self._rel(writer.ids_path), self._rel(writer.path)]]

    def _write_rows(
        self,
        upserts: Iterable[ArticleRows],
        p_writer: ann.SegmentWriter,
        s_writer: ann.SegmentWriter,
        rows: _Rows,
        db: sqlite3.Connection | None,
    ) -> int:
        articles = 0
        for item in upserts:
            if len(item.passage_vectors) != len(item.passages) or len(item.sentence_vectors) != len(
                item.sentences
            ):
                raise ValueError(f"{item.article.id}: vectors do not match its spans")
            p_ids = p_writer.add(item.passage_vectors)
            s_ids = s_writer.add(item.sentence_vectors)
            rows.add(item, p_ids, s_ids)
            articles += 1
            if db is not None and len(rows) >= 50_000:
                rows.flush(db)
        return articles

    def _dense(
        self,
        prev: IndexStore | None,
        p_segments: list[list[str]],
        new_p: np.ndarray,
        removed: np.ndarray,
        live: int,
        dim: int,
    ) -> dict[str, Any]:
        """The dense index of the new version: the previous base plus changes (`removed`: the
        ids of the passages removed from it), or a new base."""
        files: dict[str, Any] = {}
        if prev is not None:
            old = prev.manifest["ann"]
            old_delta = prev.delta_ids
            delta = np.union1d(np.setdiff1d(old_delta, removed), new_p)
            tomb = np.union1d(prev.tombstones, np.setdiff1d(removed, old_delta))
            kind = ann.choose_kind(live, old["kind"])
            base_n = int(old["base_passages"])
            if kind == old["kind"] and not ann.needs_compaction(base_n, len(delta), len(tomb)):
                files["ann"] = prev.manifest["files"]["ann"]
                for key, ids in (("delta", delta), ("tombstones", tomb)):
                    if len(ids):
                        path = self._data(f"{key}-{self.version}.npy")
                        np.save(path, ids.astype(np.int64))
                        files[key] = self._rel(path)
                        self._written.append(path)
                changed = {"delta": len(delta), "tombstones": len(tomb)}
                return {"files": files, "ann": {**old, **changed}}
            live_ids = np.union1d(np.setdiff1d(prev.live_passage_ids(), removed), new_p)
        else:
            live_ids = new_p
            kind = ann.choose_kind(len(live_ids))
        # Only a new base reads the passage vectors (every segment's ids are loaded).
        table = ann.VectorTable(
            [(self.index_dir / i, self.index_dir / v) for i, v in p_segments], dim
        )
        index, params = ann.build_base(table, live_ids.astype(np.int64), dim, kind)
        path = self._data(f"ann-{self.version}.faiss")
        faiss.write_index(index, str(path))
        files["ann"] = self._rel(path)
        self._written.append(path)
        params["crossover"] = ann.ANN_MIN_PASSAGES
        return {"files": files, "ann": {**params, "delta": 0, "tombstones": 0}}

    def commit(self) -> str | None:
        """Make the written version live and delete the versions and data files neither it nor
        the one it replaced uses; returns the version it replaced, if any."""
        integrity.settle_modes(self.path)
        for path in self._written:
            os.chmod(path, integrity.sane_mode(path))
            _fsync_file(path)
        _fsync_file(self.path / MANIFEST)
        _fsync_dir(self.path)
        _fsync_dir(self.index_dir / DATA)
        previous = read_current(self.index_dir)
        os.replace(self.path, self.final)
        _fsync_dir(self.final.parent)
        if self._pending is not None:
            self._apply(self._pending)
        write_current(self.index_dir, self.version)
        prune_versions(self.index_dir, keep=(self.version, previous))
        return previous

    def _apply(self, rows: _Rows) -> None:
        """Every row change and the new version's name, in one transaction: the switch."""
        db = sqlite3.connect(self.index_dir / str(self.manifest["database"]), isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("BEGIN IMMEDIATE")
            gone: list[tuple[Any, ...]] = []
            for article_id in self._removals:
                gone += db.execute(
                    "SELECT rowid, title, text FROM passages_fts WHERE rowid IN "
                    "(SELECT id FROM passages WHERE article_id = ?)",
                    (article_id,),
                ).fetchall()
                db.execute(
                    "DELETE FROM passages_fts WHERE rowid IN "
                    "(SELECT id FROM passages WHERE article_id = ?)",
                    (article_id,),
                )
                db.execute("DELETE FROM passages WHERE article_id = ?", (article_id,))
                db.execute("DELETE FROM sentences WHERE article_id = ?", (article_id,))
                db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            _insert(db, rows.articles, rows.passages, rows.sentences, rows.fts)
            db.executemany(
                "INSERT INTO terms VALUES (?, ?) "
                "ON CONFLICT(term) DO UPDATE SET doc = doc + excluded.doc",
                _term_counts(rows.fts),
            )
            db.executemany(
                "UPDATE terms SET doc = doc - ? WHERE term = ?",
                [(doc, term) for term, doc in _term_counts(gone)],
            )
            db.execute("DELETE FROM terms WHERE doc <= 0")
            _set_state(db, self.version)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def abort(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        for path in self._written:
            path.unlink(missing_ok=True)


def write_current(index_dir: Path, version: str) -> None:
    """Point CURRENT at a version, atomically."""
    tmp = index_dir / (CURRENT + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(version + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    integrity.tighten(tmp)
    os.replace(tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build per index folder at a time, across processes; released if the process dies."""
    with open(integrity.make_index_dir(index_dir, "build.lock"), "a+") as handle:
        integrity.tighten(handle.fileno())
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ReindexInProgressError(f"another build of {index_dir} is running") from exc
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class LocalBackend:
    """The local store as a backend: open the live version, apply a change set to it."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)

    def open(self, model_name: str, dimension: int) -> IndexStore:
        return IndexStore.open(self.index_dir, model_name, dimension)

    def apply(self, changes: ChangeSet, manifest: dict[str, Any], version: str) -> str:
        """Write and switch to a new version named `version` holding the changes."""
        with build_lock(self.index_dir):
            clean_partial_versions(self.index_dir)
            previous = None
            if not changes.reset:
                previous = IndexStore.open(
                    self.index_dir,
                    str(manifest["model"]),
                    int(manifest["dimension"]),
                    load_dense=False,
                    full_check=True,  # nothing is reused from a version that fails its check
                )
            try:
                writer = VersionWriter(self.index_dir, version, previous)
                writer.write(changes, dict(manifest))
            finally:
                if previous is not None:
                    previous.close()
            writer.commit()
        return version


def _files_of(version: Path) -> list[str]:
    return manifest_files(load_manifest(version))


def clean_partial_versions(index_dir: Path) -> list[str]:
    """Remove what builds that never finished left, versions no longer needed and the data
    files only they used; returns the names removed. Call it under the build lock."""
    index_dir = Path(index_dir)
    return integrity.tidy(
        index_dir,
        current=CURRENT,
        versions=VERSIONS,
        partial_suffix=PARTIAL_SUFFIX,
        data=DATA,
        live=read_current(index_dir),
        files_of=_files_of,
    )


def prune_versions(index_dir: Path, keep: Iterable[str | None]) -> list[str]:
    """Delete every version folder except those in `keep` (the live one first), then every
    data file no kept version uses; returns the version names removed."""
    index_dir = Path(index_dir)
    kept = list(dict.fromkeys(k for k in keep if k))
    versions = index_dir / VERSIONS
    removed = []
    if versions.is_dir():
        for child in sorted(versions.iterdir()):
            if child.name not in kept and (child.is_dir() or child.is_symlink()):
                integrity.remove(child)
                removed.append(child.name)
    integrity.prune_data(index_dir, DATA, [versions / name for name in kept], _files_of)
    return removed
