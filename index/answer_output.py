"""An Answer as the `citebot ask` JSON record (the machine contract), or as plain text."""

from __future__ import annotations

from collections.abc import Iterable
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


def _source_line(number: int, item: Quote | RetrievedPassage) -> str:
    where = item.url or item.path or ""
    details = " · ".join(d for d in (where, item.published) if d)
    return f"[{number}] {item.title}" + (f" — {details}" if details else "")


def _numbered(items: Iterable[Quote | RetrievedPassage]) -> dict[str, tuple[int, str]]:
    """Article id → (its number in order of first appearance, its source line)."""
    numbers: dict[str, tuple[int, str]] = {}
    for item in items:
        if item.article_id not in numbers:
            number = len(numbers) + 1
            numbers[item.article_id] = (number, _source_line(number, item))
    return numbers


def answer_text(answer: Answer) -> str:
    """An answer as plain text (`citebot ask`, `citebot chat`): quotes with [n], then sources.

    An abstention says so and lists the nearest sources.
    """
    if not answer.answered or not answer.quotes:
        lines = [ABSTAIN_TEXT]
        nearest = [line for _, line in _numbered(answer.passages).values()][:NEAREST_SOURCES]
        if nearest:
            lines += ["", "Nearest sources:", *nearest]
        return "\n".join(lines)
    sources = _numbered(answer.quotes)
    lines = []
    for quote in answer.quotes:
        text = " ".join(quote.text.split())
        lines += [f'"{text}" [{sources[quote.article_id][0]}]', ""]
    lines += ["Sources:", *(line for _, line in sources.values())]
    return "\n".join(lines)
