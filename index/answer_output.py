"""An Answer as the `citebot ask` JSON record, or as text with numbered citations."""

from __future__ import annotations

import textwrap
from typing import Any

from index.types import Answer, Quote, RetrievedPassage

NEAREST_SOURCES = 3


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


def _source(title: str, path: str | None, url: str | None) -> str:
    place = url or path or ""
    return title + (f" — {place}" if place else "")


def answer_text(answer: Answer) -> str:
    """Quotes with numbered citations and a sources list, or the nearest sources."""
    lines: list[str] = []
    if answer.answered:
        numbers: dict[str, int] = {}
        sources: list[str] = []
        for q in answer.quotes:
            if q.article_id not in numbers:
                numbers[q.article_id] = len(numbers) + 1
                sources.append(f"[{numbers[q.article_id]}] {_source(q.title, q.path, q.url)}")
            body = textwrap.fill(f"“{q.text}” [{numbers[q.article_id]}]", width=100)
            lines.append(body)
            lines.append("")
        lines.append("Sources:")
        lines.extend(sources)
    else:
        lines.append("The articles do not seem to answer this. Nearest sources:")
        seen: set[str] = set()
        for p in answer.passages:
            if p.article_id in seen:
                continue
            seen.add(p.article_id)
            lines.append(f"- {_source(p.title, p.path, p.url)}")
            if len(seen) >= NEAREST_SOURCES:
                break
    return "\n".join(lines)
