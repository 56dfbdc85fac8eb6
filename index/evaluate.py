"""`citebot eval`: answer quality on a SQuAD-format file, indexed in a temporary folder.

Each `data[i]` is one article (title, paragraphs joined by blank lines). With `holdout=N`
every N-th article (the 1st, the N+1-th, ...) is left out of the index and its questions
become unanswerable, as are SQuAD v2.0's `is_impossible` questions. A passage or quote is a
hit when a gold answer occurs in it, ignoring case and whitespace (DPR's answer recall).
"""

from __future__ import annotations

import contextlib
import json
import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.answer import AnswerConfig, Answerer
from index.build import build_index
from index.embed import Embedder
from index.errors import QuestionError
from index.store import IndexStore
from index.types import Answer

RECALL_AT = (1, 3, 5, 10)
WARM_UP_QUESTIONS = 5


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    """A question, its gold answers, and whether the index can answer it."""

    question: str
    answers: tuple[str, ...]
    article: int
    answerable: bool


@dataclass(frozen=True, slots=True)
class EvalArticle:
    title: str
    text: str


def load_squad(
    path: Path, holdout: int | None = None
) -> tuple[list[EvalArticle], list[EvalQuestion], set[int]]:
    """The articles, the questions, and the indices of held-out articles of a SQuAD file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    held_out = {i for i in range(len(data)) if holdout and i % holdout == 0}
    articles, questions = [], []
    for i, item in enumerate(data):
        paragraphs = item.get("paragraphs", [])
        articles.append(
            EvalArticle(
                str(item.get("title", f"article {i}")).replace("_", " "),
                "\n\n".join(p["context"] for p in paragraphs),
            )
        )
        for paragraph in paragraphs:
            for qa in paragraph.get("qas", []):
                answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                impossible = bool(qa.get("is_impossible")) or not answers
                questions.append(
                    EvalQuestion(qa["question"], answers, i, not impossible and i not in held_out)
                )
    return articles, questions, held_out


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    """Whether any gold answer occurs in the text, ignoring case and whitespace."""
    haystack = _norm(text)
    return any(_norm(a) in haystack for a in answers if a.strip())


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile by linear interpolation (numpy's default), None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def score(results: Sequence[tuple[EvalQuestion, Answer | None]]) -> dict[str, Any]:
    """The figures of `citebot eval` from each question's answer (None: rejected question)."""
    answerable = [(q, a) for q, a in results if q.answerable]
    unanswerable = [(q, a) for q, a in results if not q.answerable]
    n = max(len(answerable), 1)
    recall = dict.fromkeys(RECALL_AT, 0)
    mrr = quote1 = quote3 = 0.0
    for q, a in answerable:
        if a is None:
            continue
        ranks = [i for i, p in enumerate(a.passages[:10]) if contains_answer(p.text, q.answers)]
        for k in RECALL_AT:
            recall[k] += bool(ranks) and ranks[0] < k
        mrr += 1.0 / (ranks[0] + 1) if ranks else 0.0
        quote1 += bool(a.quotes) and contains_answer(a.quotes[0].text, q.answers)
        quote3 += any(contains_answer(x.text, q.answers) for x in a.quotes[:3])
    abstained = [a is None or not a.answered for _, a in unanswerable]
    wrongly = [a is None or not a.answered for _, a in answerable]
    times = [a.ms for _, a in results if a is not None]
    p50, p95 = percentile(times, 50), percentile(times, 95)
    return {
        "questions": len(results),
        **{f"recall@{k}": round(recall[k] / n, 4) for k in RECALL_AT},
        "mrr@10": round(mrr / n, 4),
        "quote@1": round(quote1 / n, 4),
        "quote@3": round(quote3 / n, 4),
        "abstained_unanswerable": round(sum(abstained) / len(abstained), 4) if abstained else None,
        "abstained_answerable": round(sum(wrongly) / n, 4),
        "p50_ms": round(p50, 2) if p50 is not None else None,
        "p95_ms": round(p95, 2) if p95 is not None else None,
    }


def write_corpus(articles: Sequence[EvalArticle], skip: set[int], folder: Path) -> Path:
    """Write the articles to index as one `.jsonl` file in `folder`; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "articles.jsonl", "w", encoding="utf-8") as handle:
        for i, article in enumerate(articles):
            if i not in skip:
                record = {"id": f"a{i}", "title": article.title, "text": article.text}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return folder


def ask_all(
    answerer: Answerer,
    questions: Sequence[EvalQuestion],
    progress: Callable[[int, int], None] | None = None,
) -> list[tuple[EvalQuestion, Answer | None]]:
    """Ask every question once (after a few untimed warm-up questions)."""
    for q in questions[:WARM_UP_QUESTIONS]:
        with contextlib.suppress(QuestionError):
            answerer.ask(q.question)
    results: list[tuple[EvalQuestion, Answer | None]] = []
    for done, q in enumerate(questions, 1):
        try:
            results.append((q, answerer.ask(q.question)))
        except QuestionError:
            results.append((q, None))
        if progress is not None:
            progress(done, len(questions))
    return results


def evaluate(
    data_path: Path,
    embedder: Embedder,
    *,
    holdout: int | None = None,
    config: AnswerConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Index the file's articles in a temporary folder, ask every question, return the figures."""
    articles, questions, held_out = load_squad(data_path, holdout)
    with tempfile.TemporaryDirectory(prefix="citebot-eval-") as tmp:
        corpus = write_corpus(articles, held_out, Path(tmp) / "corpus")
        index_dir = Path(tmp) / "index"
        build_index(corpus, index_dir, embedder)
        store = IndexStore.open(index_dir, embedder.name, embedder.dimension)
        answerer = Answerer(store, embedder, config or AnswerConfig())
        try:
            results = ask_all(answerer, questions, progress)
        finally:
            answerer.close()
    return score(results)


def format_report(figures: dict[str, Any]) -> str:
    """The figures as aligned lines for a person."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    recall = "  ".join(f"@{k} {pct(figures[f'recall@{k}'])}" for k in RECALL_AT)
    rows = [
        ("questions", str(figures["questions"])),
        ("answer recall", recall),
        ("MRR@10", pct(figures["mrr@10"])),
        ("quote accuracy", f"@1 {pct(figures['quote@1'])}  @3 {pct(figures['quote@3'])}"),
        ("abstained, unanswerable", pct(figures["abstained_unanswerable"])),
        ("abstained, answerable", f"{pct(figures['abstained_answerable'])} (wrongly)"),
        ("latency", f"p50 {figures['p50_ms']} ms  p95 {figures['p95_ms']} ms"),
    ]
    lines = [f"{label:<25}{value}" for label, value in rows]
    return "\n".join(lines)
