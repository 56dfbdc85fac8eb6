"""Abstention on a news article: hand-labelled questions, answerable or on-topic but not.

The index holds the sample corpus's news article and three Wikipedia articles. The floors
sit below what the engine measured when they were set: none of the 16 answerable questions
abstained and the first quote held the answer for 11 of them; 8 of the 16 unanswerable ones
were abstained, 7 since the soft focus joined the sentence ranking (a sum or a count the
article never gives, an age, a birthplace, a date it does not fix, a university and a year
it never mentions). Half of the on-topic questions whose fact is absent but whose words are
the article's own ("Who was China's ambassador before Cui Tiankai?") still get an answer:
the last test marks that limit.
"""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.answer import Answerer
from index.build import build_index
from index.evaluate import contains_answer
from tests.conftest import ROOT, TEST_DATA
from tests.index.answer_helpers import open_answerer

QUESTIONS = json.loads((TEST_DATA / "news_questions.json").read_text(encoding="utf-8"))
ARTICLES = [
    ROOT / "corpus" / "china-ambassador-joins-twitter.md",
    ROOT / "corpus" / "wikipedia" / "Super_Bowl_50.md",
    ROOT / "corpus" / "wikipedia" / "Nikola_Tesla.md",
    ROOT / "corpus" / "wikipedia" / "Warsaw.md",
]
ANSWERABLE = QUESTIONS["answerable"]
UNANSWERABLE = [item["question"] for item in QUESTIONS["unanswerable"]]
FIRST_QUOTE_FLOOR = 10


@pytest.fixture(scope="module")
def news_index(tmp_path_factory: pytest.TempPathFactory, minilm: Any) -> Path:
    """The news article and a few Wikipedia articles indexed with the real model."""
    folder = tmp_path_factory.mktemp("news")
    corpus = folder / "corpus"
    corpus.mkdir()
    for path in ARTICLES:
        shutil.copy(path, corpus / path.name)
    build_index(corpus, folder / "index", minilm)
    return folder / "index"


@pytest.fixture
def answerer(news_index: Path, minilm: Any) -> Iterator[Answerer]:
    answerer = open_answerer(news_index, minilm)
    yield answerer
    answerer.close()


def test_the_labelled_set_is_balanced() -> None:
    assert len(ANSWERABLE) >= 12 and len(UNANSWERABLE) >= 12
    text = ARTICLES[0].read_text(encoding="utf-8")
    assert all(contains_answer(text, [item["answer"]]) for item in ANSWERABLE)


@pytest.mark.slow
def test_answerable_news_questions_are_answered_with_the_fact(answerer: Answerer) -> None:
    answers = [(item, answerer.ask(item["question"])) for item in ANSWERABLE]
    abstained = [item["question"] for item, a in answers if not a.answered]
    first = [
        item["question"]
        for item, a in answers
        if a.quotes and contains_answer(a.quotes[0].text, [item["answer"]])
    ]
    assert len(abstained) <= 1, abstained
    assert len(first) >= FIRST_QUOTE_FLOOR, first


@pytest.mark.slow
def test_an_amount_the_article_never_gives_is_abstained(answerer: Answerer) -> None:
    answer = answerer.ask("How much did the Embassy pay for its Twitter account?")
    assert not answer.answered
    assert "absent 1.00" in answer.reason


@pytest.mark.slow
def test_a_year_or_a_subject_the_article_never_names_is_abstained(answerer: Answerer) -> None:
    for question in (
        "What did the ambassador tweet in 2025?",
        "Which university did Cui Tiankai attend?",
    ):
        answer = answerer.ask(question)
        assert not answer.answered, question
        assert "held back by" in answer.reason and answer.passages


@pytest.mark.slow
def test_a_who_question_is_not_answered_by_a_war_named_in_capitals(answerer: Answerer) -> None:
    # Warsaw's article says when its stock exchange was established, not who founded the city.
    answer = answerer.ask("Who founded Warsaw?")
    assert not answer.answered
    assert "no_person" in answer.reason and answer.passages


@pytest.mark.slow
def test_a_third_of_the_on_topic_unanswerable_questions_are_abstained(answerer: Answerer) -> None:
    abstained = [q for q in UNANSWERABLE if not answerer.ask(q).answered]
    assert len(abstained) >= 6, abstained


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="known limit: on-topic questions whose fact is absent but whose words are the "
    "article's own are half answered (7 of 16 abstained when measured; 6 of 16 with the "
    "whole sample corpus indexed)",
)
def test_most_on_topic_unanswerable_questions_are_abstained(answerer: Answerer) -> None:
    abstained = [q for q in UNANSWERABLE if not answerer.ask(q).answered]
    assert len(abstained) >= 0.7 * len(UNANSWERABLE), abstained
