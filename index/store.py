"""The local index backend: one SQLite database updated in place, immutable vector files, and
a manifest per version.

Layout of `index_dir`:
    CURRENT                    the live version's name (written atomically after each switch)
    build.lock                 held by the one running build
    data/                      db-<v>.sqlite (articles, passages, sentences, FTS5; WAL mode),
                               p-<v>.ids.npy / p-<v>.vec.npy (passage vectors, float32),
                               s-<v>.ids.npy / s-<v>.vec.npy (sentence vectors, float16),
                               ann-<v>.faiss, delta-<v>.npy, tomb-<v>.npy (dense index)
    versions/<version>/        manifest.json (lists every data file the version uses, with
                               the size and xxh3 hash of each but the database, and a hash of
                               its own) and meta.sqlite, a link to its database

Files in data/ never change once written, except the database. A full build writes a new
database and switches CURRENT to it. An incremental build writes the new rows' vectors and
its manifest first, then applies every row change in one SQLite transaction that also names
the new version in the database's `state` table: that commit is the switch, so a kill before
it leaves the previous version serving and a kill after it leaves the new one complete.
Each open store holds one read transaction for its whole life, so it keeps seeing its own
version (WAL snapshots) while newer ones are committed and old rows deleted beside it.

Opening checks the files against the manifest and the database with SQLite's own checks
(`index.integrity`; how much depends on size and on whether a build is about to reuse them);
any damage is one IndexCorruptError line ending in the command that fixes it.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index import ann, integrity
from index.errors import CitebotError, IndexCorruptError, IndexMismatchError, IndexNotBuiltError
from index.types import Article, ArticleInfo, Passage

FORMAT_VERSION = 2
CURRENT = "CURRENT"
VERSIONS = "versions"
DATA = "data"
PARTIAL_SUFFIX = ".partial"
MANIFEST = "manifest.json"
META = "meta.sqlite"
SENTENCE_DTYPE = np.float16  # halves the largest file; cosines move by < 1e-3
REBUILD_HINT = integrity.FIX
# Lexical search scores every passage that holds any of the words, so its cost grows with their
# document frequencies: at most this many postings are scored, the rarest words first (a word in
# many passages has a small idf and moves the ranking little). The rarest word always stays.
LEXICAL_POSTINGS = 5_000  # ~3.5 µs each on a busy 2-core machine: ~18 ms at most
# In an index this large a question's rarest word can alone hold far more postings (a word in 2%
# of a million passages: 20,000), so there the budget holds for it too: only the passages last
# added among those holding it are scored. Smaller indexes always rank every posting of it.
LARGE_INDEX = 50_000
_PHRASE = re.compile(r'"((?:[^"]|"")*)"')
_OR_OF_PHRASES = re.compile(r'^"(?:[^"]|"")*"(?: OR "(?:[^"]|"")*")*$')

TOKENIZER = "porter unicode61 remove_diacritics 2"
SCHEMA = f"""
CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
    title, text, tokenize = '{TOKENIZER}'
);
CREATE VIRTUAL TABLE passages_vocab USING fts5vocab(passages_fts, 'row');
CREATE TABLE terms (term TEXT PRIMARY KEY, doc INTEGER NOT NULL) WITHOUT ROWID;
"""


TABLES = ("state", "articles", "passages", "sentences", "passages_fts", "terms")


def read_current_file(index_dir: Path) -> str | None:
    """The version CURRENT names; None if there is none or CURRENT is damaged."""
    return integrity.read_current(Path(index_dir) / CURRENT, strict=False)


def _database_version(path: Path) -> str | None:
    if not path.is_file():
        return None
    integrity.check_database_header(path)
    db = sqlite3.connect(path)
    try:
        row = db.execute("SELECT value FROM state WHERE key = 'version'").fetchone()
    finally:
        db.close()
    return str(row[0]) if row else None


def read_current(index_dir: Path) -> str | None:
    """The live version's name, or None when no index was ever completed (or CURRENT is
    damaged: a build then starts afresh).

    CURRENT names the version; when an incremental build committed a newer version to the
    same database but was stopped before rewriting CURRENT, the database's version is live.
    """
    index_dir = Path(index_dir)
    named = read_current_file(index_dir)
    if named is None:
        return None
    try:
        manifest = load_manifest(index_dir / VERSIONS / named)
        database = index_dir / str(manifest["database"])
        live = _database_version(database)
    except (CitebotError, KeyError, sqlite3.Error):
        return named
    if (
        live
        and live != named
        and integrity.VERSION_NAME.fullmatch(live)
        and (index_dir / VERSIONS / live / MANIFEST).is_file()
    ):
        return live
    return named


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


def _unreadable(path: Path, exc: BaseException) -> IndexCorruptError:
    return integrity.damaged(path, f"unreadable ({exc})")


def _snapshot(database: Path) -> tuple[sqlite3.Connection, str]:
    """A connection holding a read transaction on the database, and the version it sees
    (`IndexStore.open` has checked its header already)."""
    try:
        db = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
    except sqlite3.Error as exc:
        raise _unreadable(database, exc) from exc
    try:
        db.execute("PRAGMA query_only = 1")
        db.execute("BEGIN")
        row = db.execute("SELECT value FROM state WHERE key = 'version'").fetchone()
        if row is None:
            raise sqlite3.DatabaseError("no version recorded")
    except sqlite3.Error as exc:
        db.close()
        raise _unreadable(database, exc) from exc
    return db, str(row[0])


class IndexStore:
    """A read-only view of one index version; safe for many threads at once."""

    def __init__(
        self,
        index_dir: Path,
        version: str,
        manifest: dict[str, Any],
        db: sqlite3.Connection,
        *,
        load_dense: bool = True,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.version = version
        self.path = self.index_dir / VERSIONS / version
        self.manifest = manifest
        self._db = db
        self._lock = threading.Lock()
        self._dense: ann.DenseIndex | None = None
        self._stemmer: Any = None
        dim = int(manifest["dimension"])
        files = manifest.get("files", {})
        try:
            self.passage_table = ann.VectorTable(self._segments(files["passage_segments"]), dim)
            self.sentence_table = ann.VectorTable(self._segments(files["sentence_segments"]), dim)
            self.delta_ids = self._ids(files.get("delta"))
            self.tombstones = self._ids(files.get("tombstones"))
            self._live = int(manifest["ann"]["base_passages"]) - len(self.tombstones)
            self._live += len(self.delta_ids)
            if load_dense:
                self._dense = self._load_dense()
        except (KeyError, TypeError, OSError, RuntimeError, ValueError, EOFError) as exc:
            self._db.close()
            raise _unreadable(self.path, exc) from exc
        except BaseException:
            self._db.close()
            raise
        self._check_counts()

    def _load_dense(self) -> ann.DenseIndex:
        base = faiss.read_index(str(self.index_dir / self.manifest["files"]["ann"]))
        if base.ntotal != int(self.manifest["ann"]["base_passages"]):
            raise ValueError("the dense index does not hold its passages")
        return ann.DenseIndex(
            base, self.manifest["ann"], self.passage_table, self.delta_ids, self.tombstones
        )

    @property
    def dense(self) -> ann.DenseIndex:
        """The dense index, loaded on first use when the store was opened without it."""
        if self._dense is None:
            with self._lock:
                if self._dense is None:
                    try:
                        self._dense = self._load_dense()
                    except (OSError, RuntimeError, ValueError, EOFError) as exc:
                        raise _unreadable(self.path, exc) from exc
        return self._dense

    def _segments(self, pairs: list[list[str]]) -> list[tuple[Path, Path]]:
        return [(self.index_dir / ids, self.index_dir / vecs) for ids, vecs in pairs]

    def _ids(self, rel: str | None) -> np.ndarray:
        if not rel:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(np.load(self.index_dir / rel), dtype=np.int64)

    def _check_counts(self) -> None:
        counts = self.manifest.get("counts", {})
        try:
            passages, sentences = self._count("passages"), self._count("sentences")
        except sqlite3.Error as exc:
            self._db.close()
            raise _unreadable(self.path, exc) from exc
        problems = []
        if counts.get("passages") != passages or self._live != passages:
            problems.append("passage counts differ")
        if counts.get("sentences") != sentences:
            problems.append("sentence counts differ")
        if len(self.passage_table) < passages or len(self.sentence_table) < sentences:
            problems.append("vectors are missing")
        if problems:
            self.close()
            raise integrity.damaged(self.path, ", ".join(problems))

    @classmethod
    def open(
        cls,
        index_dir: Path,
        model_name: str,
        dimension: int,
        *,
        load_dense: bool = True,
        full_check: bool | None = None,
        db_check: str | None = None,
    ) -> IndexStore:
        """Open the live version; raises IndexNotBuiltError, IndexMismatchError or corrupt.

        `load_dense=False` leaves the dense index unread until a search needs it (builds).
        The version's files are checked against its manifest: sizes always, hashes when
        `full_check` (None: while that is quick). The database is checked by SQLite at the
        level `integrity.database_check_level` picks for `full_check` (True: before a build
        reuses it), or at `db_check` ("schema", "pages", "all").
        """
        index_dir = Path(index_dir)
        named = integrity.read_current(
            index_dir / CURRENT, strict=True, versions=index_dir / VERSIONS
        )
        if named is None:
            raise IndexNotBuiltError(
                f"no index in {index_dir}: build it with `citebot index build`"
            )
        manifest = load_manifest(index_dir / VERSIONS / named)
        check_compatible(manifest, model_name, dimension)
        database = index_dir / str(manifest["database"])
        integrity.check_database_header(database)
        level = db_check or integrity.database_check_level(database, full_check)
        integrity.check_database(database, tables=TABLES, level=level, content=_rows_problem)
        db, live = _snapshot(database)
        try:
            if live != named:  # committed by a build stopped before it rewrote CURRENT
                path = index_dir / VERSIONS / live
                if not integrity.VERSION_NAME.fullmatch(live) or not path.is_dir():
                    raise integrity.damaged(database, f"it names version {live:.60}, not there")
                manifest = load_manifest(path)
                check_compatible(manifest, model_name, dimension)
                if index_dir / str(manifest["database"]) != database:
                    raise integrity.damaged(index_dir, "versions disagree on their database")
            integrity.verify_files(index_dir, manifest, full=full_check)
        except BaseException:
            db.close()
            raise
        return cls(index_dir, live, manifest, db, load_dense=load_dense)

    def close(self) -> None:
        with self._lock:
            self._db.close()  # ends the read transaction: the snapshot is released
            if self._stemmer is not None:
                self._stemmer.close()

    def __enter__(self) -> IndexStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def data_files(self) -> list[Path]:
        """Every file this version reads (the database included)."""
        return [self.index_dir / rel for rel in manifest_files(self.manifest)]

    def size_bytes(self) -> int:
        """Bytes on disk of this version's files."""
        total = 0
        for path in self.data_files():
            for file in (path, path.with_name(path.name + "-wal")):
                if file.is_file():
                    total += file.stat().st_size
        return total

    def _query_in(self, sql: str, values: Iterable[Any]) -> list[Any]:
        """Rows of `sql` for the distinct values, its `{}` a list of them (500 at a time)."""
        unique = sorted(set(values))
        rows: list[Any] = []
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            rows += self._query(sql.format(",".join("?" * len(part))), part)
        return rows

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """Rows of a query; damage found in the database on the way is an IndexCorruptError."""
        with self._lock:
            try:
                return self._db.execute(sql, tuple(params)).fetchall()
            except sqlite3.DatabaseError as exc:
                code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
                if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
                    database = self.index_dir / str(self.manifest["database"])
                    raise integrity.damaged(database.parent, f"{database.name}: {exc}") from exc
                raise

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

    def content_hashes(self) -> dict[str, str]:
        return dict(self._query("SELECT id, content_hash FROM articles"))

    # Passages

    def passage_count(self) -> int:
        return self._live

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
        return self.dense.search(vector, k)

    def lexical_search(self, match: str, k: int) -> list[tuple[int, float]]:
        """(passage id, -bm25) for an FTS5 MATCH expression, best first.

        The caller builds and quotes the expression; a malformed one raises sqlite3.Error.
        """
        if k <= 0:
            return []
        postings = 0
        if self._live > LEXICAL_POSTINGS:
            match, postings = self._rarest_words(match)
        if self._live >= LARGE_INDEX and postings > LEXICAL_POSTINGS:
            rows = self._query(
                "SELECT rowid, score FROM (SELECT rowid, -bm25(passages_fts) AS score "
                "FROM passages_fts WHERE passages_fts MATCH ? ORDER BY rowid DESC LIMIT ?) "
                "ORDER BY score DESC LIMIT ?",
                (match, LEXICAL_POSTINGS, k),
            )
        else:
            rows = self._query(
                "SELECT rowid, -bm25(passages_fts) AS score FROM passages_fts "
                "WHERE passages_fts MATCH ? ORDER BY score DESC LIMIT ?",
                (match, k),
            )
        return [(int(i), float(s)) for i, s in rows]

    def lexical_any(self, match: str) -> bool:
        """Whether any passage matches an FTS5 MATCH expression (a malformed one raises
        sqlite3.Error); unranked, so it stops at the first match instead of scoring them all."""
        rows = self._query(
            "SELECT 1 FROM passages_fts WHERE passages_fts MATCH ? LIMIT 1",
            (match,),
        )
        return bool(rows)

    def article_matches(self, article_id: str, matches: Sequence[str]) -> list[bool]:
        """For each FTS5 MATCH expression, whether a passage of the article matches it (a
        malformed one raises sqlite3.Error). Each is looked for within the article's rowids
        only, so a common word costs no more than a rare one."""
        ids = {
            row[0]
            for row in self._query("SELECT id FROM passages WHERE article_id = ?", (article_id,))
        }
        if not ids or not matches:
            return [False] * len(matches)
        low, high = min(ids), max(ids)
        out = []
        for match in matches:
            rows = self._query(
                "SELECT rowid FROM passages_fts WHERE passages_fts MATCH ? "
                "AND rowid BETWEEN ? AND ?",
                (match, low, high),
            )
            out.append(any(row[0] in ids for row in rows))
        return out

    def _rarest_words(self, match: str) -> tuple[str, int]:
        """An OR of quoted words cut to its rarest words within LEXICAL_POSTINGS postings, and
        the postings of the words kept; other expressions unchanged (postings 0: not counted)."""
        if not _OR_OF_PHRASES.match(match):
            return match, 0
        phrases = _PHRASE.findall(match)
        if self._stemmer is None:
            from index.question import Stemmer

            self._stemmer = Stemmer()
        stems = self._stemmer.stems([p.replace('""', '"') for p in phrases])
        freq = self.doc_freq([t for st in stems for t in st])
        cost = [sum(freq[t] for t in st) for st in stems]
        keep: list[int] = []
        total = 0
        for i in sorted(range(len(phrases)), key=lambda i: cost[i]):
            if keep and total + cost[i] > LEXICAL_POSTINGS:
                break
            keep.append(i)
            total += cost[i]
        if len(phrases) < 2:
            return match, total
        return " OR ".join(f'"{phrases[i]}"' for i in sorted(keep)), total

    def doc_freq(self, terms: Sequence[str]) -> dict[str, int]:
        """Number of passages holding each FTS term (already tokenised and stemmed); 0 if none."""
        unique = sorted(set(terms))
        # The terms table holds each term's count (passages_vocab would count its postings).
        found = dict.fromkeys(unique, 0)
        rows = self._query_in("SELECT term, doc FROM terms WHERE term IN ({})", unique)
        found.update((term, int(doc)) for term, doc in rows)
        return found

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
        return self.sentence_table.get(ids)

    def passage_vectors(self, ids: Sequence[int]) -> np.ndarray:
        """float32 rows for these passage ids, in the same order."""
        return self.passage_table.get(ids)

    # For the builder

    def held_articles(self, article_ids: Sequence[str]) -> int:
        """How many of these articles the index holds (their texts are not read)."""
        rows = self._query_in("SELECT count(*) FROM articles WHERE id IN ({})", article_ids)
        return sum(int(count) for (count,) in rows)

    def row_ids(self, table: str, article_ids: Sequence[str]) -> np.ndarray:
        """Ids of `passages` or `sentences` rows of these articles, ascending."""
        if table not in ("passages", "sentences"):
            raise ValueError(table)
        rows = self._query_in(f"SELECT id FROM {table} WHERE article_id IN ({{}})", article_ids)
        return np.array(sorted(int(r[0]) for r in rows), dtype=np.int64)

    def ids_from(self, table: str, first: int) -> np.ndarray:
        """Ids of `passages` or `sentences` rows from `first` on, ascending."""
        if table not in ("passages", "sentences"):
            raise ValueError(table)
        rows = self._query(f"SELECT id FROM {table} WHERE id >= ? ORDER BY id", (first,))
        return np.array([int(r[0]) for r in rows], dtype=np.int64)

    def live_passage_ids(self) -> np.ndarray:
        return np.array([int(r[0]) for r in self._query("SELECT id FROM passages ORDER BY id")])


def manifest_files(manifest: dict[str, Any]) -> list[str]:
    """Every data file a version uses, relative to the index folder, the database first."""
    files = manifest.get("files", {})
    out = [str(manifest["database"])]
    for key in ("passage_segments", "sentence_segments"):
        out += [rel for pair in files.get(key, []) for rel in pair]
    out += [files[key] for key in ("ann", "delta", "tombstones") if files.get(key)]
    return out


def load_manifest(path: Path) -> dict[str, Any]:
    """The manifest of the version folder `path`, its checksum and fields checked; every file
    it reads but the database must have a checksum."""
    manifest = integrity.read_manifest(path / MANIFEST)
    try:
        names = manifest_files(manifest)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise integrity.damaged(path, f"{MANIFEST} does not list its files") from None
    summed = manifest[integrity.CHECKSUMS]["files"]
    for name in names:
        if not isinstance(name, str) or not name.startswith(DATA + "/") or ".." in name:
            raise integrity.damaged(path, f"{MANIFEST} lists {name!r:.60}, not a data file")
    unsummed = [name for name in names[1:] if name not in summed]
    if unsummed:
        raise integrity.damaged(path, f"{MANIFEST} has no checksum of {unsummed[0]}")
    return manifest


def _rows_problem(db: sqlite3.Connection) -> str | None:
    """What is wrong with the rows: a passage's text that is not its article's text between
    its offsets, a sentence outside its article; None if nothing."""
    articles = db.execute("SELECT id, text FROM articles ORDER BY id")
    passages = db.execute(
        'SELECT article_id, "start", "end", text FROM passages ORDER BY article_id, ordinal'
    )
    lengths: dict[str, int] = {}
    pending = passages.fetchone()
    for article_id, text in articles:
        lengths[article_id] = len(text)
        while pending is not None and pending[0] <= article_id:
            owner, start, end, passage = pending
            if owner != article_id or text[start:end] != passage or not 0 <= start <= end:
                return f"passage text of {owner!r:.60} differs from its article"
            pending = passages.fetchone()
    if pending is not None:
        return f"passage of {pending[0]!r:.60} has no article"
    for article_id, start, end in db.execute('SELECT article_id, "start", "end" FROM sentences'):
        if not 0 <= start < end <= lengths.get(article_id, -1):
            return f"a sentence of {article_id!r:.60} lies outside its article"
    row = db.execute(
        "SELECT term FROM (SELECT term, doc FROM terms "
        "EXCEPT SELECT term, doc FROM passages_vocab) UNION ALL "
        "SELECT term FROM (SELECT term, doc FROM passages_vocab "
        "EXCEPT SELECT term, doc FROM terms) LIMIT 1"
    ).fetchone()
    if row is not None:
        return f"its term counts differ from its full-text index at {str(row[0])!r:.40}"
    return None


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
