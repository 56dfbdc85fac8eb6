"""The one facade the bot and the CLI use: answers, articles and live reindexing."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from index.answer import AnswerConfig, Answerer
from index.backend import Store
from index.build import build_index
from index.embed import Embedder, default_embedder
from index.errors import BadArticleError, IndexNotBuiltError, ReindexInProgressError
from index.readers import MAX_ARTICLE_BYTES, SUPPORTED_SUFFIXES, safe_article_name
from index.store import IndexStore
from index.types import Answer, Article, ArticleInfo, BuildReport, ProgressCallback

log = logging.getLogger(__name__)


class Engine:
    """Answers questions from the current index; rebuilds it and swaps it in without a restart.

    `ask` may be called from many threads while `reindex` runs in another: questions are
    answered from the old index until the new one is complete, then from the new one.
    """

    def __init__(
        self,
        index_dir: Path,
        corpus_dir: Path,
        *,
        embedder: Embedder | None = None,
        config: AnswerConfig | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.corpus_dir = Path(corpus_dir)
        self._embedder = embedder
        self.config = config or AnswerConfig.from_env()
        self._answerer: Answerer | None = None
        self._swap_lock = threading.Lock()
        self._reindex_lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    def load(self) -> None:
        """Open the current index; raises IndexNotBuiltError or IndexMismatchError."""
        self._swap(self._open_answerer())

    def _open_answerer(self) -> Answerer:
        store = IndexStore.open(self.index_dir, self.embedder.name, self.embedder.dimension)
        return Answerer(store, self.embedder, self.config)

    def _swap(self, answerer: Answerer) -> None:
        with self._swap_lock:
            old, self._answerer = self._answerer, answerer
        if old is not None:
            old.close()

    @property
    def answerer(self) -> Answerer:
        answerer = self._answerer
        if answerer is None:
            self.load()
            answerer = self._answerer
        if answerer is None:  # pragma: no cover - load() either sets it or raises
            raise IndexNotBuiltError(f"no index in {self.index_dir}")
        return answerer

    @property
    def store(self) -> Store:
        return self.answerer.store

    def ask(self, question: str, *, context: str | None = None) -> Answer:
        """Answer with verbatim quotes, or abstain; `context` is an earlier question."""
        return self.answerer.ask(question, context=context)

    def article(self, article_id: str) -> Article | None:
        return self.store.article(article_id)

    def articles(self, search: str | None = None) -> list[ArticleInfo]:
        """Every article, by title; with `search`, those whose title or path contain it."""
        infos = self.store.articles()
        if search:
            needle = search.casefold().strip()
            infos = [
                a
                for a in infos
                if needle in a.title.casefold() or needle in (a.path or "").casefold()
            ]
        return sorted(infos, key=lambda a: a.title.casefold())

    @property
    def reindexing(self) -> bool:
        return self._reindex_lock.locked()

    def reindex(self, progress: ProgressCallback | None = None) -> BuildReport:
        """Rebuild incrementally, then swap the new index in; one rebuild at a time.

        On failure the previous index keeps serving and the error propagates.
        """
        if not self._reindex_lock.acquire(blocking=False):
            raise ReindexInProgressError("a reindex is already running")
        try:
            report = build_index(self.corpus_dir, self.index_dir, self.embedder, progress=progress)
            self._swap(self._open_answerer())
            return report
        finally:
            self._reindex_lock.release()

    def add_article(self, filename: str, data: bytes) -> Path:
        """Save an uploaded article into the corpus under a safe name; returns its path.

        Raises BadArticleError for an unsupported type, an oversized or empty file, or a name
        that has nothing usable left once path tricks are removed.
        """
        name = safe_article_name(filename)
        if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
            allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
            raise BadArticleError(f"{filename!r}: only {allowed} files can be added")
        if not data:
            raise BadArticleError(f"{filename!r} is empty")
        if len(data) > MAX_ARTICLE_BYTES:
            raise BadArticleError(
                f"{filename!r} is {len(data):,} bytes; the limit is {MAX_ARTICLE_BYTES:,}"
            )
        folder = (self.corpus_dir / "added").resolve()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        stem, suffix = target.stem, target.suffix
        n = 1
        while target.exists():
            n += 1
            target = folder / f"{stem}-{n}{suffix}"
        if folder not in target.resolve().parents:  # defence in depth; safe_article_name
            raise BadArticleError(f"{filename!r} is not a safe file name")
        tmp = target.with_name(f".{target.name}.part")
        tmp.write_bytes(data)
        tmp.replace(target)
        log.info("added article %s (%d bytes)", target, len(data))
        return target

    def close(self) -> None:
        with self._swap_lock:
            old, self._answerer = self._answerer, None
        if old is not None:
            old.close()
