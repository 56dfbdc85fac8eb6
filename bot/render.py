"""Answers into Discord message content (and plain text for the terminal): pure functions.

Corpus text is escaped so that an article can neither ping anyone nor format the reply;
long answers drop whole quotes, best last, until they fit Discord's 2,000 characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote as percent_encode

import discord

from index.answer_output import (
    ABSTAIN_TEXT,
    NEAREST_SOURCES,
    Source,
    answer_text,
    number_sources,
)
from index.types import Answer, Quote

MESSAGE_LIMIT = 2000
FRAGMENT_WORDS = 4  # words at each end of a long quote in a `text=start,end` fragment
_URL = re.compile(r"(?:https?|steam)://[^\s<]+[^<.,:;\"'\]\s]")
_INLINE = re.compile(r"([\\*_~|`\[\]<])")
_LINE_START = re.compile(r"^(\s*)([>#+-])", re.MULTILINE)
_ORDERED_LIST = re.compile(r"^(\s*\d+)\.(?=\s)", re.MULTILINE)
_WHITESPACE = re.compile(r"\s+")


def escape(text: str) -> str:
    """Corpus text made inert: no markdown, no mentions, no `<…>` tags, shown as written.

    Discord hides a backslash before punctuation, so escaping is invisible; URLs are left
    whole because Discord links them before it reads escapes.
    """
    pieces = []
    cursor = 0
    for url in _URL.finditer(text):
        pieces += [_INLINE.sub(r"\\\1", text[cursor : url.start()]), url.group()]
        cursor = url.end()
    pieces.append(_INLINE.sub(r"\\\1", text[cursor:]))
    text = _LINE_START.sub(r"\1\\\2", "".join(pieces))
    text = _ORDERED_LIST.sub(r"\1\\.", text)
    return discord.utils.escape_mentions(text)


def block_quote(text: str) -> str:
    """Escaped text as a Discord block quote; every line of it stays inside the quote."""
    lines = [line.strip() for line in text.splitlines()]
    return "\n".join(f"> {escape(line)}" for line in lines if line)


def safe_url(url: str) -> str:
    """A URL that cannot end a markdown link early: spaces, brackets and parens encoded."""
    table = {" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E", "[": "%5B", "]": "%5D"}
    return "".join(table.get(ch, ch) for ch in url.strip())


def _fragment_term(words: Sequence[str]) -> str:
    # '-', ',' and '&' are the text directive's own syntax: they must be percent-encoded.
    return percent_encode(" ".join(words), safe="").replace("-", "%2D")


def text_fragment(quote_text: str) -> str:
    """The `:~:text=` directive that makes a browser scroll to and highlight the quote."""
    words = _WHITESPACE.split(quote_text.strip())
    if len(words) > 2 * FRAGMENT_WORDS + 2:
        start, end = words[:FRAGMENT_WORDS], words[-FRAGMENT_WORDS:]
        return f":~:text={_fragment_term(start)},{_fragment_term(end)}"
    return f":~:text={_fragment_term(words)}"


def quote_url(url: str, quote_text: str) -> str:
    """The article's URL with a text fragment pointing at the quoted sentence."""
    base = safe_url(url)
    directive = text_fragment(quote_text)
    return f"{base}{directive}" if "#" in base else f"{base}#{directive}"


def source_line(source: Source) -> str:
    """`**[1]** [Title](<url>) · 2024-05-01`, or the title and path when there is no URL."""
    title = escape(source.title or source.path or "untitled")
    shown = f"[{title}](<{safe_url(source.url)}>)" if source.url else title
    details = [d for d in (source.published, None if source.url else source.path) if d]
    suffix = "".join(f" · {escape(d)}" for d in details)
    return f"**[{source.number}]** {shown}{suffix}"


def citation(quote: Quote, number: int) -> str:
    """`[[1]](<url#:~:text=…>)` when the article has a URL, else `[1]`."""
    if quote.url:
        return f"[[{number}]](<{quote_url(quote.url, quote.text)}>)"
    return f"[{number}]"


def _quote_entry(quote: Quote, number: int, text: str | None = None) -> str:
    return f"{block_quote(text if text is not None else quote.text)} {citation(quote, number)}"


def _compose(
    header: str, entries: list[str], sources: Iterable[Source], omitted: int, title: str
) -> str:
    parts = [header] if header else []
    parts.extend(entries)
    if omitted:
        plural = "s" if omitted > 1 else ""
        parts.append(f"-# {omitted} more quote{plural} under Sources.")
    parts.append(f"**{title}**\n" + "\n".join(source_line(s) for s in sources))
    return "\n\n".join(parts)


def _trim_words(text: str, budget: int) -> str:
    """The longest prefix of whole words whose escaped quote fits in `budget`, with '…'."""
    words = text.split()
    low, high = 0, len(words)
    while low < high:
        mid = (low + high + 1) // 2
        if len(block_quote(" ".join(words[:mid]) + " …")) <= budget:
            low = mid
        else:
            high = mid - 1
    return " ".join(words[:low]) + " …"


def shorten(text: str, limit: int) -> str:
    """Whitespace collapsed, then cut at a word boundary with '…' if over `limit`."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut + "…"


def question_header(question: str) -> str:
    """The asker's question, escaped and shortened, shown above a slash command's answer."""
    return f"**Q:** {escape(shorten(question, 300))}"


def render_answer(answer: Answer, *, header: str = "", limit: int = MESSAGE_LIMIT) -> str:
    """The message for an answer: quotes with citations, then sources; within `limit`."""
    if not answer.answered or not answer.quotes:
        return render_abstention(answer, header=header, limit=limit)
    quotes = list(answer.quotes)
    for count in range(len(quotes), 0, -1):
        shown = quotes[:count]
        sources = number_sources(shown)
        entries = [_quote_entry(q, sources[q.article_id].number) for q in shown]
        content = _compose(header, entries, sources.values(), len(quotes) - count, "Sources")
        if len(content) <= limit:
            return content
    # Even the best quote alone is too long: cut it at a word boundary.
    best = quotes[0]
    sources = number_sources([best])
    skeleton = _compose(header, [""], sources.values(), len(quotes) - 1, "Sources")
    budget = limit - len(skeleton) - len(citation(best, 1)) - 1
    entry = _quote_entry(best, 1, _trim_words(best.text, budget))
    return _compose(header, [entry], sources.values(), len(quotes) - 1, "Sources")[:limit]


def render_abstention(answer: Answer, *, header: str = "", limit: int = MESSAGE_LIMIT) -> str:
    """Say plainly that the articles don't answer, and list the nearest sources."""
    nearest = list(number_sources(answer.passages).values())[:NEAREST_SOURCES]
    text = ABSTAIN_TEXT
    if not nearest:
        return "\n\n".join(p for p in (header, text) if p)[:limit]
    for count in range(len(nearest), 0, -1):
        content = _compose(header, [text], nearest[:count], 0, "Nearest sources")
        if len(content) <= limit:
            return content
    return "\n\n".join(p for p in (header, text) if p)[:limit]


def render_plain(answer: Answer) -> str:
    """An answer as plain text for a terminal: the same text `citebot ask` prints."""
    return answer_text(answer)
