"""The one interface between the answer engine and an index backend, and the change set a build
hands to it.

The answer engine, retrieval, the engine facade and the builder use nothing of a store beyond
`Store`; a backend on another engine implements it (and `apply` for a `ChangeSet`) and passes
`tests/index/test_backend_contract.py`. Lexical queries are FTS5 MATCH expressions (as
`index.question.fts_match` writes them); a backend on another engine translates them, and a
malformed one raises `sqlite3.Error` so that retrieval can fall back to dense results alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from index.types import Article, ArticleInfo, Passage


class Store(Protocol):
    """A read-only, consistent view of one index version; safe for many threads at once.

    The view never changes while it is open, even when a newer version goes live beside it;
    `close` releases it.
    """

    version: str
    manifest: dict[str, Any]

    def close(self) -> None: ...

    # Counts and metadata
    def article_count(self) -> int: ...
    def passage_count(self) -> int: ...
    def size_bytes(self) -> int: ...

    # Articles
    def articles(self) -> list[ArticleInfo]: ...
    def article(self, article_id: str) -> Article | None: ...
    def content_hashes(self) -> dict[str, str]: ...

    # Passages and sentences
    def passages(self, ids: Sequence[int]) -> list[Passage]: ...
    def article_passages(self, article_id: str) -> list[Passage]: ...
    def article_sentences(self, article_id: str) -> list[tuple[int, int, int]]: ...
    def sentences_in(self, article_id: str, start: int, end: int) -> list[tuple[int, int, int]]: ...

    # Search
    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]: ...
    def lexical_search(self, match: str, k: int) -> list[tuple[int, float]]: ...
    def lexical_any(self, match: str) -> bool: ...
    def article_matches(self, article_id: str, matches: Sequence[str]) -> list[bool]: ...
    def doc_freq(self, terms: Sequence[str]) -> dict[str, int]: ...

    # Vectors by id
    def passage_vectors(self, ids: Sequence[int]) -> np.ndarray: ...
    def sentence_vectors(self, ids: Sequence[int]) -> np.ndarray: ...


class Backend(Protocol):
    """Where an index lives: opens its live version and applies change sets to it."""

    def open(self, model_name: str, dimension: int) -> Store:
        """The live version; raises IndexNotBuiltError, IndexMismatchError or corrupt."""
        ...

    def apply(self, changes: ChangeSet, manifest: dict[str, Any], version: str) -> str:
        """Make a new version live holding the changes, atomically; returns its name.

        `manifest` carries at least format_version, model, dimension and counts.embedded.
        Stores already open keep their view until they are closed.
        """
        ...


@dataclass(slots=True)
class ArticleRows:
    """One article to write: its record, passage and sentence spans, and their vectors."""

    article: Article
    passages: list[tuple[int, int]]
    sentences: list[tuple[int, int]]
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray


@dataclass(slots=True)
class ChangeSet:
    """What one build changes: articles removed (by id) and articles written anew.

    An updated article is both removed and written; its rows get new ids. With `reset`, the
    new version holds only `upserts` (a full rebuild).
    """

    upserts: Iterable[ArticleRows] = field(default_factory=list)  # read once, in order
    removals: list[str] = field(default_factory=list)
    reset: bool = False
