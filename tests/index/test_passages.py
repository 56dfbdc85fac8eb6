import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.passages import MAX_SENTENCE_WORDS, make_passages, split_sentences


def sentences_of(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


SPLITS = [
    pytest.param(
        "Dr. Smith met J. K. Rowling in Washington, D.C. on Monday. He paid $3.50 for tea.",
        ["Dr. Smith met J. K. Rowling in Washington, D.C. on Monday.", "He paid $3.50 for tea."],
        id="abbreviations, initials and decimals end no sentence",
    ),
    pytest.param(
        "The lamp was lit.\n\nDr. Ada Brann kept it.\tMr. Kay left.\nSt. Paul is a city.",
        ["The lamp was lit.", "Dr. Ada Brann kept it.", "Mr. Kay left.", "St. Paul is a city."],
        id="an abbreviation opening a line or paragraph ends no sentence",
    ),
    pytest.param(
        'He said, "I am here to . . . submit cheerfully." It was . . . Late. Then . . .',
        ['He said, "I am here to . . . submit cheerfully."', "It was . . .", "Late.", "Then . . ."],
        id="a spaced ellipsis ends a sentence only before a capital",
    ),
    pytest.param(
        "Shares of Acme Inc. rose. They sold Acme Inc. The firm grew, etc. It also hired.",
        [
            "Shares of Acme Inc. rose.",
            "They sold Acme Inc.",
            "The firm grew, etc.",
            "It also hired.",
        ],
        id="a company suffix or etc. ends a sentence only before a sentence opener",
    ),
    pytest.param(
        "The U.S. Army is large. It moved to the U.S. The move took a year.",
        ["The U.S. Army is large.", "It moved to the U.S.", "The move took a year."],
        id="a dotted acronym ends a sentence only before a sentence opener",
    ),
    pytest.param(
        'He said, "I am done." Then he left. (It was late.) "Why?" she asked.',
        ['He said, "I am done."', "Then he left.", "(It was late.)", '"Why?" she asked.'],
        id="quotes and brackets stay with their sentence",
    ),
    pytest.param(
        "A heading without a period\n\nWe are pleased to join\n— Cui Tiankai, July 8, 2019",
        ["A heading without a period", "We are pleased to join", "— Cui Tiankai, July 8, 2019"],
        id="paragraph breaks and attribution lines end sentences",
    ),
]


@pytest.mark.parametrize(("text", "sentences"), SPLITS)
def test_sentences_end_where_a_reader_would_end_them(text: str, sentences: list[str]) -> None:
    assert sentences_of(text) == sentences


def test_a_sentence_too_long_is_cut_at_word_boundaries() -> None:
    text = " ".join(f"w{i}" for i in range(MAX_SENTENCE_WORDS * 2 + 5))
    spans = split_sentences(text)
    assert [len(text[s:e].split()) for s, e in spans] == [MAX_SENTENCE_WORDS] * 2 + [5]


def test_passages_are_whole_sentences_of_about_the_target_size_with_overlap() -> None:
    text = " ".join(f"Sentence number {i} has exactly seven words." for i in range(40))
    sentences = split_sentences(text)
    passages = make_passages(text, sentences, target_words=30, overlap_sentences=1)
    starts = {s for s, _ in sentences}
    ends = {e for _, e in sentences}
    assert all(s in starts and e in ends for s, e in passages)
    assert all(28 <= len(text[s:e].split()) <= 45 for s, e in passages[:-1])
    for (_, first_end), (second_start, _) in itertools.pairwise(passages):
        assert second_start < first_end  # consecutive passages share a sentence
    assert passages[-1][1] == sentences[-1][1]


def test_a_huge_sentence_becomes_several_passages() -> None:
    text = "Short one. " + " ".join(["word"] * 500) + ". Last one."
    sentences = [(0, 10), (11, len(text) - 10), (len(text) - 9, len(text))]
    passages = make_passages(text, sentences, target_words=100, overlap_sentences=1)
    assert max(len(text[s:e].split()) for s, e in passages) <= 100
    covered = " ".join(text[s:e] for s, e in passages)
    assert covered.count("word") >= 500


words = st.text(alphabet="abcXYZ .,!?\"'’”“—\n\t()", min_size=0, max_size=400)


@settings(max_examples=300, deadline=None)
@given(words, st.integers(min_value=1, max_value=60), st.integers(min_value=0, max_value=3))
def test_offsets_always_slice_the_text(text: str, target: int, overlap: int) -> None:
    sentences = split_sentences(text)
    last_end = 0
    for start, end in sentences:
        assert last_end <= start < end <= len(text)
        piece = text[start:end]
        assert piece == piece.strip() and piece
        last_end = end
    assert re.sub(r"\s", "", "".join(text[s:e] for s, e in sentences)) == re.sub(r"\s", "", text)
    passages = make_passages(text, sentences, target, overlap)
    for start, end in passages:
        assert 0 <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
    for start, end in sentences:
        if len(text[start:end].split()) <= 2 * target:
            assert any(ps <= start and end <= pe for ps, pe in passages)
    if sentences:
        assert passages[0][0] == sentences[0][0]
        assert passages[-1][1] == sentences[-1][1]
