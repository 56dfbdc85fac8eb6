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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.answer import AnswerConfig, Answerer
from index.embed import Embedder
from index.engine import Engine
from index.errors import QuestionError
from index.evidence import SENTENCE_FEATURES, QuestionFacts
from index.passages import split_sentences
from index.quotes import quote_span, within_paragraph
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
    paragraph: int = 0  # position of the question's paragraph in its article


@dataclass(frozen=True, slots=True)
class EvalArticle:
    title: str
    text: str
    paragraphs: tuple[str, ...] = ()
    answer_starts: tuple[tuple[int, ...], ...] = ()  # per paragraph, where gold answers start


def load_squad(
    path: Path, holdout: int | None = None
) -> tuple[list[EvalArticle], list[EvalQuestion], set[int]]:
    """The articles, the questions, and the indices of held-out articles of a SQuAD file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    held_out = {i for i in range(len(data)) if holdout and i % holdout == 0}
    articles, questions = [], []
    for i, item in enumerate(data):
        paragraphs = item.get("paragraphs", [])
        contexts = tuple(p["context"] for p in paragraphs)
        starts = tuple(
            tuple(
                sorted({int(a["answer_start"]) for qa in p.get("qas", []) for a in qa["answers"]})
            )
            for p in paragraphs
        )
        articles.append(
            EvalArticle(
                str(item.get("title", f"article {i}")).replace("_", " "),
                "\n\n".join(contexts),
                contexts,
                starts,
            )
        )
        for k, paragraph in enumerate(paragraphs):
            for qa in paragraph.get("qas", []):
                answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                impossible = bool(qa.get("is_impossible")) or not answers
                questions.append(
                    EvalQuestion(
                        qa["question"], answers, i, not impossible and i not in held_out, k
                    )
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


def write_corpus(
    articles: Sequence[EvalArticle],
    skip: set[int],
    folder: Path,
    drop_paragraph: int | None = None,
    answers_only: bool = False,
) -> Path:
    """Write the articles to index as one `.jsonl` file in `folder`; returns the folder.

    With `drop_paragraph=k`, every article is written without its k-th paragraph; with
    `answers_only` too, without only the sentences of that paragraph holding a gold answer.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "articles.jsonl", "w", encoding="utf-8") as handle:
        for i, article in enumerate(articles):
            if i not in skip:
                text = article.text
                if drop_paragraph is not None and article.paragraphs:
                    kept = list(article.paragraphs)
                    k = drop_paragraph
                    if k < len(kept):
                        kept[k] = _without_answers(kept[k], article.answer_starts[k])
                        kept[k] = kept[k] if answers_only else ""
                    text = "\n\n".join(p for p in kept if p)
                record = {"id": f"a{i}", "title": article.title, "text": text}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return folder


def _without_answers(paragraph: str, starts: Sequence[int]) -> str:
    """The paragraph without its sentences in which a gold answer starts."""
    kept = [
        paragraph[a:b]
        for a, b in split_sentences(paragraph)
        if not any(a <= start < b for start in starts)
    ]
    return " ".join(kept)


def ask_all(
    answerer: Answerer | Engine,
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
        engine = Engine(Path(tmp) / "index", corpus, embedder=embedder, config=config)
        try:
            engine.reindex()
            results = ask_all(engine, questions, progress)
        finally:
            engine.close()
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


# The calibration suite: answerable, missing-fact, off-topic, off-corpus and news questions.

FOLDS = 5  # article folds: article i is in fold i % FOLDS
HELD_BACK_FOLD = 0  # scored only, never used to fit or choose anything
ANSWERABLE, MISSING, MISSING_SENTENCE, OFF_TOPIC = (
    "answerable",
    "missing fact",
    "missing sentence",
    "off topic",
)
OFF_CORPUS, NEWS_ANSWERABLE, NEWS_UNANSWERABLE = (
    "off corpus",
    "news answerable",
    "news unanswerable",
)
ABSENT = "absent fact"  # hand-written: on an article's topic, asking what it never says
SETS = (
    ANSWERABLE,
    MISSING,
    MISSING_SENTENCE,
    ABSENT,
    OFF_TOPIC,
    OFF_CORPUS,
    NEWS_ANSWERABLE,
    NEWS_UNANSWERABLE,
)


class CachingEmbedder:
    """An embedder that embeds each distinct text once and keeps its vector in memory.

    With `path`, the vectors are also saved to (and loaded from) one `.npz` file, so a
    second run embeds nothing it has seen.
    """

    def __init__(self, inner: Embedder, path: Path | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.path = path
        self._vectors: dict[str, np.ndarray] = {}
        self.embedded = 0  # texts the inner embedder was asked for
        if path is not None and path.exists():
            with np.load(path, allow_pickle=False) as data:
                if str(data["name"]) == self.name:
                    texts = [str(t) for t in data["texts"]]
                    self._vectors = dict(zip(texts, data["vectors"], strict=True))

    def embed(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            vectors = self.inner.embed(missing, batch_size=batch_size)
            self.embedded += len(missing)
            self._vectors.update(zip(missing, vectors, strict=True))
        if progress is not None and texts:
            progress(len(texts))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._vectors[text]
        return out

    def save(self) -> None:
        if self.path is None:
            return
        texts = list(self._vectors)
        _save_npz(
            self.path,
            name=np.array(self.name),
            texts=np.array(texts),
            vectors=np.stack([self._vectors[t] for t in texts]).astype(np.float32)
            if texts
            else np.zeros((0, self.dimension), np.float32),
        )


def _save_npz(path: Path, **arrays: Any) -> None:
    """Write the arrays to `path` whole or not at all (a temp file, then a rename)."""
    tmp = path.with_name(path.name + ".part.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)


@dataclass(slots=True)
class Record:
    """One question asked of one index: what the model saw, and what it answered."""

    set: str
    question: str
    answers: tuple[str, ...]
    article: int  # -1 when the question belongs to no article
    fold: int
    rows: np.ndarray  # SENTENCE_FEATURES of each candidate sentence
    holds: np.ndarray  # whether each sentence holds a gold answer
    quote_holds: np.ndarray  # whether the quote made from each sentence holds one
    facts: QuestionFacts | None
    absent: bool
    answer: Answer | None
    ranks: list[int]  # places (0-based) of the top-10 passages holding a gold answer
    # Per sentence, its neighbours among the candidates (row index, -1 for none: before,
    # after) and whether the quote of it joined with that neighbour holds a gold answer.
    near: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    pair_holds: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=bool))


def _evidence_record(
    engine: Engine,
    set_name: str,
    question: str,
    answers: Sequence[str],
    article: int,
    fold: int,
    texts: dict[str, str],
) -> Record:
    try:
        with engine.leased() as answerer:
            started = time.perf_counter()
            ev = answerer.gather(question)
            answer = answerer.decide(question, ev, started)
    except QuestionError:
        empty = np.zeros((0, len(SENTENCE_FEATURES)))
        none = np.zeros(0, bool)
        return Record(
            set_name, question, tuple(answers), article, fold, empty, none, none, None, False,
            None, [],
        )  # fmt: skip
    holds = np.array([contains_answer(s.text, answers) for s in ev.sentences], dtype=bool)
    quote_holds = np.zeros(len(ev.sentences), dtype=bool)
    for i, s in enumerate(ev.sentences):
        if s.article_id not in texts:
            article_obj = engine.article(s.article_id)
            texts[s.article_id] = article_obj.text if article_obj else ""
        start, end = quote_span(s, answerer.config.quote.pair_margin)
        quote = within_paragraph(s, start, end, texts[s.article_id][start:end])
        quote_holds[i] = contains_answer(quote.text, answers)
    row_of = {id(s): i for i, s in enumerate(ev.sentences)}
    near = np.full((len(ev.sentences), 2), -1, dtype=np.int64)
    pair_holds = np.zeros((len(ev.sentences), 2), dtype=bool)
    for i, s in enumerate(ev.sentences):
        for side, other in enumerate((s.prev, s.next)):
            if other is None:
                continue
            near[i, side] = row_of[id(other)]
            joined = texts[s.article_id][min(s.start, other.start) : max(s.end, other.end)]
            pair_holds[i, side] = contains_answer(joined, answers)
    ranks = [i for i, p in enumerate(answer.passages[:10]) if contains_answer(p.text, answers)]
    return Record(
        set_name, question, tuple(answers), article, fold, ev.rows, holds, quote_holds,
        ev.facts, ev.absent, answer, ranks, near, pair_holds,
    )  # fmt: skip


def collect(
    data_path: Path,
    embedder: Embedder,
    *,
    config: AnswerConfig | None = None,
    off_corpus: Sequence[tuple[str, int]] = (),
    absent: Sequence[tuple[str, str]] = (),
    news: Sequence[tuple[str, str | None]] = (),
    news_corpus: Path | None = None,
    answer_sentences: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[Record]:
    """Ask every calibration question of its index and keep what the engine saw.

    - answerable: every question, all articles indexed;
    - missing fact: for k in 0..4, every article indexed without its k-th paragraph, and the
      questions of that paragraph asked;
    - missing sentence (with `answer_sentences`): as missing fact, but only the sentences of
      the paragraph holding a gold answer are left out, so the question's topic words stay;
    - off topic: for each article fold, the index without that fold's articles, and its
      questions asked;
    - off corpus: each (question, fold) asked of the full index;
    - absent fact: each (article title, question) asked of the full index, in its article's
      fold: hand-written questions on the article's topic asking what it never says;
    - news: each (question, answer or None) asked of the index of `news_corpus`.
    The embedder should be a `CachingEmbedder`: every index holds the same texts, so it
    embeds them once.
    """
    say = progress or (lambda _: None)
    all_articles, questions, _ = load_squad(data_path)
    questions = [q for q in questions if q.answerable]
    everything = set(range(len(all_articles)))
    fold = {i: i % FOLDS for i in everything}
    title_of = {_title_key(a.title): i for i, a in enumerate(all_articles)}
    records: list[Record] = []
    texts: dict[str, str] = {}

    def run(
        name: str,
        items: Sequence[tuple[str, Any, int, int]],
        skip: set[int] | None = None,
        drop: int | None = None,
        answers_only: bool = False,
        corpus: Path | None = None,
    ) -> None:
        """Index `corpus` (else the articles but `skip`, see `write_corpus`), ask `items`."""
        say(f"{name}: indexing")
        with tempfile.TemporaryDirectory(prefix="citebot-eval-") as tmp:
            if corpus is None:
                folder = Path(tmp) / "corpus"
                corpus = write_corpus(all_articles, skip or set(), folder, drop, answers_only)
            engine = Engine(Path(tmp) / "index", corpus, embedder=embedder, config=config)
            texts.clear()
            try:
                engine.reindex()
                say(f"{name}: asking {len(items)} questions")
                for done, (set_name, q, article, f) in enumerate(items, 1):
                    if done % 200 == 0:
                        say(f"{name}: {done} asked")
                    question = q if isinstance(q, str) else q.question
                    answers = () if isinstance(q, str) else q.answers
                    records.append(
                        _evidence_record(engine, set_name, question, answers, article, f, texts)
                    )
            finally:
                engine.close()
            if isinstance(embedder, CachingEmbedder):
                embedder.save()

    run(
        "all articles",
        [(ANSWERABLE, q, q.article, fold[q.article]) for q in questions]
        + [(OFF_CORPUS, text, -1, f) for text, f in off_corpus]
        + [
            (ABSENT, text, title_of[_title_key(title)], fold[title_of[_title_key(title)]])
            for title, text in absent
            if _title_key(title) in title_of
        ],
    )
    for k in range(5):
        items = [(MISSING, q, q.article, fold[q.article]) for q in questions if q.paragraph == k]
        if items:
            run(f"paragraph {k + 1} left out", items, drop=k)
        if items and answer_sentences:
            items = [(MISSING_SENTENCE, q, a, f) for _, q, a, f in items]
            run(f"answer sentences of paragraph {k + 1} left out", items, drop=k, answers_only=True)
    for f in range(FOLDS):
        held = {i for i in everything if fold[i] == f}
        items = [(OFF_TOPIC, q, q.article, f) for q in questions if q.article in held]
        if items and held != everything:
            run(f"fold {f} held out", items, skip=held)
    if news and news_corpus is not None:
        news_items = [
            (
                NEWS_UNANSWERABLE if answer is None else NEWS_ANSWERABLE,
                EvalQuestion(question, () if answer is None else (answer,), -1, True),
                -1,
                -1,
            )
            for question, answer in news
        ]
        run("news", news_items, corpus=news_corpus)
    return records


def _title_key(title: str) -> str:
    """A title as SQuAD files write it ("Super_Bowl_50") or as read ("Super Bowl 50")."""
    return title.replace("_", " ").casefold()


def _rate(values: Sequence[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def suite_figures(records: Sequence[Record]) -> dict[str, Any]:
    """Per set: questions, share abstained; for answerable ones also quote@1 and recall@1."""
    out: dict[str, Any] = {}
    for name in SETS:
        group = [r for r in records if r.set == name]
        if not group:
            continue
        abstained = [r.answer is None or not r.answer.answered for r in group]
        figures: dict[str, Any] = {"questions": len(group), "abstained": _rate(abstained)}
        if name in (ANSWERABLE, NEWS_ANSWERABLE):
            figures["quote@1"] = _rate(
                [
                    r.answer is not None
                    and bool(r.answer.quotes)
                    and contains_answer(r.answer.quotes[0].text, r.answers)
                    for r in group
                ]
            )
            figures["recall@1"] = _rate([bool(r.ranks) and r.ranks[0] == 0 for r in group])
        out[name] = figures
    return out
