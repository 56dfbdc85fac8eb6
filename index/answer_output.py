"""An Answer as the `citebot ask` JSON record (the machine contract), or as plain text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from index.types import Answer, Quote, RetrievedPassage

NEAREST_SOURCES = 5  # sources listed with an abstention, in every front end
ABSTAIN_TEXT = "The articles don't answer that."


def quote_json(q: Quote) -> dict[str, Any]:
    return {
        "text": q.text,
        "article_id": q.article_id,
        "title": q.title,
        "url": q.url,
        "path": q.path,
        "start": q.start,
        "end": q.end,
        "score": q.score,
    }


def passage_json(p: RetrievedPassage) -> dict[str, Any]:
    return {
        "text": p.text,
        "article_id": p.article_id,
        "title": p.title,
        "path": p.path,
        "start": p.start,
        "end": p.end,
        "score": p.score,
    }


def answer_json(answer: Answer) -> dict[str, Any]:
    """The `--json` record: question, answered, quotes and passages best first, ms."""
    return {
        "question": answer.question,
        "answered": answer.answered,
        "quotes": [quote_json(q) for q in answer.quotes],
        "passages": [passage_json(p) for p in answer.passages],
        "ms": round(answer.ms, 2),
    }


@dataclass(frozen=True, slots=True)
class Source:
    """An article cited by an answer, numbered in order of first citation."""

    number: int
    title: str
    url: str | None
    path: str | None
    published: str | None


def number_sources(items: Iterable[Quote | RetrievedPassage]) -> dict[str, Source]:
    """Article id → its source number, in order of first appearance."""
    sources: dict[str, Source] = {}
    for item in items:
        if item.article_id not in sources:
            sources[item.article_id] = Source(
                len(sources) + 1, item.title, item.url, item.path, item.published
            )
    return sources


def _source_line(source: Source) -> str:
    where = source.url or source.path or ""
    details = " · ".join(d for d in (where, source.published) if d)
    return f"[{source.number}] {source.title}" + (f" — {details}" if details else "")


def answer_text(answer: Answer) -> str:
    """An answer as plain text (`citebot ask`, `citebot chat`): quotes with [n], then sources.

    An abstention says so and lists the nearest sources.
    """
    if not answer.answered or not answer.quotes:
        lines = [ABSTAIN_TEXT]
        nearest = [_source_line(s) for s in number_sources(answer.passages).values()]
        nearest = nearest[:NEAREST_SOURCES]
        if nearest:
            lines += ["", "Nearest sources:", *nearest]
        return "\n".join(lines)
    sources = number_sources(answer.quotes)
    lines = []
    for quote in answer.quotes:
        text = " ".join(quote.text.split())
        lines += [f'"{text}" [{sources[quote.article_id].number}]', ""]
    lines += ["Sources:", *(_source_line(s) for s in sources.values())]
    return "\n".join(lines)
