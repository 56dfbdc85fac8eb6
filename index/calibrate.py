"""Fit the answer model (`index/answer_model.json`) and measure it by article folds.

    python -m index.calibrate ../shared/data/xquad/xquad.en.json            # figures only
    python -m index.calibrate ../shared/data/xquad/xquad.en.json --write    # and save it

The data (see `index/evaluate.collect`): XQuAD answerable questions, missing-fact questions
(their paragraph left out of the index), off-topic questions (their article left out), the
hand-written off-corpus questions of `tests/data/off_corpus_questions.json` and the news set
of `tests/data/news_questions.json`. Article i is in fold i % 5; fold 0 and the off-corpus
"heldback" part are never fitted on, only scored at the end; the news set is never fitted on.
Every cross-validated figure of fold f comes from a model fitted without fold f's articles.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.abstain import AbstainRule
from index.answer import AnswerConfig
from index.embed import Embedder
from index.evaluate import (
    ABSENT,
    ANSWERABLE,
    FOLDS,
    HELD_BACK_FOLD,
    MISSING,
    MISSING_SENTENCE,
    NEWS_ANSWERABLE,
    NEWS_UNANSWERABLE,
    OFF_CORPUS,
    OFF_TOPIC,
    SETS,
    CachingEmbedder,
    Record,
    collect,
    percentile,
    suite_figures,
)
from index.evidence import (
    MODEL_PATH,
    QUESTION_FEATURES,
    AnswerModel,
    Linear,
    first_choice,
    fit_logistic,
    question_row,
    ranking,
    sigmoid,
)

ROOT = Path(__file__).resolve().parent.parent
OFF_CORPUS_FILE = ROOT / "tests" / "data" / "off_corpus_questions.json"
NEWS_FILE = ROOT / "tests" / "data" / "news_questions.json"
NEWS_CORPUS = ROOT / "corpus"
TUNING_FOLDS = tuple(f for f in range(FOLDS) if f != HELD_BACK_FOLD)
NEGATIVES = (MISSING, ABSENT, OFF_TOPIC, OFF_CORPUS)
ABSENT_FILE = ROOT / "tests" / "data" / "absent_fact_questions.json"


@dataclass(frozen=True, slots=True)
class Recipe:
    """How a model is fitted from records (the choices the fold figures were measured with)."""

    question_l2: float = 1.0
    off_corpus_weight: float = 6.0  # few off-corpus questions: each counts this many times
    absent_weight: float = 1.0  # ...and each absent-fact question
    answerable_abstained: float = 0.04  # the threshold abstains on this share of training ones
    # Fitting on missing-sentence questions too changed no cross-validated figure by more than
    # a point and no news one, so they are only scored.
    missing_sentences: bool = False


def off_corpus_questions(path: Path = OFF_CORPUS_FILE) -> list[tuple[str, int]]:
    """(question, fold): the tuning part spread over the tuning folds, the rest held back."""
    data = json.loads(path.read_text(encoding="utf-8"))
    tune = [(q, TUNING_FOLDS[i % len(TUNING_FOLDS)]) for i, q in enumerate(data["tune"])]
    return tune + [(q, HELD_BACK_FOLD) for q in data["heldback"]]


def absent_questions(path: Path = ABSENT_FILE) -> list[tuple[str, str]]:
    """(article title, question): on an article's topic, asking for a fact it never gives."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(item["article"], item["question"]) for item in data["questions"]]


def news_questions(path: Path = NEWS_FILE) -> list[tuple[str, str | None]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    answerable = [(item["question"], item["answer"]) for item in data["answerable"]]
    return answerable + [(item["question"], None) for item in data["unanswerable"]]


def fit_model(records: Sequence[Record], recipe: Recipe = Recipe()) -> AnswerModel:
    """Fit the sentence model, then the question model on its choices, then the threshold."""
    sentence = ranking()
    negative_sets = (*NEGATIVES, MISSING_SENTENCE) if recipe.missing_sentences else NEGATIVES
    fitted = (ANSWERABLE, *negative_sets)
    rows, labels, weights = [], [], []
    for r in records:
        if r.set not in fitted or r.facts is None or not len(r.rows):
            continue
        logits = sentence.logits(r.rows)
        best = first_choice(r.rows, logits)
        if best is None:
            continue
        rows.append(question_row(r.rows, logits, best, r.facts))
        labels.append(1.0 if r.set == ANSWERABLE else 0.0)
        weights.append(
            recipe.off_corpus_weight
            if r.set == OFF_CORPUS
            else recipe.absent_weight
            if r.set == ABSENT
            else 1.0
        )
    q_labels = np.array(labels)
    q_weights = np.array(weights)
    positives = q_labels.sum()
    negatives = (q_weights * (1 - q_labels)).sum()
    q_weights = np.where(q_labels > 0, q_weights, q_weights * positives / max(negatives, 1.0))
    question = fit_logistic(
        np.array(rows), q_labels, QUESTION_FEATURES, l2=recipe.question_l2, sample_weight=q_weights
    )
    # The threshold: abstain on a set share of the training answerable questions; folded
    # into the bias so that the engine's default threshold (probability 0.5) applies it.
    answer_logits = question.logits(np.array(rows)[q_labels > 0])
    cut = float(np.quantile(answer_logits, recipe.answerable_abstained))
    question = Linear(
        question.features, question.mean, question.scale, question.weights, question.bias - cut
    )
    return AnswerModel(sentence, question, source="")


@dataclass(slots=True)
class Outcome:
    answered: bool
    first_holds: bool


def simulate(model: AnswerModel, r: Record) -> Outcome:
    """What the engine decides for a record with this model (as `Answerer.decide` does)."""
    if r.facts is None or not len(r.rows):
        return Outcome(False, False)
    logits = model.sentence.logits(r.rows)
    best = first_choice(r.rows, logits)
    if best is None:
        return Outcome(False, False)
    row = question_row(r.rows, logits, best, r.facts)
    probability = sigmoid(float(model.question.logits(np.array([row]))[0]))
    # The engine's default rule: the fitted threshold is folded into the model's bias.
    answered = AbstainRule().should_answer(probability, r.absent, r.facts.unheard >= 1.0)
    return Outcome(answered, answered and bool(r.quote_holds[best]))


def figures(outcomes: Sequence[tuple[Record, Outcome]]) -> dict[str, dict[str, Any]]:
    """Per set: questions, share abstained, and quote@1 for answerable sets."""
    out: dict[str, dict[str, Any]] = {}
    for name in SETS:
        group = [o for r, o in outcomes if r.set == name]
        if not group:
            continue
        row: dict[str, Any] = {
            "questions": len(group),
            "abstained": round(sum(not o.answered for o in group) / len(group), 4),
        }
        if name in (ANSWERABLE, NEWS_ANSWERABLE):
            row["quote@1"] = round(sum(o.first_holds for o in group) / len(group), 4)
        out[name] = row
    return out


def cross_validate(
    records: Sequence[Record], recipe: Recipe = Recipe()
) -> dict[str, dict[str, dict[str, Any]]]:
    """Figures of each tuning fold from a model fitted on the other tuning folds, and pooled."""
    tuning = [r for r in records if r.fold in TUNING_FOLDS]
    per_fold: dict[str, dict[str, dict[str, Any]]] = {}
    pooled: list[tuple[Record, Outcome]] = []
    for f in TUNING_FOLDS:
        model = fit_model([r for r in tuning if r.fold != f], recipe)
        scored = [(r, simulate(model, r)) for r in tuning if r.fold == f]
        per_fold[f"fold {f}"] = figures(scored)
        pooled += scored
    per_fold["folds pooled"] = figures(pooled)
    return per_fold


def held_back(
    records: Sequence[Record], recipe: Recipe = Recipe()
) -> tuple[AnswerModel, dict[str, dict[str, Any]]]:
    """The model fitted on every tuning fold, scored on the held-back fold and the news set."""
    model = fit_model([r for r in records if r.fold in TUNING_FOLDS], recipe)
    scored = [(r, simulate(model, r)) for r in records if r.fold in (HELD_BACK_FOLD, -1)]
    return model, figures(scored)


def format_table(table: dict[str, dict[str, dict[str, Any]]]) -> str:
    """One line per fold: each set's abstained share (and quote@1 where it applies)."""
    short = {
        ANSWERABLE: "answerable",
        MISSING: "missing",
        MISSING_SENTENCE: "missing sent.",
        ABSENT: "absent",
        OFF_TOPIC: "off-topic",
        OFF_CORPUS: "off-corpus",
        NEWS_ANSWERABLE: "news ans.",
        NEWS_UNANSWERABLE: "news unans.",
    }
    lines = []
    for label, sets in table.items():
        parts = []
        for name, row in sets.items():
            cell = f"{short[name]} {row['abstained']:.3f} abst. (n={row['questions']})"
            if "quote@1" in row:
                cell += f" q@1 {row['quote@1']:.3f}"
            if "recall@1" in row:
                cell += f" r@1 {row['recall@1']:.3f}"
            parts.append(cell)
        lines.append(f"{label:<20}" + "; ".join(parts))
    return "\n".join(lines)


def vector_cache(embedder_name: str) -> Path:
    """The file in the temp folder where one embedder's calibration vectors are kept."""
    digest = hashlib.sha1(embedder_name.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"citebot-vectors-{digest}.npz"


def collect_suite(
    data: Path,
    embedder: Embedder,
    *,
    config: AnswerConfig | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Record]:
    """Every calibration record, asked through the engine; each text is embedded once, and
    the vectors are kept in the temp folder for the next run."""
    return collect(
        data,
        CachingEmbedder(embedder, vector_cache(embedder.name)),
        config=config,
        off_corpus=off_corpus_questions(),
        absent=absent_questions(),
        news=news_questions(),
        news_corpus=NEWS_CORPUS,
        answer_sentences=True,
        progress=progress,
    )


def gather_records(data: Path, progress: Callable[[str], None] | None = None) -> list[Record]:
    """Every calibration record, asked with the product's embedder."""
    from index import answer
    from index.embed import default_embedder

    if not answer.default_model().current:  # features changed: gather with a neutral model
        answer.install_model(AnswerModel.neutral())
    return collect_suite(data, default_embedder(), progress=progress)


def shipped(records: Sequence[Record]) -> dict[str, dict[str, dict[str, Any]]]:
    """The engine's own answers (the shipped model, real `ask`) per article fold and overall.

    Folds 1-4 were fitted on, so their figures are in-sample; fold 0 never was.
    """
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for f in range(FOLDS):
        label = f"fold {f}" + (" (held back)" if f == HELD_BACK_FOLD else "")
        table[label] = suite_figures([r for r in records if r.fold == f])
    table["all folds"] = suite_figures([r for r in records if r.fold >= 0])
    table["news"] = suite_figures([r for r in records if r.fold < 0])
    return table


def latency(records: Sequence[Record]) -> dict[str, float | None]:
    """p50 and p95 of the engine's time per question (retrieval to checked quotes)."""
    times = [r.answer.ms for r in records if r.answer is not None]
    p50, p95 = percentile(times, 50), percentile(times, 95)
    return {
        "questions": len(times),
        "p50_ms": round(p50, 2) if p50 is not None else None,
        "p95_ms": round(p95, 2) if p95 is not None else None,
    }


def run_suite(
    records: Sequence[Record], recipe: Recipe = Recipe()
) -> dict[str, dict[str, dict[str, Any]]]:
    """Every figure `citebot eval --folds` prints, from one set of records."""
    _, back = held_back(records, recipe)
    return {
        "engine": shipped(records),
        "cross-validated": cross_validate(records, recipe),
        "held back": {"held back": back},
    }


def format_suite(suite: dict[str, dict[str, dict[str, Any]]], timing: dict[str, Any]) -> str:
    titles = {
        "engine": "the engine's answers (shipped model; folds 1-4 were fitted on, fold 0 never):",
        "cross-validated": "cross-validated (each fold scored by a model refitted without it):",
        "held back": "held back (fold 0, held-back off-corpus part, news; never fitted on):",
    }
    lines = []
    for key, table in suite.items():
        lines += [titles.get(key, key), format_table(table), ""]
    lines.append(
        f"latency over {timing['questions']} questions: "
        f"p50 {timing['p50_ms']} ms  p95 {timing['p95_ms']} ms"
    )
    return "\n".join(lines)


def eval_folds(data: Path, embedder: Embedder, config: AnswerConfig, as_json: bool) -> str:
    """`citebot eval --folds`: collect every record, then every figure as text or JSON."""
    records = collect_suite(
        data, embedder, config=config, progress=lambda m: print(m, file=sys.stderr)
    )
    suite, timing = run_suite(records), latency(records)
    if as_json:
        return json.dumps({**suite, "latency": timing})
    return format_suite(suite, timing)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="XQuAD English (SQuAD JSON)")
    parser.add_argument("--write", action="store_true", help=f"save the model to {MODEL_PATH}")
    parser.add_argument(
        "--records", type=Path, help="reuse (or save) the asked records in this pickle file"
    )
    args = parser.parse_args(argv)
    if args.records and args.records.exists():
        records = pickle.loads(args.records.read_bytes())
    else:
        records = gather_records(args.data, progress=lambda m: print(m, file=sys.stderr))
        if args.records:
            args.records.write_bytes(pickle.dumps(records))
    print(format_suite(run_suite(records), latency(records)))
    model, _ = held_back(records)
    if args.write:
        model = AnswerModel(
            model.sentence,
            model.question,
            source="python -m index.calibrate: XQuAD English folds 1-4 (answerable, "
            "missing-fact, off-topic) and the tuning part of the off-corpus questions",
        )
        model.save(MODEL_PATH)
        print(f"wrote {MODEL_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
