"""The one facade the bot and the CLI use: answers, articles and live reindexing."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index import integrity
from index.answer import AnswerConfig, Answerer
from index.build import build_index
from index.embed import Embedder
from index.errors import (
    BadArticleError,
    ConfigError,
    IndexNotBuiltError,
    ReindexInProgressError,
)
from index.readers import (
    MAX_ARTICLE_BYTES,
    SUPPORTED_SUFFIXES,
    UnreadableArticleError,
    read_article,
    safe_article_name,
)
from index.store import (
    CURRENT,
    VERSIONS,
    IndexStore,
    load_manifest,
    read_current,
    read_current_file,
)
from index.types import (
    Answer,
    Article,
    ArticleInfo,
    BuildReport,
    ProgressCallback,
    RetrievedPassage,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IndexStats:
    """What `citebot index stats` shows: read from the manifest and SQLite, no model needed."""

    version: str
    articles: int
    passages: int
    sentences: int
    model: str
    dimension: int
    built_at: str
    size_bytes: int
    dense: str = "?"


class _Lease:
    """One open Answerer and the number of callers using it; closed after its last lease."""

    __slots__ = ("answerer", "leases", "retired")

    def __init__(self, answerer: Answerer) -> None:
        self.answerer = answerer
        self.leases = 0
        self.retired = False


class Engine:
    """Answers questions from the current index; rebuilds it and swaps it in without a restart.

    `ask` may be called from many threads while `reindex` runs in another: each call holds a
    lease on the index it started with and is answered wholly from it; a replaced index is
    closed only when its last call returns.
    """

    def __init__(
        self,
        index_dir: Path,
        corpus_dir: Path,
        *,
        embedder: Embedder | None = None,
        config: AnswerConfig | None = None,
        embedder_name: str | None = None,
        max_article_bytes: int = MAX_ARTICLE_BYTES,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.corpus_dir = Path(corpus_dir)
        self._embedder = embedder
        self._embedder_name = embedder_name
        self.config = config or AnswerConfig.from_env()
        self.max_article_bytes = max_article_bytes
        self._live: _Lease | None = None
        self._lock = threading.Lock()  # guards _live and every lease count
        self._load_lock = threading.Lock()  # one index load at a time
        self._embedder_lock = threading.Lock()
        self._reindex_lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        """The embedder, created on first use (loading a model takes a moment)."""
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = make_embedder(self._embedder_name)
            return self._embedder

    def load(self) -> None:
        """Open the current index; raises IndexNotBuiltError or IndexMismatchError."""
        with self._load_lock:
            self._publish(self._open_answerer())

    def _open_answerer(self) -> Answerer:
        # CURRENT alone tells whether there is an index: say so before loading a model.
        if read_current_file(self.index_dir) is None:
            raise IndexNotBuiltError(
                f"no index in {self.index_dir}: build it with `citebot index build`"
            )
        embedder = self.embedder
        store = IndexStore.open(self.index_dir, embedder.name, embedder.dimension)
        try:
            return Answerer(store, embedder, self.config)
        except BaseException:
            store.close()
            raise

    def _publish(self, answerer: Answerer | None) -> None:
        """Make `answerer` the one new calls use (None: stop serving); the old one closes
        after its last lease."""
        with self._lock:
            old, self._live = self._live, _Lease(answerer) if answerer is not None else None
            if old is not None:
                old.retired = True
            close_now = old is not None and old.leases == 0
        if close_now and old is not None:
            old.answerer.close()

    def _acquire(self) -> _Lease:
        while True:
            with self._lock:
                live = self._live
                if live is not None:
                    live.leases += 1
                    return live
            with self._load_lock:
                if self._live is None:
                    self._publish(self._open_answerer())

    def _release(self, lease: _Lease) -> None:
        with self._lock:
            lease.leases -= 1
            close_now = lease.retired and lease.leases == 0
        if close_now:
            lease.answerer.close()

    @contextmanager
    def leased(self) -> Iterator[Answerer]:
        """The current Answerer, kept open until the block ends even if a reindex swaps it."""
        lease = self._acquire()
        try:
            yield lease.answerer
        finally:
            self._release(lease)

    @property
    def version(self) -> str | None:
        """The name of the index version new questions are answered from (None before load)."""
        live = self._live
        return live.answerer.store.version if live is not None else None

    def ask(self, question: str, *, context: str | None = None) -> Answer:
        """Answer with verbatim quotes, or abstain; `context` is an earlier question."""
        with self.leased() as answerer:
            return answerer.ask(question, context=context)

    def search(self, query: str, k: int) -> list[RetrievedPassage]:
        """The k best passages for a query, without quoting."""
        with self.leased() as answerer:
            return answerer.search(query, k)

    def article(self, article_id: str) -> Article | None:
        with self.leased() as answerer:
            return answerer.store.article(article_id)

    def articles(self, search: str | None = None) -> list[ArticleInfo]:
        """Every article, by title; with `search`, those whose title or path contain it."""
        with self.leased() as answerer:
            infos = answerer.store.articles()
        if search:
            needle = search.casefold().strip()
            infos = [
                a
                for a in infos
                if needle in a.title.casefold() or needle in (a.path or "").casefold()
            ]
        return sorted(infos, key=lambda a: a.title.casefold())

    def stats(self) -> IndexStats:
        """Counts and build facts of the live version, without loading the model."""
        return read_stats(self.index_dir)

    @property
    def reindexing(self) -> bool:
        return self._reindex_lock.locked()

    def reindex(
        self, progress: ProgressCallback | None = None, *, rebuild: bool = False
    ) -> BuildReport:
        """Rebuild incrementally, then swap the new index in; one rebuild at a time.

        On failure the previous index keeps serving and the error propagates. When the build
        wrote no new version, the open index keeps serving and nothing is swapped. `rebuild`
        re-embeds every article.
        """
        if not self._reindex_lock.acquire(blocking=False):
            raise ReindexInProgressError("a reindex is already running")
        try:
            report = build_index(
                self.corpus_dir,
                self.index_dir,
                self.embedder,
                progress=progress,
                rebuild=rebuild,
                max_article_bytes=self.max_article_bytes,
            )
            with self._load_lock:
                # Nothing open yet: the first question opens the new index (`index build`
                # never pays for opening it).
                if self.version is not None and self.version != read_current(self.index_dir):
                    self._publish(self._open_answerer())
            return report
        finally:
            self._reindex_lock.release()

    def add_article(self, filename: str, data: bytes) -> Path:
        """Save an uploaded article into the corpus under a safe name; returns its path.

        Raises BadArticleError for an unsupported type, an oversized or empty file, one the
        readers refuse (bad front matter, no text...), or a name that has nothing usable left
        once path tricks are removed. The file is written whole, 0644 whatever the umask.
        """
        name = safe_article_name(filename)
        if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
            allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
            raise BadArticleError(f"{filename!r}: only {allowed} files can be added")
        if not data:
            raise BadArticleError(f"{filename!r} is empty")
        if len(data) > self.max_article_bytes:
            raise BadArticleError(
                f"{filename!r} is {len(data):,} bytes; the limit is {self.max_article_bytes:,}"
            )
        try:  # refused now rather than skipped at the next build
            articles, failures = read_article(name, data, max_bytes=self.max_article_bytes)
        except UnreadableArticleError as exc:
            raise BadArticleError(str(exc)) from None
        if not articles:
            reason = failures[0].reason if failures else "it holds no article"
            raise BadArticleError(f"{filename!r} cannot be read: {reason}")
        folder = (self.corpus_dir / "added").resolve()
        integrity.make_dirs(folder)
        target = folder / name
        stem, suffix = target.stem, target.suffix
        n = 1
        while target.exists():
            n += 1
            target = folder / f"{stem}-{n}{suffix}"
        if folder not in target.resolve().parents:  # defence in depth; safe_article_name
            raise BadArticleError(f"{filename!r} is not a safe file name")
        integrity.write_bytes_atomic(target, data)
        log.info("added article %s (%d bytes)", target, len(data))
        return target

    def close(self) -> None:
        """Stop serving; the open index closes once the calls still using it return."""
        with self._load_lock:
            self._publish(None)


def make_embedder(name: str | None) -> Embedder:
    """The embedder a setting names (None: the packaged default).

    The error never repeats the value given: a secret pasted into the wrong setting stays out
    of logs and terminals.
    """
    from index import embed

    try:
        return embed.make_embedder(name)
    except ConfigError:  # only an unknown name: a model that fails to load says so itself
        names = ", ".join(embed.embedder_names())
        raise ConfigError(f"CITEBOT_EMBEDDER: expected one of {names}") from None


def _open_as_built(index_dir: Path, **checks: Any) -> IndexStore:
    """The live version opened with the model it names, so no embedder is loaded."""
    index_dir = Path(index_dir)
    version = integrity.read_current(
        index_dir / CURRENT, strict=True, versions=index_dir / VERSIONS
    )
    if version is None:
        raise IndexNotBuiltError(f"no index in {index_dir}: build it with `citebot index build`")
    manifest = load_manifest(index_dir / VERSIONS / version)
    return IndexStore.open(
        index_dir, str(manifest["model"]), int(manifest["dimension"]), load_dense=False, **checks
    )


def _dense_kind(manifest: dict[str, Any]) -> str:
    ann = manifest.get("ann")
    if not isinstance(ann, dict):
        return "?"
    kind = str(ann.get("kind", "?"))
    details = [f"{key} {ann[key]}" for key in ("nlist", "nprobe") if ann.get(key)]
    if ann.get("recall_at_10") is not None:
        details.append(f"recall@10 {ann['recall_at_10']}")
    return kind + (f" ({', '.join(details)})" if details else "")


def read_stats(index_dir: Path) -> IndexStats:
    """The live version's manifest facts and row counts; never loads a model or the vectors."""
    with _open_as_built(index_dir) as store:
        counts = store.manifest.get("counts", {})
        return IndexStats(
            version=store.version,
            articles=store.article_count(),
            passages=store.passage_count(),
            sentences=int(counts.get("sentences", 0)),
            model=str(store.manifest["model"]),
            dimension=int(store.manifest["dimension"]),
            built_at=str(store.manifest.get("built_at", "?")),
            size_bytes=store.size_bytes(),
            dense=_dense_kind(store.manifest),
        )


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What `citebot index verify` checked."""

    version: str
    files: int
    size_bytes: int
    seconds: float


def verify_index(index_dir: Path) -> VerifyReport:
    """Hash every file of the live version and check its database fully; raises if damaged."""
    started = time.perf_counter()
    with _open_as_built(index_dir, full_check=True, db_check="all") as store:
        files = len(store.data_files()) + 1  # and the manifest
        size = store.size_bytes()
        version = store.version
    return VerifyReport(version, files, size, time.perf_counter() - started)
