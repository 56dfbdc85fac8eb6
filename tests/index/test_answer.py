import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from index import integrity
from index.abstain import AbstainRule
from index.answer import AnswerConfig, Answerer, is_follow_up
from index.build import build_index
from index.engine import Engine
from index.errors import (
    ConfigError,
    EmptyQuestionError,
    NoSearchableWordsError,
    QuestionTooLongError,
)
from index.quotes import QuoteWeights
from index.store import CURRENT, META, VERSIONS
from tests.fakes import HashEmbedder
from tests.index.answer_helpers import build_test_index, open_answerer

# Answers whatever the confidence, to test quoting apart from abstention.
EVERYTHING = AnswerConfig(abstain=AbstainRule(threshold=-10.0), quote=QuoteWeights(floor=0.0))


@pytest.fixture
def embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture
def index_dir(tmp_path: Path, embedder: HashEmbedder) -> Path:
    return build_test_index(tmp_path, embedder)


@pytest.fixture
def answerer(index_dir: Path, embedder: HashEmbedder) -> Iterator[Answerer]:
    answerer = open_answerer(index_dir, embedder, EVERYTHING)
    yield answerer
    answerer.close()


def test_quotes_are_verbatim_article_text(answerer: Answerer) -> None:
    answer = answerer.ask("What was the lighthouse at Halden Point built from?")
    assert answer.answered and answer.quotes
    assert "granite" in answer.quotes[0].text
    for quote in answer.quotes:
        article = answerer.store.article(quote.article_id)
        assert article is not None
        assert article.text[quote.start : quote.end] == quote.text
        assert quote.title == article.title and quote.path == article.path
    assert [q.score for q in answer.quotes] == sorted(
        (q.score for q in answer.quotes), reverse=True
    )
    assert answer.ms > 0


@pytest.fixture
def unchecked_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening checks only the database's schema, as above its budget for a full check, so a
    tampered row is served and only the quote check can see it."""
    monkeypatch.setattr(integrity, "FULL_DB_CHECK_ON_OPEN_BYTES", -1)


def _tamper(index_dir: Path, old: str, new: str) -> None:
    version = index_dir / VERSIONS / (index_dir / CURRENT).read_text().strip()
    db = sqlite3.connect(version / META)
    db.execute("UPDATE articles SET text = replace(text, ?, ?)", (old, new))
    db.commit()
    db.close()


def test_a_quote_that_differs_from_the_stored_text_is_dropped_and_logged(
    index_dir: Path, embedder: HashEmbedder, caplog: pytest.LogCaptureFixture, unchecked_rows: None
) -> None:
    _tamper(index_dir, "quarried on the island", "shipped from the mainland")
    answerer = open_answerer(index_dir, embedder, EVERYTHING)
    with caplog.at_level(logging.WARNING, logger="index.answer"):
        answer = answerer.ask("What was the lighthouse at Halden Point built from?")
    answerer.close()
    assert all("granite" not in q.text for q in answer.quotes)
    assert any("dropped a quote" in r.getMessage() for r in caplog.records)
    for quote in answer.quotes:  # the quotes that remain still pass the check
        assert "quarried" not in quote.text


def test_tampering_every_quoted_article_leaves_no_quote_and_no_answer(
    index_dir: Path, embedder: HashEmbedder, unchecked_rows: None
) -> None:
    _tamper(index_dir, "e", "E")
    answerer = open_answerer(index_dir, embedder, EVERYTHING)
    answer = answerer.ask("What was the lighthouse at Halden Point built from?")
    answerer.close()
    assert answer.quotes == () and not answer.answered
    assert answer.passages  # the nearest sources are still listed


@pytest.mark.parametrize(
    ("question", "error"),
    [
        ("", EmptyQuestionError),
        ("  \n ", EmptyQuestionError),
        ("why? " * 300, QuestionTooLongError),
        ("<@1234> https://example.org/x ?!", NoSearchableWordsError),
    ],
)
def test_bad_questions_raise_the_engines_errors(
    answerer: Answerer, question: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        answerer.ask(question)


def test_discord_markup_does_not_change_the_answer(answerer: Answerer) -> None:
    plain = answerer.ask("How many sailors did the keeper rescue?")
    marked = answerer.ask(
        "<@123456789> **How many** sailors did the _keeper_ rescue? "
        "<:lamp:987654321> https://example.org/lighthouse?x=1 <#42>"
    )
    assert marked.quotes[0].text == plain.quotes[0].text
    assert "19 sailors" in marked.quotes[0].text
    assert marked.question.startswith("<@123456789>")  # the question is kept as asked


def test_stopword_only_questions_are_still_searched(answerer: Answerer) -> None:
    answer = answerer.ask("what is it?")
    assert answer.passages


def test_follow_up_uses_the_earlier_question(answerer: Answerer) -> None:
    ferry = answerer.ask("and when was that?", context="Tell me about the Skarp ferry")
    bridge = answerer.ask("and when was that?", context="Tell me about the Orrin bridge")
    assert ferry.passages[0].title == "Ferry timetable changes"
    assert bridge.passages[0].title == "New bridge opens over the Orrin river"
    # A full new question ignores the context.
    fresh = answerer.ask(
        "How many sailors did the lighthouse keeper rescue in 1952?", context="Skarp ferry"
    )
    assert fresh.passages[0].title == "The Keeper of Halden Point"


def test_is_follow_up() -> None:
    assert is_follow_up("and when did it end?")
    assert is_follow_up("what about the bridge?")
    assert not is_follow_up("How many sailors did the Halden Point keeper rescue in 1952?")


def test_at_least_ten_passages_are_listed(tmp_path: Path, embedder: HashEmbedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(14):
        (corpus / f"a{i}.txt").write_text(
            f"Town {i}\n\nThe town number {i} has a harbour and {i + 3} fishing boats. "
            f"Its market opens on day {i}.\n",
            encoding="utf-8",
        )
    build_index(corpus, tmp_path / "index", embedder)
    answerer = open_answerer(tmp_path / "index", embedder)
    answer = answerer.ask("How many fishing boats does the harbour have?")
    answerer.close()
    assert len(answer.passages) >= 10
    assert len({p.article_id for p in answer.passages}) >= 10


def test_config_from_env_overrides_nested_fields() -> None:
    config = AnswerConfig.from_env(
        {
            "CITEBOT_ANSWER_MAX_QUOTES": "1",
            "CITEBOT_QUOTE_FLOOR": "0.8",
            "CITEBOT_ABSTAIN_THRESHOLD": "1.5",
        }
    )
    assert config.max_quotes == 1
    assert config.quote.floor == 0.8
    assert config.abstain.threshold == 1.5
    assert config.depth == AnswerConfig().depth
    with pytest.raises(ConfigError, match="CITEBOT_ANSWER_DEPTH"):
        AnswerConfig.from_env({"CITEBOT_ANSWER_DEPTH": "many"})


def test_engine_reads_answer_settings_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITEBOT_ANSWER_MAX_QUOTES", "2")
    assert Engine(tmp_path / "index", tmp_path / "corpus").config.max_quotes == 2
    monkeypatch.setenv("CITEBOT_ANSWER_MAX_QUOTES", "two")
    with pytest.raises(ConfigError, match="CITEBOT_ANSWER_MAX_QUOTES"):
        Engine(tmp_path / "index", tmp_path / "corpus")


def test_max_quotes_is_honoured(index_dir: Path, embedder: HashEmbedder) -> None:
    config = AnswerConfig(max_quotes=1, abstain=EVERYTHING.abstain)
    answerer = open_answerer(index_dir, embedder, config)
    answer = answerer.ask("Who rescued sailors near the lighthouse?")
    answerer.close()
    assert len(answer.quotes) == 1


def test_search_returns_k_passages(answerer: Answerer) -> None:
    found = answerer.search("ferry timetable", 3)
    assert len(found) == 3
    assert found[0].title == "Ferry timetable changes"


def test_the_index_tells_which_question_words_an_article_holds(
    answerer: Answerer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fast path (one FTS5 query per word and article) and stemming the whole article
    # give the same stems; the second is what a word of several tokens falls back to.
    articles = [a.id for a in answerer.store.articles()]
    terms = ["lighthouse", "keepers", "running", "tides", "harbour", "zzzunknown", "built"]
    term_stems = answerer._stemmer.stems(terms)
    fast = answerer._article_terms(set(articles), terms, term_stems)
    read = answerer.store.article
    texts: dict[str, object] = {}
    monkeypatch.setattr(answerer.store, "article", lambda i: texts.setdefault(i, read(i)))
    whole = answerer._article_terms(set(articles), terms, [*term_stems[:-1], {"built", "x"}])
    assert set(texts) == set(articles)  # the fallback read every article
    wanted = set().union(*term_stems)
    assert fast == {a: stems & wanted for a, stems in whole.items()}
    assert any(fast.values()) and not any("zzzunknown" in s for s in fast.values())
