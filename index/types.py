"""The typed records the index stores and the answer engine returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Article:
    """One article: metadata and the normalised text that every offset points into."""

    id: str
    title: str
    text: str
    content_hash: str
    path: str | None = None  # relative to the corpus folder, POSIX separators
    url: str | None = None
    published: str | None = None  # ISO 8601 date (YYYY-MM-DD) when known
    author: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Span:
    """A [start, end) character range of an article's stored text."""

    article_id: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Passage:
    """A run of whole sentences of one article, the unit of retrieval."""

    id: int
    article_id: str
    ordinal: int  # position of the passage within its article
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class ArticleInfo:
    """An article's metadata without its text, for listings."""

    id: str
    title: str
    path: str | None
    url: str | None
    published: str | None
    passages: int


@dataclass(frozen=True, slots=True)
class RetrievedPassage:
    """A passage returned by retrieval, with its article's metadata and fused score."""

    text: str
    article_id: str
    title: str
    path: str | None
    url: str | None
    published: str | None
    start: int
    end: int
    score: float


@dataclass(frozen=True, slots=True)
class Quote:
    """One or two consecutive sentences copied verbatim from an article."""

    text: str
    article_id: str
    title: str
    url: str | None
    path: str | None
    published: str | None
    start: int
    end: int
    score: float


@dataclass(frozen=True, slots=True)
class Answer:
    """What the engine returns for a question: quotes best first, or an abstention."""

    question: str
    answered: bool
    quotes: tuple[Quote, ...]
    passages: tuple[RetrievedPassage, ...]
    ms: float = 0.0
    reason: str = ""  # why the engine abstained, for logs and /sources


@dataclass(frozen=True, slots=True)
class Failure:
    """An article file that was skipped, and why."""

    path: str
    reason: str


@dataclass(slots=True)
class BuildReport:
    """The outcome of one index build."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: int = 0
    articles: int = 0
    passages: int = 0
    embedded: int = 0
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)

    @property
    def passages_per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "articles": self.articles,
            "passages": self.passages,
            "embedded": self.embedded,
            "seconds": round(self.seconds, 3),
            "passages_per_second": round(self.passages_per_second, 1),
            "failures": [{"path": f.path, "reason": f.reason} for f in self.failures],
        }


@dataclass(frozen=True, slots=True)
class BuildProgress:
    """A step of a running build: `stage` is 'reading', 'embedding' or 'writing'."""

    stage: str
    done: int
    total: int


ProgressCallback = Callable[[BuildProgress], None]
