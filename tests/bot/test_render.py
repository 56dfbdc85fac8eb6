"""Rendering answers for Discord: escaping, citations, text fragments, limits, abstention."""

from __future__ import annotations

import re
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render import (
    ABSTAIN_TEXT,
    MESSAGE_LIMIT,
    block_quote,
    escape,
    quote_url,
    render_answer,
    render_plain,
    safe_url,
    text_fragment,
)
from index.types import Answer, Quote
from tests.bot.answers import (
    answer_with,
    articles,
    displayed,
    quote_containing,
    quote_of,
    quoted_lines,
    sentences,
    strip_citation,
    whole_passage,
)
from tests.fake_discord.mentions import parse_mentions

EVERYONE = quote_containing("announcements.md", "@everyone")
BOLD = quote_containing("announcements.md", "**bold")
BLOCK = quote_containing("announcements.md", "regatta committee")
MENTIONS = quote_containing("announcements.md", "<@123456789012345678>")
BUILT = quote_containing("lighthouse.md", "built in 1874")


def test_mentions_in_quotes_are_inert() -> None:
    content = render_answer(answer_with("Who may come?", EVERYONE, MENTIONS))
    assert parse_mentions(content) == ([], [], False)
    assert "@everyone" in displayed(content) and "@here" in displayed(content)


def test_unpaired_bold_marker_cannot_pair_with_the_replys_own_markdown() -> None:
    content = render_answer(answer_with("What colour is the door?", BOLD))
    (line,) = quoted_lines(content)
    assert re.search(r"(?<!\\)\*", line) is None, "every * of the quote is escaped"
    assert "\\*\\*bold" in line
    assert displayed(strip_citation(line)) == BOLD.text


def test_block_quote_markers_backticks_and_links_in_articles_are_escaped() -> None:
    content = render_answer(answer_with("When does the committee meet?", BLOCK, MENTIONS))
    lines = quoted_lines(content)
    assert lines[0].startswith("\\>"), "an article's own '> ' stays text inside our quote"
    assert "\\`Ann Marsh\\`" in lines[0]
    assert "\\[in the club forum\\]" in lines[1] or "\\[in the club forum]" in lines[1]
    assert displayed(strip_citation(lines[0])) == BLOCK.text


def test_every_line_of_a_multiline_quote_stays_inside_the_block() -> None:
    text = "First line of the quote\n\n# Heading trick\n- list trick\n1. ordered trick\n> nested"
    block = block_quote(text)
    assert all(line.startswith("> ") for line in block.splitlines())
    assert len(block.splitlines()) == 5, "blank lines are dropped, not left to end the quote"
    shown = [line[2:] for line in block.splitlines()]
    assert shown[1].startswith("\\#") and shown[2].startswith("\\-")
    assert shown[3].startswith("1\\.") and shown[4].startswith("\\>")
    assert [displayed(s) for s in shown] == [ln for ln in text.splitlines() if ln]


def test_quotes_are_numbered_by_source_with_linked_titles_and_dates() -> None:
    keeper = quote_containing("lighthouse.md", "last keeper")
    volcano = quote_containing("volcano.txt", "dormant volcano")
    content = render_answer(answer_with("Tell me", BUILT, volcano, keeper))
    quote_part, sources = content.split("**Sources**")
    assert quote_part.count("[[1]](<") == 2, "both lighthouse quotes cite [1], with links"
    assert "[2]" in quote_part and "[[2]]" not in quote_part, "no URL, no link"
    lines = sources.strip().splitlines()
    assert lines[0] == (
        "**[1]** [The Brightwater Lighthouse]"
        "(<https://example.org/history/brightwater-lighthouse>) · 2021-06-14"
    )
    assert lines[1] == "**[2]** Mount Kessel · volcano.txt"


def test_a_title_with_markdown_is_escaped_in_the_sources() -> None:
    content = render_answer(answer_with("Who?", EVERYONE))
    assert "Notes from the \\*\\*Harbour\\*\\* Club" in content
    assert "(<https://example.org/wiki/Harbour_Club_%28Tarn%29>)" in content


def test_citation_links_land_on_the_quoted_sentence() -> None:
    content = render_answer(answer_with("When was it built?", BUILT))
    (link,) = re.findall(r"\[\[1\]\]\(<([^>]+)>\)", content)
    base, fragment = link.split("#:~:text=")
    assert base == BUILT.url
    start, end = fragment.split(",")
    assert BUILT.text.startswith(unquote(start)) and BUILT.text.endswith(unquote(end))


def test_text_fragment_encodes_the_directives_own_syntax() -> None:
    fragment = text_fragment("Salt-marsh, sand & sea.")
    assert fragment == ":~:text=Salt%2Dmarsh%2C%20sand%20%26%20sea."
    assert unquote(fragment.removeprefix(":~:text=")) == "Salt-marsh, sand & sea."


def test_long_quotes_use_the_start_end_form_on_whole_words() -> None:
    text = "one two three four five six seven eight nine ten eleven twelve thirteen"
    assert (
        text_fragment(text) == ":~:text=one%20two%20three%20four,ten%20eleven%20twelve%20thirteen"
    )


def test_urls_with_parentheses_or_an_existing_fragment_stay_valid_links() -> None:
    assert safe_url("https://en.wikipedia.org/wiki/Sky_(United_Kingdom)") == (
        "https://en.wikipedia.org/wiki/Sky_%28United_Kingdom%29"
    )
    assert quote_url("https://x.org/a#top", "Hi there") == "https://x.org/a#top:~:text=Hi%20there"


def _long_answer(total: int) -> Answer:
    """Every sentence of the corpus's articles as quotes, until `total` characters."""
    quotes: list[Quote] = []
    for article in articles().values():
        for start, end in sentences(article):
            quotes.append(quote_of(article, start, end))
            if sum(len(q.text) for q in quotes) >= total:
                return answer_with("Everything?", *quotes)
    raise AssertionError("the test corpus is too small")


def test_a_3000_character_answer_is_cut_at_quote_boundaries_within_2000() -> None:
    answer = _long_answer(3000)
    content = render_answer(answer)
    assert len(content) <= MESSAGE_LIMIT
    shown = [displayed(strip_citation(line)) for line in quoted_lines(content)]
    assert shown == [q.text for q in answer.quotes[: len(shown)]], "whole quotes, best first"
    omitted = len(answer.quotes) - len(shown)
    assert omitted > 0 and f"{omitted} more quotes under Sources" in content


def test_a_single_over_long_quote_is_cut_at_a_word_boundary() -> None:
    article = articles()["lighthouse.md"]
    giant = Quote(
        text=" ".join(article.text.split() * 8),
        article_id=article.id,
        title=article.title,
        url=article.url,
        path=article.path,
        published=article.published,
        start=0,
        end=len(article.text),
        score=1.0,
    )
    content = render_answer(Answer("q", True, (giant,), ()))
    assert len(content) <= MESSAGE_LIMIT
    (line,) = quoted_lines(content)
    shown = displayed(strip_citation(line))
    assert shown.endswith(" …")
    prefix = shown.removesuffix(" …")
    assert giant.text.startswith(prefix) and giant.text[len(prefix)] == " "


def test_abstention_says_so_and_lists_the_nearest_sources_once_each() -> None:
    passages = (
        whole_passage("volcano.txt", 0.4),
        whole_passage("lighthouse.md", 0.3),
        whole_passage("volcano.txt", 0.2),
    )
    content = render_answer(Answer("Who won the 1999 cup?", False, (), passages))
    assert content.startswith(ABSTAIN_TEXT)
    assert "**Nearest sources**" in content
    assert content.count("Mount Kessel") == 1 and "Brightwater" in content
    assert not quoted_lines(content)


def test_abstention_without_any_passage_still_answers_plainly() -> None:
    assert render_answer(Answer("?", False, (), ())) == ABSTAIN_TEXT


def test_plain_text_for_the_terminal_has_numbered_citations() -> None:
    text = render_plain(answer_with("When?", BUILT, EVERYONE))
    assert f'"{BUILT.text}" [1]' in text
    assert f'"{EVERYONE.text}" [2]' in text, "no escaping outside Discord"
    assert "[1] The Brightwater Lighthouse — https://example.org/history/" in text


def test_escape_leaves_plain_words_alone() -> None:
    assert escape("The tower is 41 metres tall.") == "The tower is 41 metres tall."


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=3000).filter(lambda t: t.strip() and "\u200b" not in t))
def test_any_quote_renders_within_the_limit_and_displays_as_written(text: str) -> None:
    quote = Quote(text, "a", "T", "https://x.org/p", "a.md", None, 0, len(text), 1.0)
    content = render_answer(Answer("q", True, (quote,), ()))
    assert len(content) <= MESSAGE_LIMIT
    assert parse_mentions(content) == ([], [], False)
    block = content.split("\n\n")[0].splitlines()
    assert all(line.startswith("> ") for line in block), "no line escapes the quote"
    lines = [line[2:] for line in block]
    lines[-1] = strip_citation(lines[-1])
    shown = [displayed(line) for line in lines]
    if shown[-1].endswith(" …"):  # cut to fit: a prefix of the words, whole words only
        prefix = shown[-1].removesuffix(" …").split()
        assert len(shown) == 1 and text.split()[: len(prefix)] == prefix
    else:
        assert shown == [line.strip() for line in text.splitlines() if line.strip()]
