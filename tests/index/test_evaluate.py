import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import index.cli
from index.cli import eval_command
from index.evaluate import (
    ABSENT,
    ANSWERABLE,
    MISSING,
    MISSING_SENTENCE,
    OFF_CORPUS,
    OFF_TOPIC,
    CachingEmbedder,
    EvalQuestion,
    collect,
    contains_answer,
    load_squad,
    percentile,
    score,
    suite_figures,
    write_corpus,
)
from index.types import Answer, Quote, RetrievedPassage
from tests.conftest import TEST_DATA
from tests.fakes import HashEmbedder

SQUAD = TEST_DATA / "squad_tiny.json"
KEYS = {
    "questions",
    "recall@1",
    "recall@3",
    "recall@5",
    "recall@10",
    "mrr@10",
    "quote@1",
    "quote@3",
    "abstained_unanswerable",
    "abstained_answerable",
    "p50_ms",
    "p95_ms",
}


def test_load_squad_marks_impossible_and_held_out_questions() -> None:
    articles, questions, held = load_squad(SQUAD)
    assert [a.title for a in articles] == ["Halden Point", "Orrin bridge", "Tarn glacier"]
    assert "\n\n" in articles[0].text and held == set()
    assert [q.answerable for q in questions] == [True, True, True, False, True, True]
    assert questions[4].answers == ("48 million euros",)  # duplicates merged
    _, questions, held = load_squad(SQUAD, holdout=2)
    assert held == {0, 2}
    assert [q.answerable for q in questions] == [False, False, False, False, True, False]


def test_contains_answer_ignores_case_and_whitespace() -> None:
    assert contains_answer("It cost 48  MILLION\neuros.", ["48 million euros"])
    assert not contains_answer("It cost 48 euros.", ["48 million euros"])
    assert not contains_answer("anything", ["", "  "])


def test_percentile_matches_numpy() -> None:
    values = [5.0, 1.0, 9.0, 3.0, 7.5, 2.2]
    for q in (50, 95):
        assert percentile(values, q) == pytest.approx(np.percentile(values, q))
    assert percentile([], 50) is None


def _passage(text: str) -> RetrievedPassage:
    return RetrievedPassage(text, "a", "A", None, None, None, 0, len(text), 1.0)


def _quote(text: str) -> Quote:
    return Quote(text, "a", "A", None, None, None, 0, len(text), 1.0)


def test_score_counts_each_figure() -> None:
    found = EvalQuestion("q1", ("granite",), 0, True)
    missed = EvalQuestion("q2", ("whale oil",), 0, True)
    absent = EvalQuestion("q3", ("dogs",), 1, False)
    rejected = EvalQuestion("q4", ("x",), 1, False)
    passages = (_passage("built in 1871"), _passage("from granite"), _passage("on the island"))
    results = [
        (found, Answer("q1", True, (_quote("from granite"),), passages, ms=10.0)),
        (missed, Answer("q2", False, (), passages, ms=20.0)),
        (absent, Answer("q3", False, (), passages, ms=30.0)),
        (rejected, None),
    ]
    figures = score(results)
    assert set(figures) == KEYS
    assert figures["questions"] == 4
    assert figures["recall@1"] == 0.0
    assert figures["recall@3"] == figures["recall@5"] == figures["recall@10"] == 0.5
    assert figures["mrr@10"] == 0.25
    assert figures["quote@1"] == figures["quote@3"] == 0.5
    assert figures["abstained_unanswerable"] == 1.0
    assert figures["abstained_answerable"] == 0.5
    assert figures["p50_ms"] == 20.0


def test_score_without_unanswerable_questions_reports_null() -> None:
    q = EvalQuestion("q", ("a",), 0, True)
    figures = score([(q, Answer("q", True, (_quote("a"),), (_passage("a"),), ms=1.0))])
    assert figures["abstained_unanswerable"] is None
    assert figures["recall@1"] == figures["quote@1"] == 1.0


@pytest.fixture
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = HashEmbedder()
    monkeypatch.setattr(index.cli, "embedder_factory", lambda: embedder)


@pytest.mark.usefixtures("fake_embedder")
def test_eval_command_json_has_exactly_the_documented_keys() -> None:
    result = CliRunner().invoke(eval_command, [str(SQUAD), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert set(figures) == KEYS
    assert figures["questions"] == 6
    assert figures["abstained_unanswerable"] is not None
    for key in KEYS - {"questions", "p50_ms", "p95_ms", "abstained_unanswerable"}:
        assert 0.0 <= figures[key] <= 1.0
    assert figures["recall@10"] == 1.0  # three tiny articles: every answer is retrieved
    assert figures["p50_ms"] <= figures["p95_ms"]


@pytest.mark.usefixtures("fake_embedder")
def test_eval_command_holdout_and_human_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(eval_command, [str(SQUAD), "--holdout", "2"])
    assert result.exit_code == 0, result.output
    assert "answer recall" in result.stdout and "@10" in result.stdout
    assert "abstained, unanswerable" in result.stdout
    assert "p95" in result.stdout


def test_the_caching_embedder_embeds_each_text_once(tmp_path: Path) -> None:
    inner = HashEmbedder()
    cache = tmp_path / "vectors.npz"
    embedder = CachingEmbedder(inner, cache)
    first = embedder.embed(["a lighthouse", "a ferry", "a lighthouse"])
    assert inner.calls == 2 and embedder.embedded == 2
    again = embedder.embed(["a ferry", "a lighthouse"])
    assert inner.calls == 2
    assert np.array_equal(again, first[[1, 0]])
    embedder.save()
    reloaded = CachingEmbedder(inner, cache)
    assert np.array_equal(reloaded.embed(["a ferry"]), first[[1]]) and inner.calls == 2


def test_absent_fact_questions_are_asked_of_the_full_index_in_their_articles_fold() -> None:
    articles, _, _ = load_squad(SQUAD)
    title = articles[0].title
    records = collect(
        SQUAD,
        CachingEmbedder(HashEmbedder()),
        absent=[(title, "How old was the keeper?"), ("No such article", "Why?")],
    )
    absent = [r for r in records if r.set == ABSENT]
    assert [(r.question, r.article, r.fold) for r in absent] == [("How old was the keeper?", 0, 0)]
    assert absent[0].answer is not None


def test_leaving_out_answer_sentences_keeps_the_rest_of_the_paragraph(tmp_path: Path) -> None:
    articles, _, _ = load_squad(SQUAD)
    folder = write_corpus(articles, set(), tmp_path / "c", drop_paragraph=0, answers_only=True)
    first = json.loads((folder / "articles.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert "built in 1871" not in first["text"]  # the sentence holding "1871" is gone
    assert "whale oil" not in first["text"]
    assert "Ingrid Moss" in first["text"]  # other paragraphs stay
    dropped = write_corpus(articles, set(), tmp_path / "d", drop_paragraph=1)
    text = json.loads((dropped / "articles.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert "Ingrid Moss" not in text["text"] and "built in 1871" in text["text"]


def test_the_suite_asks_every_set_through_the_engine(tmp_path: Path) -> None:
    embedder = CachingEmbedder(HashEmbedder())
    records = collect(SQUAD, embedder, off_corpus=[("What time is it?", 1)])
    sets = {r.set for r in records}
    assert sets == {ANSWERABLE, MISSING, OFF_TOPIC, OFF_CORPUS}
    answerable = [r for r in records if r.set == ANSWERABLE]
    assert len(answerable) == 5  # the impossible question is left out
    assert all(r.answer is not None and len(r.rows) == len(r.holds) for r in answerable)
    figures = suite_figures(records)
    assert figures[ANSWERABLE]["questions"] == 5 and "quote@1" in figures[ANSWERABLE]
    assert figures[OFF_CORPUS]["questions"] == 1


def test_records_keep_each_sentences_neighbours_and_whether_the_pair_holds_the_answer() -> None:
    records = collect(SQUAD, CachingEmbedder(HashEmbedder()))
    answerable = [r for r in records if r.set == ANSWERABLE and len(r.rows)]
    assert answerable
    linked = 0
    for r in answerable:
        assert r.near.shape == r.pair_holds.shape == (len(r.rows), 2)
        for i, (before, after) in enumerate(r.near):
            if after >= 0:
                linked += 1
                assert r.near[after, 0] == i  # the one after has this one before it
            for side, other in enumerate((before, after)):
                if other < 0:
                    assert not r.pair_holds[i, side]
                elif r.holds[i] or r.holds[other]:
                    assert r.pair_holds[i, side]  # the joined text holds what either holds
    assert linked


@pytest.mark.usefixtures("fake_embedder")
def test_eval_folds_prints_every_set_by_fold() -> None:
    result = CliRunner().invoke(eval_command, [str(SQUAD), "--folds", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert set(figures) == {"engine", "cross-validated", "held back", "latency"}
    engine = figures["engine"]
    assert {"fold 0 (held back)", "fold 1", "all folds", "news"} <= set(engine)
    assert set(engine["all folds"]) == {
        ANSWERABLE,
        MISSING,
        MISSING_SENTENCE,
        OFF_TOPIC,
        OFF_CORPUS,
    }
    assert engine["news"]["news unanswerable"]["questions"] >= 14
    assert figures["latency"]["p50_ms"] <= figures["latency"]["p95_ms"]


def test_eval_command_rejects_a_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(eval_command, [str(tmp_path / "none.json")])
    assert result.exit_code != 0
