"""The passages behind an answer as embeds, and pages of the article list."""

from __future__ import annotations

from bot.listings import (
    DESCRIPTION_LIMIT,
    EMBED_TOTAL,
    articles_page,
    highlights,
    ordered_passages,
    page_count,
    sources_embeds,
)
from index.types import Answer, ArticleInfo
from tests.bot.answers import answer_with, articles, displayed, quote_containing, whole_passage
from tests.fake_discord.rules import embed_size

KEEPER = quote_containing("lighthouse.md", "last keeper")
BOLD = quote_containing("announcements.md", "**bold")


def test_highlights_are_the_quoted_ranges_relative_to_the_passage() -> None:
    passage = whole_passage("lighthouse.md")
    ((start, end),) = highlights(passage, [KEEPER, BOLD])
    assert passage.text[start:end] == KEEPER.text


def test_quoted_sentences_are_bold_and_the_rest_is_escaped() -> None:
    (embed, second) = sources_embeds(answer_with("Who was the last keeper?", KEEPER, BOLD))
    assert embed.title == "[1] The Brightwater Lighthouse"
    assert embed.description and f"**{KEEPER.text}**" in embed.description
    assert embed.url and embed.url.startswith(f"{KEEPER.url}#:~:text=The%20last%20keeper")
    assert embed.footer.text == "lighthouse.md · 2021-06-14 · score 1.000"
    assert second.description and "**Members voted to paint the boathouse door \\*\\*bold" in (
        second.description
    )
    assert displayed(second.description.replace("**", "")).split() == (
        articles()["announcements.md"].text.split()
    )


def test_passages_holding_a_quote_come_first() -> None:
    volcano, lighthouse = whole_passage("volcano.txt", 0.9), whole_passage("lighthouse.md", 0.5)
    answer = Answer("q", True, (KEEPER,), (volcano, lighthouse))
    assert ordered_passages(answer) == [lighthouse, volcano]


def test_many_long_passages_fit_discords_embed_limits() -> None:
    long = whole_passage("tarn-estuary.md")
    passages = tuple(long.__class__(**{**_fields(long), "score": 1 - i / 20}) for i in range(12))
    embeds = sources_embeds(Answer("q", False, (), passages))
    assert len(embeds) == 10
    assert sum(embed_size(e.to_dict()) for e in embeds) <= EMBED_TOTAL
    assert all(len(e.description or "") <= DESCRIPTION_LIMIT for e in embeds)
    assert all((e.description or "").endswith(" …") for e in embeds), "cut at a word"


def _fields(passage: object) -> dict[str, object]:
    return {name: getattr(passage, name) for name in passage.__slots__}  # type: ignore[attr-defined]


def _infos(count: int) -> list[ArticleInfo]:
    return [
        ArticleInfo(f"a{i}", f"Article **{i}**", f"a{i}.md", None, None, 3) for i in range(count)
    ]


def test_article_pages_are_numbered_and_escaped() -> None:
    infos = _infos(23)
    assert page_count(23) == 3 and page_count(0) == 1
    first, last = articles_page(infos, 0), articles_page(infos, 2)
    assert first.splitlines()[0] == "**23 articles** · page 1/3"
    assert first.splitlines()[1] == "1. Article \\*\\*0\\*\\* · a0.md · 3 passages"
    assert last.splitlines()[-1].startswith("23. ") and len(last.splitlines()) == 4
    assert articles_page(infos, 99) == last, "a page past the end shows the last page"


def test_no_articles_says_so() -> None:
    assert articles_page([], 0, search="zebra") == "No articles matching “zebra”."


def test_one_article_is_singular_and_the_search_is_escaped_outside_the_bold() -> None:
    header = articles_page(_infos(1), 0, search="**zebra_").splitlines()[0]
    assert header == "**1 article** matching “\\*\\*zebra\\_” · page 1/1"


def test_source_embed_titles_are_escaped_like_quotes() -> None:
    passage = whole_passage("lighthouse.md")
    odd = passage.__class__(**{**_fields(passage), "title": "**Big** <@123> @everyone"})
    (embed,) = sources_embeds(Answer("q", False, (), (odd,)))
    assert embed.title == "[1] \\*\\*Big\\*\\* \\<@123> @\u200beveryone"
