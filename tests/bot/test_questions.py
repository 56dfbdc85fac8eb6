"""Which messages in a question channel are questions, and which are chatter left alone."""

from __future__ import annotations

import pytest

from bot.questions import looks_like_a_question


@pytest.mark.parametrize(
    "text",
    [
        "How tall is the lighthouse tower?",
        "how tall is the lighthouse tower",
        "why?",
        "and the engineer?",
        "what?! 🤔",
        "Who won",
        "Tell me about the Tarn estuary",
        "explain the tides",
        "Is the museum open in winter",
        "When's the next ferry? <@123>",
        "what about this https://example.org/a?b",
    ],
)
def test_questions(text: str) -> None:
    assert looks_like_a_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "thanks!",
        "ok",
        "lol",
        "👍",
        "🎉🎉",
        "<:party:123456789012345678>",
        "",
        "   ",
        "nice one",
        "will do!",
        "is it",
        "I visited the lighthouse museum last summer with my family.",
        "<@123> <#456>",
        "see https://example.org/what?",
    ],
)
def test_chatter(text: str) -> None:
    assert not looks_like_a_question(text)
