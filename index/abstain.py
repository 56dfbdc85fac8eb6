"""When to say "not in the articles": the answer model's verdict, and three hard rules.

The question model of `index/evidence.py` gives the probability that the best sentence
answers the question, from that sentence's own score and from what the index holds of the
question (its names, phrases and numbers, its rare words beside the sentence). The engine
answers when that probability reaches `AbstainRule.threshold`, and abstains otherwise. Three
rules overrule it, because calibration data cannot teach them:
  - `absent`: the question asks for a sum or a count and no sentence of the top passages
    holds one ("How much did the embassy pay for its account?" over an article that gives
    no sum). Dates are left out: "when" also asks for circumstances;
  - `unheard`: a name of the question (acronyms aside) is in no passage, not even spelt one
    letter apart ("Where was Rihanna born?");
  - no candidate sentence at all (an empty index, a question matching nothing).
An abstention's reason names the features that pulled the probability down most, so a log
line says why ("missing 1.00, phrase 1.00").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AbstainRule:
    """Answer when the question model's probability reaches the threshold."""

    threshold: float = 0.5  # raise it for a bot that abstains more readily

    def should_answer(
        self, probability: float, absent: bool = False, unheard: bool = False
    ) -> bool:
        return not absent and not unheard and probability >= self.threshold

    def reason(
        self, probability: float, absent: bool, held_back_by: str, unheard: bool = False
    ) -> str:
        """A short explanation of an abstention, for logs and the sources list."""
        if unheard:
            return (
                "a name in the question occurs in no article (unheard 1.00): "
                "the articles do not seem to answer this"
            )
        if absent:
            return (
                "the question asks for an amount or a count and no candidate sentence holds "
                "one (absent 1.00): the articles do not seem to answer this"
            )
        return (
            f"answer probability {probability:.2f} below {self.threshold:.2f} "
            f"(held back by {held_back_by}): the articles do not seem to answer this"
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
