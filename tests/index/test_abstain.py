from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.abstain import AbstainRule, Signals, agreement
from index.answer import Answerer
from tests.index.answer_helpers import build_test_index, open_answerer


def test_confidence_is_the_weighted_sum_of_the_signals() -> None:
    rule = AbstainRule(cosine=1.0, overlap=2.0, agreement=0.5, typed=0.25, unknown=-1.0)
    signals = Signals(cosine=0.5, overlap=0.25, agreement=1.0, typed=1.0, unknown=1.0)
    assert rule.confidence(signals) == pytest.approx(0.5 + 0.5 + 0.5 + 0.25 - 1.0)


def test_the_threshold_decides() -> None:
    signals = Signals(cosine=0.5, overlap=0.4, agreement=0.0, typed=0.5)
    confidence = AbstainRule().confidence(signals)
    assert AbstainRule(threshold=confidence).should_answer(signals)
    assert not AbstainRule(threshold=confidence + 0.01).should_answer(signals)
    reason = AbstainRule(threshold=confidence + 0.01).reason(signals)
    assert "below" in reason and "cosine 0.50" in reason


def test_an_unknown_name_lowers_confidence() -> None:
    known = Signals(cosine=0.6, overlap=0.6, agreement=1.0, typed=1.0)
    unknown = Signals(cosine=0.6, overlap=0.6, agreement=1.0, typed=1.0, unknown=1.0)
    assert AbstainRule().confidence(unknown) < AbstainRule().confidence(known)


def test_agreement_of_the_two_retrievers() -> None:
    assert agreement([1, 2, 3], [1, 5, 6]) == 1.0
    assert agreement([1, 2, 3], [2, 1, 6]) == 0.5
    assert agreement([1, 2, 3], [4, 5, 1]) == 0.0
    assert agreement([], [1]) == 0.0


@pytest.fixture(scope="module")
def real_index(tmp_path_factory: pytest.TempPathFactory, minilm: Any) -> Path:
    """The test corpus indexed with the real model, once for this module."""
    return build_test_index(tmp_path_factory.mktemp("abstain"), minilm)


@pytest.fixture
def answerer(real_index: Path, minilm: Any) -> Iterator[Answerer]:
    answerer = open_answerer(real_index, minilm)
    yield answerer
    answerer.close()


@pytest.mark.parametrize(
    "question",
    [
        "How many sailors did the keeper of Halden Point rescue?",
        "How much did the new bridge over the Orrin river cost?",
        "When does the morning ferry to Skarp leave?",
    ],
)
def test_answerable_questions_are_answered(answerer: Answerer, question: str) -> None:
    answer = answerer.ask(question)
    assert answer.answered, answer.reason
    assert answer.quotes and answer.reason == ""


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of Mongolia?",
        "Who won the football world cup in 1998?",
        "How do I reset my router password?",
    ],
)
def test_off_corpus_questions_are_abstained(answerer: Answerer, question: str) -> None:
    answer = answerer.ask(question)
    assert not answer.answered
    assert answer.quotes == ()
    assert answer.passages  # the nearest sources instead
    assert "below" in answer.reason


def test_an_absent_amount_overrules_the_other_signals() -> None:
    strongest = Signals(cosine=1.0, overlap=1.0, agreement=1.0, typed=0.0)
    absent = Signals(cosine=1.0, overlap=1.0, agreement=1.0, typed=0.0, absent=1.0)
    assert AbstainRule().should_answer(strongest)
    assert not AbstainRule().should_answer(absent)
