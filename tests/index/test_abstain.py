from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.abstain import AbstainRule, agreement
from index.answer import Answerer
from index.answer_types import DATE, PERSON, PLACE
from index.evidence import (
    QUESTION_FEATURES,
    SENTENCE_FEATURES,
    AnswerModel,
    QuestionFacts,
    explain,
    fit_logistic,
    is_signature,
    missing_rarest,
    one_edit,
    question_numbers,
    question_phrases,
    question_row,
    sentence_rows,
    strong_type,
    weighted_share,
)
from index.question import words
from index.quotes import Sentence, link_neighbours
from tests.index.answer_helpers import build_test_index, open_answerer


def test_the_threshold_decides_and_an_absent_amount_overrules_it() -> None:
    assert AbstainRule(threshold=0.5).should_answer(0.5)
    assert not AbstainRule(threshold=0.51).should_answer(0.5)
    assert not AbstainRule(threshold=0.0).should_answer(1.0, absent=True)
    reason = AbstainRule(threshold=0.6).reason(0.42, False, "missing 1.00")
    assert "0.42 below 0.60" in reason and "missing 1.00" in reason
    assert "absent 1.00" in AbstainRule().reason(0.9, True, "")


def test_a_name_no_article_holds_overrules_the_threshold() -> None:
    assert not AbstainRule(threshold=0.0).should_answer(1.0, unheard=True)
    assert "unheard 1.00" in AbstainRule().reason(0.9, False, "", unheard=True)


def test_one_edit_reaches_every_spelling_one_letter_away() -> None:
    near = one_edit("maastrich")
    assert {"maastricht", "maastric", "maastrihc", "maastrick"} <= near
    assert "maastrich" in one_edit("maastrihc") and "mastricht" not in near


def test_signature_dateline_and_caption_lines() -> None:
    assert is_signature("\u2014 Cui Tiankai (@AmbCuiTiankai) July 8, 2019")
    assert is_signature("WASHINGTON (AP) \u2014 The embassy said on Monday that it would stay.")
    assert is_signature("Photo: the embassy in Washington")
    assert not is_signature("Cui Tiankai made his first tweet Monday morning.")
    assert is_signature("PHOTO: the embassy in Washington")
    # A dash inside an ordinary sentence is no dateline.
    assert not is_signature("A city is also a commune – but with the city charter.")
    assert not is_signature("The city has two universities — Newcastle University and Northumbria.")


def test_question_phrases_and_numbers() -> None:
    assert question_phrases("Who won the 2022 World Cup?") == ["World Cup"]
    assert question_phrases("Where was Cui Tiankai born?") == ["Cui Tiankai"]
    assert question_phrases("Who founded the company Amazon?") == []
    assert question_numbers("What did the ambassador tweet in 2025?") == ["2025"]


def test_strong_type_looks_at_what_the_name_or_date_does() -> None:
    assert strong_type("The keeper was Ingrid Moss.", PERSON, {"keeper"})
    assert not strong_type("The keeper saw Twitter.", PERSON, set())
    # An event, a period or a place named in capitals answers no "who".
    assert not strong_type("It traded until World War II.", PERSON, set())
    assert not strong_type("It froze in the Middle Ages on the Vistula River.", PERSON, set())
    assert strong_type("It traded until Jan Kowalski closed it in World War II.", PERSON, set())
    assert strong_type("It opened in March 1904.", DATE, set())
    assert not strong_type("It opened long before.", DATE, set())
    assert strong_type("She was born in Oslo.", PLACE, {"born"})
    assert not strong_type("She was born.", PLACE, set())


def test_a_kind_asked_for_and_held_by_no_sentence_beside_the_best_is_a_feature() -> None:
    text = "The lighthouse keeper lived there. The lighthouse opened in March 1904. It shone."
    parts = ["The lighthouse keeper lived there.", "The lighthouse opened in March 1904."]
    parts.append("It shone.")
    stems = {i: set(words(p)) for i, p in enumerate(parts)}
    weights = {"lighthouse": 1.0, "open": 1.0}

    def features(kind: str | None, among: list[int]) -> dict[str, float]:
        """QUESTION_FEATURES with the first of the candidate sentences `among` the best."""
        sentences = []
        for i in among:
            start = text.index(parts[i])
            sentences.append(Sentence(i, "a", start, start + len(parts[i]), parts[i], 0, 1.0))
        link_neighbours(sentences)
        rows = sentence_rows(sentences, stems, set(weights), weights, kind, set(), [], {})
        facts = QuestionFacts(0.5, 1.0, 1.0, 0.0, 0.0, 0.0, kind)
        row = question_row(rows, np.zeros(len(sentences)), 0, facts)
        return dict(zip(QUESTION_FEATURES, row, strict=True))

    # The year stands beside the first sentence: the date is held.
    assert features(DATE, [0, 1, 2])["no_date"] == 0.0
    # Without the sentence holding it, nothing beside the best one gives a date.
    alone = features(DATE, [0, 2])
    assert alone["no_date"] == 1.0 and alone["no_person"] == 0.0
    assert features(PERSON, [0, 1, 2])["no_person"] == 1.0
    assert sum(features(None, [0, 2])[f] for f in ("no_date", "no_person")) == 0.0


def test_missing_rarest_and_weighted_share() -> None:
    weights = {"born": 4.0, "cui": 2.0}
    assert missing_rarest({"cui"}, weights) == 1.0
    assert missing_rarest({"born"}, weights) == 0.5
    assert missing_rarest({"born", "cui"}, weights) == 0.0
    assert weighted_share({"cui"}, weights) == pytest.approx(2.0 / 6.0)


def test_logistic_fit_separates_and_explains() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] - 0.5 * x[:, 1] > 0).astype(float)
    model = fit_logistic(x, y, ("good", "bad"), l2=0.1)
    assert ((model.logits(x) > 0) == (y > 0)).mean() > 0.95
    assert model.weights[0] > 0 > model.weights[1]
    assert explain(model, [-2.0, 2.0]).startswith(("good -2.00", "bad 2.00"))


def test_the_shipped_model_has_every_feature() -> None:
    model = AnswerModel.load()
    assert model.sentence.features == SENTENCE_FEATURES
    assert model.question.features == QUESTION_FEATURES
    assert "calibrate" in model.source


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


def test_a_name_no_article_holds_is_abstained_and_a_misspelt_one_is_not(
    answerer: Answerer,
) -> None:
    unheard = answerer.ask("Where was Rihanna born?")
    assert not unheard.answered and "unheard 1.00" in unheard.reason
    misspelt = answerer.ask("How many sailors did the keeper of Haldn Point rescue?")
    assert "unheard" not in misspelt.reason
    run_together = answerer.ask("How many sailors did the keeper of HaldenPoint rescue?")
    assert "unheard" not in run_together.reason


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
    assert "do not seem to answer this" in answer.reason
