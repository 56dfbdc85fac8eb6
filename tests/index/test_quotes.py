import numpy as np
import pytest

from index.answer_types import DATE, MONEY, NUMBER, PERSON, holds_type, question_type
from index.evidence import weighted_share as term_overlap
from index.quotes import (
    Sentence,
    idf,
    link_neighbours,
    quote_span,
    score_sentences,
    select_quotes,
)
from index.types import Passage

TEXT = (
    "The lighthouse was built in 1871. It burned whale oil until 1904. "
    "A keeper lived there for thirty one years.\n\nShort one. The second paragraph ends here."
)


def _sentences() -> list[Sentence]:
    spans = []
    start = 0
    for piece in (
        "The lighthouse was built in 1871.",
        "It burned whale oil until 1904.",
        "A keeper lived there for thirty one years.",
        "Short one.",
        "The second paragraph ends here.",
    ):
        start = TEXT.index(piece, start)
        spans.append((start, start + len(piece)))
        start += len(piece)
    out = [
        Sentence(i, "a", s, e, TEXT[s:e], passage_rank=0, passage_score=1.0)
        for i, (s, e) in enumerate(spans)
    ]
    link_neighbours(out)
    return out


PASSAGE = Passage(0, "a", 0, 0, len(TEXT), TEXT)


def test_neighbours_link_consecutive_sentences_only() -> None:
    s = _sentences()
    assert s[0].prev is None and s[0].next is s[1] and s[1].prev is s[0]
    lone = Sentence(9, "a", 0, 1, "x", 0, 1.0)
    other = Sentence(10, "b", 0, 1, "y", 0, 1.0)
    link_neighbours([lone, other])
    assert lone.next is None and other.prev is None


def test_a_sentence_opening_with_a_pronoun_brings_its_predecessor() -> None:
    s = _sentences()
    for x, score in zip(s, (0.1, 2.0, 0.1, 0.1, 0.1), strict=True):
        x.score = score
    assert quote_span(s[1]) == (s[0].start, s[1].end)


def test_a_neighbour_scoring_nearly_as_well_joins_the_quote_and_a_weaker_one_does_not() -> None:
    s = _sentences()
    for x in s:
        x.score = 0.1
    s[2].score = 2.0
    s[1].score = 1.8
    assert quote_span(s[2], pair_margin=0.3) == (s[1].start, s[2].end)
    assert quote_span(s[2], pair_margin=0.1) == (s[2].start, s[2].end)
    s[1].score = 1.5  # well below the best: it would only pad the quote
    assert quote_span(s[2], pair_margin=0.3) == (s[2].start, s[2].end)


def test_a_neighbour_holding_the_asked_kind_completes_the_quote() -> None:
    s = _sentences()
    for x in s:
        x.score = 0.1
    s[2].score = 2.0
    s[1].typed = 1.0
    assert quote_span(s[2]) == (s[1].start, s[2].end)
    s[2].typed = 1.0  # the best one holds it too: nothing to complete
    assert quote_span(s[2]) == (s[2].start, s[2].end)


def test_a_too_short_sentence_takes_the_next_one() -> None:
    s = _sentences()
    for x in s:
        x.score = 0.0
    s[3].score = 1.0
    assert quote_span(s[3]) == (s[3].start, s[4].end)


def test_a_sentence_ending_with_a_colon_takes_the_next_one() -> None:
    text = "The keeper wrote one rule above the door of the lighthouse: Never let the lamp go dark."
    cut = text.index("Never")
    a = Sentence(0, "a", 0, cut - 1, text[: cut - 1], 0, 1.0, score=2.0)
    b = Sentence(1, "a", cut, len(text), text[cut:], 0, 1.0)
    link_neighbours([a, b])
    assert quote_span(a) == (0, len(text))


def test_a_signature_line_never_leads() -> None:
    text = "\u2014 Cui Tiankai (@AmbCuiTiankai) July 8, 2019\n\nCui made his first tweet on Monday."
    cut = text.index("Cui made")
    sig = Sentence(0, "a", 0, cut - 2, text[: cut - 2], 0, 1.0, score=3.0)
    fact = Sentence(1, "a", cut, len(text), text[cut:], 0, 1.0, score=1.0)
    spans = select_quotes([sig, fact], [Passage(0, "a", 0, 0, len(text), text)], limit=3)
    assert [q.text for q in spans] == ["Cui made his first tweet on Monday."]


def test_the_same_words_in_two_articles_are_quoted_once() -> None:
    # A copy of an article (a second file, a link to it) holds the same sentences.
    text = "The lighthouse was built in 1871. A keeper lived there for thirty one years."
    cut = text.index("A keeper")
    sentences = [
        Sentence(0, "a", 0, cut - 1, text[: cut - 1], 0, 1.0, score=3.0),
        Sentence(1, "copy", 0, cut - 1, text[: cut - 1], 1, 1.0, score=3.0),
        Sentence(2, "a", cut, len(text), text[cut:], 0, 1.0, score=1.0),
    ]
    passages = [Passage(0, "a", 0, 0, len(text), text), Passage(1, "copy", 0, 0, len(text), text)]
    spans = select_quotes(sentences, passages, limit=3)
    assert [(q.article_id, q.text) for q in spans] == [
        ("a", text[: cut - 1]),
        ("a", text[cut:]),
    ]


def test_quotes_never_cross_a_paragraph_break_and_never_overlap() -> None:
    s = _sentences()
    for x, score in zip(s, (0.5, 0.4, 2.0, 1.95, 0.1), strict=True):
        x.score = score
    spans = select_quotes(s, [PASSAGE], limit=3)
    assert [TEXT[q.start : q.end] for q in spans] == [q.text for q in spans]
    assert "\n" not in spans[0].text
    assert spans[0].text == "A keeper lived there for thirty one years."
    ranges = [(q.start, q.end) for q in spans]
    assert all(
        a_end <= b_start or b_end <= a_start
        for i, (a_start, a_end) in enumerate(ranges)
        for b_start, b_end in ranges[i + 1 :]
    )
    assert len(spans) == 3


def test_term_overlap_weighs_rare_terms() -> None:
    weights = {"lighthous": idf(1, 100), "built": idf(60, 100)}
    assert term_overlap({"lighthous"}, weights) > 0.8
    assert term_overlap({"built"}, weights) < 0.2
    assert term_overlap(set(), weights) == 0.0
    assert term_overlap({"x"}, {}) == 0.0


def test_score_sentences_fills_in_the_signals() -> None:
    s = _sentences()
    vectors = np.eye(5, 4, dtype=np.float32)
    question = np.array([0.0, 1.0, 0.0, 0.0], dtype=np.float32)
    stems = [{"lighthous", "built"}, {"burn", "whale", "oil"}, {"keeper"}, {"short"}, set()]
    score_sentences(s, vectors, question, stems, {"whale": 2.0, "oil": 1.0}, DATE, set())
    best = s[1]
    assert best.cosine == pytest.approx(1.0) and best.overlap == pytest.approx(1.0)
    assert best.typed == 1.0 and s[2].typed == 0.0
    assert s[0].neighbour == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When was the lighthouse built?", DATE),
        ("In what year did the lamp change?", DATE),
        ("How many sailors were rescued?", NUMBER),
        ("What percentage of ships sank?", NUMBER),
        ("What is the population of the town?", NUMBER),
        ("What was the estimated population of the port in 1900?", NUMBER),
        ("What was the year the lamp was lit?", DATE),
        ("What is the price of a ticket?", MONEY),
        ("What is the name of the lighthouse?", None),
        ("How much did the new burner cost?", MONEY),
        ("Who was the last keeper?", PERSON),
        ("What fuel did the lamp burn?", None),
    ],
)
def test_question_type(question: str, kind: str | None) -> None:
    assert question_type(question) == kind


def test_holds_type_needs_something_new() -> None:
    assert holds_type("It opened in March 1904.", DATE, set())
    assert holds_type("It was opened last year.", DATE, set())
    assert not holds_type("It opened in 1904.", DATE, {"1904"})
    assert not holds_type("You may go now.", DATE, set())
    assert holds_type("She rescued 19 sailors.", NUMBER, set())
    assert holds_type("The burner cost $4,000.", MONEY, set())
    assert not holds_type("The burner was cheap.", MONEY, set())
    assert holds_type("The keeper was Ingrid Moss.", PERSON, {"keeper"})
    assert not holds_type("Moss was the keeper.", PERSON, set())
    assert not holds_type("anything", None, set())


def test_later_quotes_must_pass_the_floor_themselves() -> None:
    s = _sentences()
    for x, score in zip(s, (2.0, -3.0, 1.3, -3.0, -0.5), strict=True):
        x.score = score
    kept = select_quotes(s, [PASSAGE], limit=3, passes=lambda x: x.score >= 0.0)
    assert [q.best.score for q in kept] == [2.0, 1.3]
    assert len(select_quotes(s, [PASSAGE], limit=3, passes=lambda x: x.score >= -1.0)) == 3
    lone = select_quotes(s[2:3], [PASSAGE], limit=3, passes=lambda x: False)
    assert [q.best.score for q in lone] == [1.3]  # the first quote needs no test


def test_two_sentences_no_one_passage_holds_are_cut_from_the_article() -> None:
    s = _sentences()
    for x, score in zip(s, (2.0, 1.9, 0.1, 0.1, 0.1), strict=True):
        x.score = score
    # Two passages of one sentence each: neither covers the pair.
    first = Passage(0, "a", 0, s[0].start, s[0].end, s[0].text)
    second = Passage(1, "a", 1, s[1].start, s[1].end, s[1].text)
    alone = select_quotes(s[:2], [first, second], limit=1)
    assert [q.text for q in alone] == [s[0].text]
    asked: list[str] = []

    def article_text(article_id: str) -> str | None:
        asked.append(article_id)
        return TEXT

    joined = select_quotes(s[:2], [first, second], limit=1, article_text=article_text)
    assert asked == ["a"]
    assert [q.text for q in joined] == [TEXT[s[0].start : s[1].end]]
    assert (joined[0].start, joined[0].end) == (s[0].start, s[1].end)
