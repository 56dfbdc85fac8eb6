"""Evidence that a sentence answers a question, and the small learned model that weighs it.

Two logistic models, fitted by `python -m index.calibrate` and stored as JSON weights in
`index/answer_model.json`:
  - the *sentence* model scores every candidate sentence: how likely it holds the answer. It
    ranks the quotes, and a later quote must itself pass it;
  - the *question* model decides whether the best sentence answers at all (else the engine
    abstains), from the best sentence's score and what the index holds of the question.
Every feature is cheap, lies roughly in [0, 1], and has a name, so a decision can be
explained by the features that pulled it down (`explain`).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.answer_types import DATE, MONEY, NUMBER, PERSON, PLACE, holds_type
from index.integrity import write_bytes_atomic
from index.question import STOPWORDS

MODEL_PATH = Path(__file__).with_name("answer_model.json")

SENTENCE_FEATURES = (
    "cosine",  # the sentence's cosine with the question
    "overlap",  # share of the question's rare-term weight in the sentence
    "window",  # ...in the sentence and the ones beside it
    "passage",  # its passage's fused retrieval score, relative to the best
    "neighbour",  # the better cosine of the sentences beside it
    "typed",  # holds the kind of thing asked for (a number, a date, a name)
    "strong",  # ...in a form that does that job (a full name, a year, a place after "in")
    "rank",  # 1 / (1 + rank of its passage)
    "missing",  # the rarest question term absent from the window, relative to the rarest
    "numbers",  # a number or year of the question is absent from the window
    "restates",  # share of the sentence's words that are the question's own
    "signature",  # a signature, dateline or caption line ("— Name (@handle) July 8, 2019")
    "length",  # words, up to 60, over 60
    "article",  # share of the question's rare-term weight anywhere in the sentence's article
    "focus",  # share of the weight of the question's words other than names in the window
    "strong_window",  # "strong", in the sentence or one beside it
    "focus_soft",  # "focus", a word counting by its nearest word in the window (word vectors)
)
QUESTION_FEATURES = (
    "best",  # the best sentence's score from the sentence model (a logit, over 10)
    "margin",  # how far it stands above the second best (over 10)
    "cosine",  # the best passage's cosine with the question
    "agreement",  # dense and BM25 retrieval agree on the best passage
    "overlap",  # the best sentence's rare-term share
    "window",  # ...with the sentences beside it
    "missing",  # the rarest question term absent beside the best sentence
    "covered",  # share of the question's rare-term weight anywhere in the top passages
    "unknown",  # a name of the question occurs nowhere in the index
    "phrase",  # a multi-word name of the question ("World Cup") occurs nowhere as a phrase
    "number",  # a number or year of the question occurs nowhere in the index
    "typed",  # the best sentence holds the kind asked for (0.5 when the kind is unknown)
    "terms",  # how many distinct words the question searches for, up to 6, over 6
    "specific",  # the rare-term weight of the question's words the index holds, up to 20, over 20
    "unseen",  # share of the question's rare-term weight in words no passage holds
    "article",  # share of the question's rare-term weight in the best sentence's article
    "focus",  # share of the weight of the question's words other than names beside it
    "sentence",  # the best sentence's own cosine with the question
    "focus_soft",  # the best sentence's "focus_soft"
    # The question asks for a date (a number or amount, a person, a place) and neither the
    # best sentence nor one beside it holds one in a form that does that job ("strong").
    "no_date",
    "no_number",
    "no_person",
    "no_place",
)
_MISSING_KIND = {DATE: "no_date", NUMBER: "no_number", MONEY: "no_number"}
_MISSING_KIND |= {PERSON: "no_person", PLACE: "no_place"}

# A signature ("— Name (@handle) date"), or a dateline in capitals ("WASHINGTON (AP) — ").
_SIGNATURE = re.compile(
    r"^\s*[—–-]\s*\S|\(@\w+\)|^\s*[A-Z][A-Z .,'-]{2,}\s*(?:\([\w .]+\))?\s*[—–-]\s"
)
_CAPTION = re.compile(r"^\s*(?:photo|image|picture|caption|file photo|credit)\b\s*[:|]", re.I)
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"\w+")
_NAME_RUN = re.compile(
    r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’-]+(?:\s+(?:of\s+|de\s+|von\s+)?[A-Z][\w'’-]+)+"
)
_YEAR_OR_DAY = re.compile(
    r"\b(?:1\d{3}|20\d{2})s?\b|\b(?:January|February|March|April|May|June|July|August|"
    r"September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
    r"\s+\d|\b\d{1,2}\s+(?:January|February|March|April|May|June|July|August|September|"
    r"October|November|December)\b|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|"
    r"Sunday)\b|\b\d{1,2}(?:st|nd|rd|th)\s+century\b"
)
# Words that make a run of capitalised words an event, a period, a place, a work or a thing
# ("World War II", "Middle Ages", "Vistula River", "Super Bowl"): no answer to "who".
_NOT_AGENT_WORDS = (
    "war wars battle revolution uprising rebellion crisis treaty act age ages era century "
    "period day river sea ocean lake island islands mountains mountain valley street square "
    "bridge road avenue bowl cup games olympics championship award prize theory effect "
    "equation principle disease syndrome"
)
_NOT_AGENT = frozenset(_NOT_AGENT_WORDS.split())
_PLACE_AFTER = re.compile(r"\b(?:in|at|from|near|into|to)\s+(?:the\s+)?([A-Z][\w'’-]+)")


def is_signature(text: str) -> bool:
    """A signature, dateline or caption line: it never leads an answer."""
    return bool(_SIGNATURE.search(text) or _CAPTION.search(text))


def question_numbers(question: str) -> list[str]:
    """The digit groups of the question ("2022", "50")."""
    return _DIGITS.findall(question)


def question_phrases(question: str) -> list[str]:
    """Runs of two or more capitalised words past the question's first word ("World Cup")."""
    return [m.group() for m in _NAME_RUN.finditer(question.strip())]


def strong_type(text: str, kind: str | None, question_words: set[str]) -> bool:
    """Whether the text holds the kind asked for in a form that does that job.

    A person: a run of capitalised words the question lacks; a date: a year, a day of a
    month or a weekday; a place: a capitalised word after "in", "at", "from"...; an amount
    or a count: as `holds_type`.
    """
    if kind is None:
        return False
    if kind == PERSON:
        return any(
            any(w.casefold() not in question_words for w in m.group().split())
            and not _NOT_AGENT.intersection(w.casefold() for w in m.group().split())
            for m in _NAME_RUN.finditer(text.strip())
        )
    if kind == DATE:
        return any(m.group().casefold() not in question_words for m in _YEAR_OR_DAY.finditer(text))
    if kind == PLACE:
        return any(m.group(1).casefold() not in question_words for m in _PLACE_AFTER.finditer(text))
    if kind in (MONEY, NUMBER):
        return holds_type(text, kind, question_words)
    return False


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def one_edit(word: str) -> set[str]:
    """Every spelling one letter away: a letter dropped, swapped with the next, changed or added."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return {
        *(a + b[1:] for a, b in splits if b),
        *(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1),
        *(a + c + b[1:] for a, b in splits if b for c in _LETTERS),
        *(a + c + b for a, b in splits for c in _LETTERS),
    }


def weighted_share(stems: set[str], weights: dict[str, float]) -> float:
    """Share of the question's term weight present among the stems."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in weights.items() if t in stems) / total


def missing_rarest(stems: set[str], weights: dict[str, float]) -> float:
    """The weight of the rarest question term absent from the stems, over the largest weight."""
    top = max(weights.values(), default=0.0)
    if top <= 0:
        return 0.0
    return max((w for t, w in weights.items() if t not in stems), default=0.0) / top


@dataclass(frozen=True, slots=True)
class Linear:
    """A logistic model over named features: standardised inputs, weights and a bias."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Linear:
        return cls(
            tuple(data["features"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["weights"], dtype=np.float64),
            float(data["bias"]),
        )

    def as_dict(self) -> dict[str, Any]:
        def rounded(values: np.ndarray) -> list[float]:
            return [round(float(v), 6) for v in values]

        return {
            "features": list(self.features),
            "mean": rounded(self.mean),
            "scale": rounded(self.scale),
            "weights": rounded(self.weights),
            "bias": round(self.bias, 6),
        }

    def logits(self, x: np.ndarray) -> np.ndarray:
        """One logit per row of x (rows of features in `self.features` order)."""
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        return np.asarray(z @ self.weights + self.bias)

    def contributions(self, row: Sequence[float]) -> dict[str, float]:
        """Each feature's share of one row's logit, relative to an average row."""
        z = (np.asarray(row, dtype=np.float64) - self.mean) / self.scale
        return {f: float(c) for f, c in zip(self.features, z * self.weights, strict=True)}


@dataclass(frozen=True, slots=True)
class AnswerModel:
    """The sentence model and the question model (see the module docstring)."""

    sentence: Linear
    question: Linear
    source: str = ""  # what the weights were fitted on

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> AnswerModel:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(
            Linear.from_dict(data["sentence"]),
            Linear.from_dict(data["question"]),
            str(data.get("source", "")),
        )

    @property
    def current(self) -> bool:
        """Whether the model was fitted on today's features (else refit it)."""
        return (
            self.sentence.features == SENTENCE_FEATURES
            and self.question.features == QUESTION_FEATURES
        )

    @classmethod
    def neutral(cls) -> AnswerModel:
        """A model that ranks sentences by the usual weights and answers everything.

        Used to gather calibration data when the features changed since the last fit.
        """
        n = len(QUESTION_FEATURES)
        flat = Linear(QUESTION_FEATURES, np.zeros(n), np.ones(n), np.zeros(n), 0.0)
        return cls(ranking(), flat, "neutral")

    def save(self, path: Path) -> None:
        data = {
            "source": self.source,
            "sentence": self.sentence.as_dict(),
            "question": self.question.as_dict(),
        }
        write_bytes_atomic(Path(path), (json.dumps(data, indent=1) + "\n").encode("utf-8"))


# The sentence ranking: a weighted sum of the sentence signals, as measured on XQuAD before.
# Pointwise logistic and softmax (conditional logit) fits over all SENTENCE_FEATURES ranked
# the answer sentence first no more often, by article folds, than these weights (a softmax
# fit towards the sentences holding the answer: 0.79 on folds 1-4, as these weights), so the
# learned part is the question model. The soft focus weight (0.3 / 0.5 / 1.0 measured, by
# the same folds) makes a sentence saying "inhabitants" win over its neighbour for "what was
# the population": cross-validated quote@1 0.825 -> 0.830, missing fact 0.781 -> 0.785.
RANKING = {
    "cosine": 1.0,
    "overlap": 1.5,
    "passage": 0.5,
    "neighbour": 0.4,
    "typed": 0.3,
    "focus_soft": 0.5,
}


def ranking() -> Linear:
    """The sentence ranking as a linear model over SENTENCE_FEATURES."""
    n = len(SENTENCE_FEATURES)
    weights = np.array([RANKING.get(f, 0.0) for f in SENTENCE_FEATURES])
    return Linear(SENTENCE_FEATURES, np.zeros(n), np.ones(n), weights, 0.0)


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def explain(model: Linear, row: Sequence[float], limit: int = 3) -> str:
    """The features that pulled a decision down most, with their values ("missing 1.00")."""
    parts = model.contributions(row)
    values = dict(zip(model.features, row, strict=True))
    worst = sorted((c, f) for f, c in parts.items() if c < 0)[:limit]
    return ", ".join(f"{f} {values[f]:.2f}" for _, f in worst) or "no single feature"


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    features: Sequence[str],
    *,
    l2: float = 1.0,
    sample_weight: np.ndarray | None = None,
    iterations: int = 50,
) -> Linear:
    """L2-regularised logistic regression by Newton's method on standardised features."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -30, 30)))
        grad = z.T @ (sw * (p - y)) + penalty * w
        hess = (z * (sw * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return Linear(tuple(features), mean, scale, w[:-1], float(w[-1]))


_S = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
_MAX_WORDS = 60.0


def sentence_rows(
    sentences: Sequence[Any],
    stems: dict[int, set[str]],
    question_stems: set[str],
    term_weights: dict[str, float],
    kind: str | None,
    question_words: set[str],
    numbers: Sequence[str],
    article_stems: dict[str, set[str]],
    name_stems: AbstractSet[str] = frozenset(),
    focus_terms: Sequence[tuple[str, set[str], float]] = (),
    nearness: np.ndarray | None = None,
) -> np.ndarray:
    """One row of SENTENCE_FEATURES per candidate sentence (signals already filled in).

    `focus_terms`: (word, its stems, its weight) for the question's words other than names;
    `nearness[f, i]`: how near focus word f comes to a word beside sentence i (see
    `window_nearness`), for "focus_soft" (1.0 without them).
    """
    rows = np.zeros((len(sentences), len(SENTENCE_FEATURES)), dtype=np.float64)
    focus_weights = {t: w for t, w in term_weights.items() if t not in name_stems}
    soft_total = sum(w for _, _, w in focus_terms)
    # Neighbours are candidates too (see `link_neighbours`): each sentence is read once.
    strong_of = {id(s): strong_type(s.text, kind, question_words) for s in sentences}
    for i, s in enumerate(sentences):
        own = stems.get(s.id, set())
        window = set(own)
        for near in (s.prev, s.next):
            if near is not None:
                window |= stems.get(near.id, set())
        soft = 1.0
        if nearness is not None and soft_total > 0:
            found = (
                w if term_stems & window else w * float(nearness[f, i])
                for f, (_, term_stems, w) in enumerate(focus_terms)
            )
            soft = sum(found) / soft_total
        n_words = len(_WORD.findall(s.text))
        strong = strong_of[id(s)]
        strong_near = strong or any(strong_of.get(id(n), False) for n in (s.prev, s.next))
        rows[i] = (
            s.cosine,
            s.overlap,
            weighted_share(window, term_weights),
            s.passage_score,
            s.neighbour,
            s.typed,
            1.0 if strong else 0.0,
            1.0 / (1.0 + s.passage_rank),
            missing_rarest(window, term_weights),
            1.0 if any(n not in window for n in numbers) else 0.0,
            len(own & question_stems) / max(len(own), 1),
            1.0 if is_signature(s.text) else 0.0,
            min(n_words, _MAX_WORDS) / _MAX_WORDS,
            weighted_share(article_stems.get(s.article_id, set()), term_weights),
            weighted_share(window, focus_weights) if focus_weights else 1.0,
            1.0 if strong_near else 0.0,
            soft,
        )
    return rows


def window_nearness(sentences: Sequence[Any], words: Sequence[str], similarity: Any) -> np.ndarray:
    """nearness[f, i]: the highest cosine (≥ 0) of word f with a word of sentence i or of a
    candidate beside it; `similarity(words, words)` gives a matrix of cosines (see
    `index.word_vectors`)."""
    if not sentences or not words:
        return np.zeros((len(words), len(sentences)))
    own = [_content_words(s.text) for s in sentences]
    vocab = list(set().union(*own))
    column = {w: i for i, w in enumerate(vocab)}
    # One more column of zeros stands for "no word": a sentence of none, a missing neighbour.
    sims = np.zeros((len(words), len(vocab) + 1))
    if vocab:
        sims[:, :-1] = np.clip(similarity(list(words), vocab), 0.0, 1.0)
    cols = [[column[w] for w in found] or [len(vocab)] for found in own]
    starts = np.cumsum([0] + [len(c) for c in cols[:-1]])
    nearest = np.maximum.reduceat(sims[:, [c for group in cols for c in group]], starts, axis=1)
    nearest = np.hstack([nearest, np.zeros((len(words), 1))])
    row = {id(s): i for i, s in enumerate(sentences)}
    none = len(sentences)
    prev = [row.get(id(s.prev), none) if s.prev is not None else none for s in sentences]
    after = [row.get(id(s.next), none) if s.next is not None else none for s in sentences]
    return np.maximum(nearest[:, :none], np.maximum(nearest[:, prev], nearest[:, after]))


_LETTERS_ONLY = re.compile(r"[^\W\d_]{3,}")


@functools.lru_cache(maxsize=16384)  # candidate sentences recur from question to question
def _content_words(text: str) -> frozenset[str]:
    """The words of three letters or more that are no stopwords, lower-cased."""
    return frozenset(_LETTERS_ONLY.findall(text.casefold())) - STOPWORDS


@dataclass(frozen=True, slots=True)
class QuestionFacts:
    """What the index holds of the question, whatever sentence is chosen."""

    cosine: float
    agreement: float
    covered: float
    unknown: float
    phrase: float
    number: float
    kind: str | None  # the kind of thing asked for (see `index/answer_types.py`), if known
    terms: float = 0.0
    specific: float = 0.0
    unseen: float = 0.0
    # Not a model feature but a hard rule (see `index/abstain.py`): a name of the question,
    # acronyms aside, that no word of the index matches even one letter apart.
    unheard: float = 0.0


def question_row(
    rows: np.ndarray, logits: np.ndarray, best: int, facts: QuestionFacts
) -> list[float]:
    """QUESTION_FEATURES for a question whose chosen sentence is row `best`."""
    others = np.delete(logits, best)
    second = float(others.max()) if others.size else float(logits[best]) - 10.0
    row = rows[best]
    return [
        float(logits[best]) / 10.0,
        (float(logits[best]) - second) / 10.0,
        facts.cosine,
        facts.agreement,
        float(row[_S["overlap"]]),
        float(row[_S["window"]]),
        float(row[_S["missing"]]),
        facts.covered,
        facts.unknown,
        facts.phrase,
        facts.number,
        float(row[_S["typed"]]) if facts.kind is not None else 0.5,
        facts.terms,
        facts.specific,
        facts.unseen,
        float(row[_S["article"]]),
        float(row[_S["focus"]]),
        float(row[_S["cosine"]]),
        float(row[_S["focus_soft"]]),
        *(
            1.0
            if _MISSING_KIND.get(facts.kind or "") == f and row[_S["strong_window"]] < 0.5
            else 0.0
            for f in ("no_date", "no_number", "no_person", "no_place")
        ),
    ]


def first_choice(rows: np.ndarray, logits: np.ndarray) -> int | None:
    """The row the first quote is made from: the best one that is no signature line."""
    order = np.argsort(-logits, kind="stable")
    for i in order:
        if rows[i, _S["signature"]] < 0.5:
            return int(i)
    return None
