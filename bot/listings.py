"""The passages behind an answer, and pages of the article list, as Discord embeds and text."""

from __future__ import annotations

import re
from collections.abc import Sequence

import discord

from bot.render import escape, number_sources, quote_url, safe_url, shorten
from index.types import Answer, ArticleInfo, Quote, RetrievedPassage

MAX_EMBEDS = 10
EMBED_TOTAL = 6000
DESCRIPTION_LIMIT = 4096
ARTICLES_PER_PAGE = 10
SOURCES_COLOUR = discord.Colour(0x5865F2)
_WORD = re.compile(r"\S+")


def highlights(passage: RetrievedPassage, quotes: Sequence[Quote]) -> list[tuple[int, int]]:
    """The [start, end) ranges of the passage's text that the answer quoted, merged."""
    ranges = sorted(
        (max(q.start, passage.start) - passage.start, min(q.end, passage.end) - passage.start)
        for q in quotes
        if q.article_id == passage.article_id and q.start < passage.end and q.end > passage.start
    )
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _words(text: str, marks: Sequence[tuple[int, int]]) -> list[tuple[str, bool]]:
    """The text's words, each flagged when it lies inside a quoted range."""
    return [
        (m.group(), any(s < m.end() and m.start() < e for s, e in marks))
        for m in _WORD.finditer(text)
    ]


def _render_words(words: Sequence[tuple[str, bool]]) -> str:
    groups: list[tuple[bool, list[str]]] = []
    for word, bold in words:
        if groups and groups[-1][0] == bold:
            groups[-1][1].append(word)
        else:
            groups.append((bold, [word]))
    return " ".join(
        f"**{escape(' '.join(ws))}**" if bold else escape(" ".join(ws)) for bold, ws in groups
    )


def highlighted_text(text: str, marks: Sequence[tuple[int, int]], budget: int) -> str:
    """Escaped passage text with the quoted ranges in bold, cut at a word within `budget`."""
    words = _words(text, marks)
    whole = _render_words(words)
    if len(whole) <= budget:
        return whole
    low, high = 0, len(words)
    while low < high:
        mid = (low + high + 1) // 2
        if len(_render_words(words[:mid])) + 2 <= budget:
            low = mid
        else:
            high = mid - 1
    return (_render_words(words[:low]) + " …").strip()


def ordered_passages(answer: Answer) -> list[RetrievedPassage]:
    """Passages that hold a quote first (in quote order), then the rest, best first."""
    quoted = [p for q in answer.quotes for p in answer.passages if highlights(p, [q])]
    rest = [p for p in answer.passages if p not in quoted]
    return list(dict.fromkeys(quoted + rest))


def sources_embeds(answer: Answer, *, limit: int = MAX_EMBEDS) -> list[discord.Embed]:
    """One embed per passage, quoted sentences in bold, within Discord's embed limits."""
    passages = ordered_passages(answer)[:limit]
    numbers = number_sources([*answer.quotes, *passages])
    embeds: list[discord.Embed] = []
    heads = []
    for passage in passages:
        # Escaped like quotes; 120 characters escape to at most 240, within Discord's 256.
        shown_title = escape(shorten(passage.title or passage.path or "untitled", 120))
        title = f"[{numbers[passage.article_id].number}] {shown_title}"
        footer = " · ".join(
            d for d in (passage.path, passage.published, f"score {passage.score:.3f}") if d
        )
        heads.append((title, shorten(footer, 2048)))
    fixed = sum(len(t) + len(f) for t, f in heads)
    per_passage = min(DESCRIPTION_LIMIT, (EMBED_TOTAL - 100 - fixed) // max(1, len(passages)))
    for passage, (title, footer) in zip(passages, heads, strict=True):
        marks = highlights(passage, answer.quotes)
        url = None
        if passage.url:
            first = marks[0] if marks else None
            url = (
                quote_url(passage.url, passage.text[first[0] : first[1]])
                if first
                else safe_url(passage.url)
            )
        embed = discord.Embed(
            title=title,
            url=url,
            description=highlighted_text(passage.text, marks, per_passage),
            colour=SOURCES_COLOUR,
        )
        embed.set_footer(text=footer)
        embeds.append(embed)
    return embeds


def sources_summary(answer: Answer) -> str:
    """The line above the passages: which question they answer, or why it abstained."""
    line = f"Passages behind the answer to **{escape(shorten(answer.question, 200))}**"
    if not answer.answered and answer.reason:
        line += f"\n-# Not answered: {escape(shorten(answer.reason, 300))}"
    if not answer.passages:
        line += "\nNo passages were retrieved."
    return line


def page_count(total: int, per_page: int = ARTICLES_PER_PAGE) -> int:
    return max(1, -(-total // per_page))


def articles_page(
    articles: Sequence[ArticleInfo],
    page: int,
    *,
    search: str | None = None,
    per_page: int = ARTICLES_PER_PAGE,
) -> str:
    """One page of the article list as message content: numbered titles with links."""
    pages = page_count(len(articles), per_page)
    page = min(max(page, 0), pages - 1)
    what = f" matching “{escape(shorten(search, 100))}”" if search else ""
    if not articles:
        return f"No articles{what}."
    count = f"{len(articles)} article{'' if len(articles) == 1 else 's'}"
    lines = [f"**{count}**{what} · page {page + 1}/{pages}"]
    first = page * per_page
    for number, info in enumerate(articles[first : first + per_page], first + 1):
        title = escape(shorten(info.title or info.path or info.id, 90))
        shown = f"[{title}](<{safe_url(info.url)}>)" if info.url else title
        details = [d for d in (info.published, info.path) if d]
        details.append(f"{info.passages} passages")
        lines.append(f"{number}. {shown} · {escape(' · '.join(details))}")
    return "\n".join(lines)
