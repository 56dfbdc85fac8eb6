"""Engines at the bot's seam: wrappers that hold, break, gate or lengthen a real engine's answers.

Each has the Engine's methods and returns real `Answer` records, so the bot cannot tell them
from the real thing; they exist for what a real engine can't be made to do on demand.
"""

from __future__ import annotations

import threading
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


class HeldEngine(Wrapper):
    """Holds every question until the test releases it; `started` is set once one waits."""

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self.started = threading.Event()
        self.release = threading.Event()

    def ask(self, question: str, *, context: str | None = None) -> Answer:
        self.started.set()
        if not self.release.wait(30):
            raise TimeoutError("the test never released the question")
        return super().ask(question, context=context)


class HeldFirstEngine(Wrapper):
    """Holds only questions equal to `held` until released; answers the others at once."""

    def __init__(self, engine: Any, held: str) -> None:
        super().__init__(engine)
        self.held = held
        self.release = threading.Event()

    def ask(self, question: str, *, context: str | None = None) -> Answer:
        if question == self.held and not self.release.wait(30):
            raise TimeoutError("the test never released the question")
        return super().ask(question, context=context)
