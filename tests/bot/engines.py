"""Engines at the bot's seam: wrappers that slow, break, gate or lengthen a real engine's answers.

Each has the Engine's methods and returns real `Answer` records, so the bot cannot tell them
from the real thing; they exist for what a real engine can't be made to do on demand.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from index.types import Answer, BuildProgress, BuildReport, ProgressCallback
from tests.bot.answers import articles, quote_of, sentences


class Wrapper:
    """Delegates everything to the wrapped engine; subclasses change one behaviour."""

    def __init__(self, engine: Any) -> None:
        self.inner = engine
        self.asked: list[tuple[str, str | None]] = []  # (question, context), in order

    def ask(self, question: str, *, context: str | None = None) -> Answer:
        self.asked.append((question, context))
        return self.inner.ask(question, context=context)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class SlowEngine(Wrapper):
    """Takes `delay` seconds per question, blocking its thread as a busy CPU would."""

    def __init__(self, engine: Any, delay: float) -> None:
        super().__init__(engine)
        self.delay = delay

    def ask(self, question: str, *, context: str | None = None) -> Answer:
        time.sleep(self.delay)
        return super().ask(question, context=context)


class BrokenEngine(Wrapper):
    """Fails every question with an error nobody planned for."""

    def ask(self, question: str, *, context: str | None = None) -> Answer:
        self.asked.append((question, context))
        raise RuntimeError("the disk caught fire")


class LongEngine(Wrapper):
    """Answers with every sentence of the test corpus as a quote: thousands of characters."""

    def ask(self, question: str, *, context: str | None = None) -> Answer:
        self.asked.append((question, context))
        quotes = [
            quote_of(article, start, end)
            for article in articles().values()
            for start, end in sentences(article)
        ]
        return Answer(question, True, tuple(quotes), ())


class GatedEngine(Wrapper):
    """A reindex that waits for the test to open the gate (or fails when told to)."""

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self.started = threading.Event()
        self.gate = threading.Event()
        self.reindexes = 0
        self.failure: Exception | None = None

    def reindex(self, progress: ProgressCallback | None = None) -> BuildReport:
        self.reindexes += 1
        if progress is not None:
            progress(BuildProgress("embedding", 1, 4))
        self.started.set()
        if not self.gate.wait(10):
            raise TimeoutError("the test never opened the gate")
        if self.failure is not None:
            raise self.failure
        return self.inner.reindex(progress)


def copy_tree(source: Path, target: Path) -> Path:
    """A copy of an index or corpus folder for a test that changes it."""
    import shutil

    shutil.copytree(source, target)
    return target


class KeywordEngine:
    """A stand-in engine over the real readers: quotes the sentences sharing most words."""

    def __init__(self, index_dir: Path, corpus_dir: Path) -> None:
        from index.readers import read_corpus

        self._read = read_corpus
        self.corpus_dir = Path(corpus_dir)
        self.reindexing = False
        self._articles = {a.id: a for a in read_corpus(self.corpus_dir)[0]}

    def ask(self, question: str, *, context: str | None = None) -> Answer:
        import re

        from index.errors import EmptyQuestionError, NoSearchableWordsError
        from tests.bot.answers import passage_of

        if not question.strip():
            raise EmptyQuestionError("empty")
        words = {w for w in re.findall(r"[a-z0-9]{4,}", question.casefold())}
        if not words:
            raise NoSearchableWordsError("no words")
        scored = []
        for article in self._articles.values():
            for start, end in sentences(article):
                text = article.text[start:end].casefold()
                scored.append((sum(w in text for w in words), article, start, end))
        scored.sort(key=lambda s: -s[0])
        quotes = tuple(quote_of(a, s, e) for n, a, s, e in scored[:3] if n >= 2)
        passages = tuple(
            dict.fromkeys(passage_of(a, 0, len(a.text), n / 10) for n, a, _, _ in scored[:10])
        )
        return Answer(question, bool(quotes), quotes, passages)

    def reindex(self, progress: ProgressCallback | None = None) -> BuildReport:
        self.reindexing = True
        try:
            found, failures = self._read(self.corpus_dir)
            added = len({a.id for a in found} - set(self._articles))
            self._articles = {a.id: a for a in found}
            return BuildReport(added=added, failed=len(failures), articles=len(found))
        finally:
            self.reindexing = False

    def close(self) -> None:
        self._articles = {}

    def articles(self, search: str | None = None) -> list[Any]:
        from index.types import ArticleInfo

        infos = [
            ArticleInfo(a.id, a.title, a.path, a.url, a.published, 1)
            for a in self._articles.values()
            if not search or search.casefold() in a.title.casefold()
        ]
        return sorted(infos, key=lambda i: i.title.casefold())
