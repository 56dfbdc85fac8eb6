"""Answers built from the bot's test corpus, and how Discord would display rendered text."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from index.readers import read_corpus
from index.types import Answer, Article, Quote, RetrievedPassage

BOT_CORPUS = Path(__file__).resolve().parent.parent / "data" / "bot_corpus"
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_ESCAPED = re.compile(r"\\([^0-9A-Za-z\s])")


@cache
def articles() -> dict[str, Article]:
    """The test corpus as the real readers read it."""
    found, failures = read_corpus(BOT_CORPUS)
    assert not failures, failures
    return {a.id: a for a in found}


def sentences(article: Article) -> list[tuple[int, int]]:
    """[start, end) of each sentence-like run of the article's text."""
    spans = []
    for match in _SENTENCE.finditer(article.text):
        text = match.group()
        start = match.start() + len(text) - len(text.lstrip())
        end = match.end() - (len(text) - len(text.rstrip()))
        if end > start:
            spans.append((start, end))
    return spans


def quote_of(article: Article, start: int, end: int, score: float = 1.0) -> Quote:
    return Quote(
        text=article.text[start:end],
        article_id=article.id,
        title=article.title,
        url=article.url,
        path=article.path,
        published=article.published,
        start=start,
        end=end,
        score=score,
    )


def passage_of(article: Article, start: int, end: int, score: float = 1.0) -> RetrievedPassage:
    return RetrievedPassage(
        text=article.text[start:end],
        article_id=article.id,
        title=article.title,
        path=article.path,
        url=article.url,
        published=article.published,
        start=start,
        end=end,
        score=score,
    )


def quote_containing(article_id: str, needle: str) -> Quote:
    """The sentence of an article that contains `needle`, as a quote."""
    article = articles()[article_id]
    for start, end in sentences(article):
        if needle in article.text[start:end]:
            return quote_of(article, start, end)
    raise AssertionError(f"{needle!r} not in {article_id}")


def whole_passage(article_id: str, score: float = 1.0) -> RetrievedPassage:
    article = articles()[article_id]
    return passage_of(article, 0, len(article.text), score)


def answer_with(question: str, *quotes: Quote, answered: bool = True) -> Answer:
    """An answer whose passages are the quoted articles' whole texts."""
    passages = tuple(dict.fromkeys(whole_passage(q.article_id) for q in quotes))
    return Answer(question, answered, tuple(quotes) if answered else (), passages)


def displayed(markdown: str) -> str:
    """What a reader sees of escaped text: backslash escapes and zero-width spaces gone."""
    return _ESCAPED.sub(r"\1", markdown).replace("\u200b", "")


def quoted_lines(content: str) -> list[str]:
    """The block-quote lines of a message, without their `> ` marker."""
    return [line[2:] for line in content.splitlines() if line.startswith("> ")]


def strip_citation(line: str) -> str:
    """A quote's last line without the citation that follows it."""
    return re.sub(r" (\[\[\d+\]\]\(<[^>]*>\)|\[\d+\])$", "", line)
