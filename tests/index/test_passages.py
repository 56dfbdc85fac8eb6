import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from index.passages import MAX_SENTENCE_WORDS, make_passages, split_sentences


def sentences_of(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_abbreviations_initials_and_decimals_do_not_end_sentences() -> None:
    text = "Dr. Smith met J. K. Rowling in Washington, D.C. on Monday. He paid $3.50 for tea."
    assert sentences_of(text) == [
        "Dr. Smith met J. K. Rowling in Washington, D.C. on Monday.",
        "He paid $3.50 for tea.",
    ]


def test_an_abbreviation_opening_a_line_or_paragraph_ends_no_sentence() -> None:
    text = "The lamp was lit.\n\nDr. Ada Brann kept it.\tMr. Kay left.\nSt. Paul is a city."
    assert sentences_of(text) == [
        "The lamp was lit.",
        "Dr. Ada Brann kept it.",
        "Mr. Kay left.",
        "St. Paul is a city.",
    ]


def test_a_spaced_ellipsis_ends_no_sentence_unless_a_capital_follows() -> None:
    text = 'He said, "I am here to . . . submit cheerfully." It was . . . Late. Then . . .'
    assert sentences_of(text) == [
        'He said, "I am here to . . . submit cheerfully."',
        "It was . . .",
        "Late.",
        "Then . . .",
    ]


def test_a_company_suffix_or_etc_ends_a_sentence_only_before_a_sentence_opener() -> None:
    text = "Shares of Acme Inc. rose. They sold Acme Inc. The firm grew, etc. It also hired."
    assert sentences_of(text) == [
        "Shares of Acme Inc. rose.",
        "They sold Acme Inc.",
        "The firm grew, etc.",
        "It also hired.",
    ]


def test_dotted_acronym_ends_a_sentence_only_before_a_sentence_opener() -> None:
    text = "The U.S. Army is large. It moved to the U.S. The move took a year."
    assert sentences_of(text) == [
        "The U.S. Army is large.",
        "It moved to the U.S.",
        "The move took a year.",
    ]


def test_quotes_and_brackets_stay_with_their_sentence() -> None:
    text = 'He said, "I am done." Then he left. (It was late.) "Why?" she asked.'
    assert sentences_of(text) == [
        'He said, "I am done."',
        "Then he left.",
        "(It was late.)",
        '"Why?" she asked.',
    ]


def test_paragraph_breaks_and_attribution_lines_end_sentences() -> None:
    text = "A heading without a period\n\nWe are pleased to join\n— Cui Tiankai, July 8, 2019"
    assert sentences_of(text) == [
        "A heading without a period",
        "We are pleased to join",
        "— Cui Tiankai, July 8, 2019",
    ]


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
