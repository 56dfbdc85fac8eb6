"""The on-disk index: versioned folders of SQLite metadata, FAISS vectors and a manifest.

Layout of `index_dir`:
    CURRENT                    the name of the live version (replaced atomically)
    build.lock                 held by the one running build
    versions/<version>/        manifest.json, meta.sqlite, passages.faiss,
                               passage_vectors.npy, sentence_vectors.npy
A version folder never changes once CURRENT names it; a build writes a new one beside it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index import integrity
from index.errors import IndexCorruptError, IndexMismatchError, IndexNotBuiltError
from index.types import Article, ArticleInfo, Passage

FORMAT_VERSION = 1
CURRENT = "CURRENT"
VERSIONS = "versions"
PARTIAL_SUFFIX = ".partial"
MANIFEST = "manifest.json"
META = "meta.sqlite"
FAISS = "passages.faiss"
PASSAGE_VECTORS = "passage_vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
REBUILD_HINT = "rebuild it with `citebot index build --rebuild`"

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, path TEXT, title TEXT NOT NULL, url TEXT, published TEXT,
    author TEXT, source TEXT, text TEXT NOT NULL, content_hash TEXT NOT NULL
);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    "start" INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX passages_article ON passages(article_id, ordinal);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    "start" INTEGER NOT NULL, "end" INTEGER NOT NULL
);
CREATE INDEX sentences_article ON sentences(article_id, "start");
CREATE VIRTUAL TABLE passages_fts USING fts5(
    title, text, tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE passages_vocab USING fts5vocab(passages_fts, 'row');
"""


@dataclass(frozen=True, slots=True)
class SpanRow:
    """A passage or sentence to write: its article, position and offsets."""

    article_id: str
    ordinal: int
    start: int
    end: int


def read_current(index_dir: Path) -> str | None:
    """The live version's name, or None when no index was completed (or CURRENT is damaged)."""
    return integrity.read_current(Path(index_dir) / CURRENT, strict=False)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose output the index depends on."""
    import importlib.metadata as md

    versions = {"faiss": getattr(faiss, "__version__", "?"), "numpy": np.__version__}
    for dist in ("sentence-transformers", "torch"):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            versions[dist] = "not installed"
    return versions


class IndexStore:
    """A read-only view of one complete index version; safe for many threads at once."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest
        self.version = path.name
        uri = path.joinpath(META).resolve().as_uri() + "?mode=ro"
        try:
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise integrity.damaged(path, exc) from exc
        try:
            self._db.execute("SELECT count(*) FROM articles").fetchone()
            self._faiss = faiss.read_index(str(path / FAISS))
            self._passage_vectors = np.load(path / PASSAGE_VECTORS, mmap_mode="r")
            self._sentence_vectors = np.load(path / SENTENCE_VECTORS, mmap_mode="r")
        except (sqlite3.Error, OSError, RuntimeError, ValueError, EOFError) as exc:
            self._db.close()
            raise integrity.damaged(path, exc) from exc
        self._lock = threading.Lock()
        self._check_counts()

    def _check_counts(self) -> None:
        counts = self.manifest.get("counts", {})
        passages, sentences = self._count("passages"), self._count("sentences")
        dim = int(self.manifest["dimension"])
        problems = []
        if counts.get("passages") != passages or self._faiss.ntotal != passages:
            problems.append("passage counts differ")
        if self._passage_vectors.shape != (passages, dim):
            problems.append("passage vectors do not match the passages")
        if self._sentence_vectors.shape != (sentences, dim):
            problems.append("sentence vectors do not match the sentences")
        if problems:
            self.close()
            raise IndexCorruptError(f"index {self.path}: {', '.join(problems)}; {REBUILD_HINT}")

    @classmethod
    def open(
        cls, index_dir: Path, model_name: str, dimension: int, *, full_check: bool | None = None
    ) -> IndexStore:
        """Open the live version; raises IndexNotBuiltError, IndexMismatchError or corrupt.

        Its files are checked against the manifest's checksums: sizes always, hashes when
        `full_check` (None: when the index is small enough for that to be quick).
        """
        index_dir = Path(index_dir)
        version = integrity.read_current(
            index_dir / CURRENT, strict=True, versions=index_dir / VERSIONS
        )
        if version is None:
            raise IndexNotBuiltError(
                f"no index in {index_dir}: build it with `citebot index build`"
            )
        path = index_dir / VERSIONS / version
        manifest = load_manifest(path)
        check_compatible(manifest, model_name, dimension)
        integrity.verify_files(path, manifest, full=full_check)
        return cls(path, manifest)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> IndexStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def size_bytes(self) -> int:
        """Bytes on disk of this version's files."""
        return sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _count(self, table: str) -> int:
        return int(self._query(f"SELECT count(*) FROM {table}")[0][0])

    # Articles

    def articles(self) -> list[ArticleInfo]:
        rows = self._query(
            "SELECT a.id, a.title, a.path, a.url, a.published, count(p.id) FROM articles a "
            "LEFT JOIN passages p ON p.article_id = a.id GROUP BY a.id ORDER BY a.id"
        )
        return [ArticleInfo(*row) for row in rows]

    def article(self, article_id: str) -> Article | None:
        rows = self._query(
            "SELECT id, title, text, content_hash, path, url, published, author, source "
            "FROM articles WHERE id = ?",
            (article_id,),
        )
        return Article(*rows[0]) if rows else None

    def article_count(self) -> int:
        return self._count("articles")

    # Passages

    def passage_count(self) -> int:
        return int(self._faiss.ntotal)

    def passages(self, ids: Sequence[int]) -> list[Passage]:
        """The passages with these ids, in the same order; unknown ids are left out."""
        wanted = [int(i) for i in ids]
        if not wanted:
            return []
        marks = ",".join("?" * len(set(wanted)))
        rows = self._query(
            f'SELECT id, article_id, ordinal, "start", "end", text FROM passages '
            f"WHERE id IN ({marks})",
            sorted(set(wanted)),
        )
        by_id = {row[0]: Passage(*row) for row in rows}
        return [by_id[i] for i in wanted if i in by_id]

    def article_passages(self, article_id: str) -> list[Passage]:
        rows = self._query(
            'SELECT id, article_id, ordinal, "start", "end", text FROM passages '
            "WHERE article_id = ? ORDER BY ordinal",
            (article_id,),
        )
        return [Passage(*row) for row in rows]

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(passage id, cosine) of the k passages nearest the normalised vector, best first."""
        if k <= 0 or self._faiss.ntotal == 0:
            return []
        query = np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        scores, ids = self._faiss.search(query, min(k, self._faiss.ntotal))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def lexical_search(self, match: str, k: int) -> list[tuple[int, float]]:
        """(passage id, -bm25) for an FTS5 MATCH expression, best first.

        The caller builds and quotes the expression; a malformed one raises sqlite3.Error.
        """
        if k <= 0:
            return []
        rows = self._query(
            "SELECT rowid, -bm25(passages_fts) AS score FROM passages_fts "
            "WHERE passages_fts MATCH ? ORDER BY score DESC LIMIT ?",
            (match, k),
        )
        return [(int(i), float(s)) for i, s in rows]

    def doc_freq(self, terms: Sequence[str]) -> dict[str, int]:
        """Number of passages holding each FTS term (already tokenised and stemmed); 0 if none."""
        unique = sorted(set(terms))
        if not unique:
            return {}
        marks = ",".join("?" * len(unique))
        rows = self._query(
            f"SELECT term, doc FROM passages_vocab WHERE term IN ({marks})",
            unique,
        )
        found = {term: int(doc) for term, doc in rows}
        return {term: found.get(term, 0) for term in unique}

    # Sentences

    def sentences_in(self, article_id: str, start: int, end: int) -> list[tuple[int, int, int]]:
        """(sentence id, start, end) of the article's sentences lying within [start, end)."""
        rows = self._query(
            'SELECT id, "start", "end" FROM sentences WHERE article_id = ? '
            'AND "start" >= ? AND "end" <= ? ORDER BY ordinal',
            (article_id, start, end),
        )
        return [(int(i), int(s), int(e)) for i, s, e in rows]

    def article_sentences(self, article_id: str) -> list[tuple[int, int, int]]:
        rows = self._query(
            'SELECT id, "start", "end" FROM sentences WHERE article_id = ? ORDER BY ordinal',
            (article_id,),
        )
        return [(int(i), int(s), int(e)) for i, s, e in rows]

    def sentence_vectors(self, ids: Sequence[int]) -> np.ndarray:
        """float32 rows for these sentence ids, in the same order."""
        index = np.asarray(ids, dtype=np.int64)
        return np.array(self._sentence_vectors[index], dtype=np.float32)

    def passage_vectors(self, ids: Sequence[int]) -> np.ndarray:
        index = np.asarray(ids, dtype=np.int64)
        return np.array(self._passage_vectors[index], dtype=np.float32)

    # For the builder: what an unchanged article can reuse

    def content_hashes(self) -> dict[str, str]:
        return dict(self._query("SELECT id, content_hash FROM articles"))

    def article_spans(self, table: str, article_id: str) -> list[tuple[int, int, int]]:
        """(id, start, end) rows of `passages` or `sentences` for one article, in order."""
        if table not in ("passages", "sentences"):
            raise ValueError(table)
        rows = self._query(
            f'SELECT id, "start", "end" FROM {table} WHERE article_id = ? ORDER BY ordinal',
            (article_id,),
        )
        return [(int(i), int(s), int(e)) for i, s, e in rows]


def load_manifest(path: Path) -> dict[str, Any]:
    """The version's manifest, its checksum and field types checked."""
    return integrity.read_manifest(path / MANIFEST)


def check_compatible(manifest: dict[str, Any], model_name: str, dimension: int) -> None:
    """Raise IndexMismatchError unless the index was built by this model and format."""
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index has format version {manifest.get('format_version')}, this citebot "
            f"reads version {FORMAT_VERSION}; {REBUILD_HINT}"
        )
    if manifest["model"] != model_name or int(manifest["dimension"]) != dimension:
        raise IndexMismatchError(
            f"the index was built with {manifest['model']} ({manifest['dimension']} dimensions) "
            f"but the embedder is {model_name} ({dimension} dimensions); {REBUILD_HINT}"
        )


class VersionWriter:
    """Writes one new version folder, then makes it live with an atomic switch of CURRENT."""

    def __init__(self, index_dir: Path, version: str) -> None:
        self.index_dir = Path(index_dir)
        self.version = version
        self.final = self.index_dir / VERSIONS / version
        self.path = self.final.with_name(version + PARTIAL_SUFFIX)
        integrity.make_dirs(self.path, private=True)  # opened up by commit()

    def write(
        self,
        articles: Sequence[Article],
        passages: Sequence[SpanRow],
        sentences: Sequence[SpanRow],
        passage_vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        manifest: dict[str, Any],
    ) -> None:
        """Write every file of the version; passage and sentence ids are their positions."""
        texts = {a.id: a.text for a in articles}
        titles = {a.id: a.title for a in articles}
        db = sqlite3.connect(self.path / META)
        try:
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.executescript(SCHEMA)
            db.executemany(
                "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        a.id,
                        a.path,
                        a.title,
                        a.url,
                        a.published,
                        a.author,
                        a.source,
                        a.text,
                        a.content_hash,
                    )
                    for a in articles
                ),
            )
            db.executemany(
                "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?)",
                (
                    (
                        i,
                        p.article_id,
                        p.ordinal,
                        p.start,
                        p.end,
                        texts[p.article_id][p.start : p.end],
                    )
                    for i, p in enumerate(passages)
                ),
            )
            db.executemany(
                "INSERT INTO sentences VALUES (?, ?, ?, ?, ?)",
                ((i, s.article_id, s.ordinal, s.start, s.end) for i, s in enumerate(sentences)),
            )
            db.executemany(
                "INSERT INTO passages_fts(rowid, title, text) VALUES (?, ?, ?)",
                (
                    (i, titles[p.article_id], texts[p.article_id][p.start : p.end])
                    for i, p in enumerate(passages)
                ),
            )
            db.execute("INSERT INTO passages_fts(passages_fts) VALUES ('optimize')")
            db.commit()
        finally:
            db.close()
        dim = int(manifest["dimension"])
        pvec = np.ascontiguousarray(passage_vectors, dtype=np.float32).reshape(-1, dim)
        svec = np.ascontiguousarray(sentence_vectors, dtype=np.float32).reshape(-1, dim)
        np.save(self.path / PASSAGE_VECTORS, pvec)
        np.save(self.path / SENTENCE_VECTORS, svec)
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        if len(pvec):
            index.add_with_ids(pvec, np.arange(len(pvec), dtype=np.int64))
        faiss.write_index(index, str(self.path / FAISS))
        integrity.write_manifest(self.path / MANIFEST, manifest)  # last: it seals the others

    def commit(self) -> str | None:
        """Make the written version live; returns the version it replaced, if any."""
        integrity.settle_modes(self.path)
        for file in self.path.iterdir():
            _fsync_file(file)
        _fsync_dir(self.path)
        os.replace(self.path, self.final)
        _fsync_dir(self.final.parent)
        previous = read_current(self.index_dir)
        tmp = self.index_dir / (CURRENT + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(self.version + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        integrity.tighten(tmp)
        os.replace(tmp, self.index_dir / CURRENT)
        _fsync_dir(self.index_dir)
        return previous

    def abort(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def clean_partial_versions(index_dir: Path) -> list[str]:
    """Remove what builds that never finished left, and versions no longer needed."""
    return integrity.tidy(
        Path(index_dir), current=CURRENT, versions=VERSIONS, partial_suffix=PARTIAL_SUFFIX
    )


def prune_versions(index_dir: Path, keep: Iterable[str | None]) -> list[str]:
    """Delete every complete version folder except those in `keep`; returns their names."""
    keep_set = {k for k in keep if k}
    versions = Path(index_dir) / VERSIONS
    removed = []
    for child in versions.iterdir():
        if child.is_dir() and child.name not in keep_set:
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child.name)
    return removed
