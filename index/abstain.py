"""When to say "not in the articles": a rule combining retrieval and quote signals.

No single similarity threshold separates answerable from unanswerable questions: a question
on the right topic whose fact is absent retrieves passages as close as an answerable one.
So the rule adds up evidence from different sources, each in [0, 1]:
  - `cosine`: the best passage's cosine with the question (MiniLM: topic match);
  - `overlap`: the share of the question's rare-term weight that the best quote holds
    (lexical evidence that the quote is about the question's specific things);
  - `agreement`: 1 when the dense and BM25 retrievers rank the same passage first, 0.5 when
    each one's best is in the other's top three, else 0;
  - `typed`: 1 when the question asks for an amount, a date or a name and the best quote
    holds one; 0 when it asks for one and the quote has none; 0.5 when the kind is unknown;
  - `unknown` (weighed negatively): 1 when a capitalised name of the question occurs nowhere
    in the index ("When did he join Facebook?" over articles that never name it), else 0;
  - `absent` (weighed negatively, enough to overrule the rest): 1 when the question asks for
    a sum or a count and no sentence of the top passages holds one ("How much did
    the embassy pay for its account?" over an article that gives no sum), else 0. Dates are
    left out: "when" also asks for circumstances ("When does immunodeficiency occur?").
Weights and threshold were calibrated on XQuAD with a fifth of its articles left out of the
index (about 86% of their questions abstained, under 3% of answerable ones wrongly), and hold on
either half of the articles. `absent` never fires on XQuAD (every amount or count question
there has a number among its candidate sentences), so it costs those figures nothing; its
weight is set so that, with the other defaults, no sum of the rest outweighs it.
Questions on the right topic whose specific fact is absent ("When did Cui Tiankai join
Facebook?" over an article on his joining Twitter) still mostly get an answer: measured on a
hand-labelled news set (tests/data/news_questions.json), neither a missing rare-term signal
nor the typed item's place separated them from answerable paraphrases without wrongly
abstaining on more of XQuAD's answerable questions.
The engine answers when `weights · signals >= threshold`, and abstains otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Signals:
    """The evidence the abstention rule weighs for one question."""

    cosine: float
    overlap: float
    agreement: float
    typed: float
    unknown: float = 0.0
    absent: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "cosine": self.cosine,
            "overlap": self.overlap,
            "agreement": self.agreement,
            "typed": self.typed,
            "unknown": self.unknown,
            "absent": self.absent,
        }


@dataclass(frozen=True, slots=True)
class AbstainRule:
    """Answer when the weighted sum of the signals reaches the threshold."""

    cosine: float = 1.0
    overlap: float = 1.0
    agreement: float = 0.2
    typed: float = 0.4
    unknown: float = -0.5
    absent: float = -1.5
    threshold: float = 0.9

    def confidence(self, s: Signals) -> float:
        """The weighted sum of the signals."""
        return (
            self.cosine * s.cosine
            + self.overlap * s.overlap
            + self.agreement * s.agreement
            + self.typed * s.typed
            + self.unknown * s.unknown
            + self.absent * s.absent
        )

    def should_answer(self, s: Signals) -> bool:
        return self.confidence(s) >= self.threshold

    def reason(self, s: Signals) -> str:
        """A short explanation of an abstention, for logs and the sources list."""
        parts = ", ".join(f"{k} {v:.2f}" for k, v in s.as_dict().items())
        return (
            f"confidence {self.confidence(s):.2f} below {self.threshold:.2f} "
            f"({parts}): the articles do not seem to answer this"
        )


def agreement(dense_ids: list[int], lexical_ids: list[int], top: int = 3) -> float:
    """1 if both retrievers put the same passage first; 0.5 if each best is in the other's top."""
    if not dense_ids or not lexical_ids:
        return 0.0
    if dense_ids[0] == lexical_ids[0]:
        return 1.0
    if dense_ids[0] in lexical_ids[:top] and lexical_ids[0] in dense_ids[:top]:
        return 0.5
    return 0.0
