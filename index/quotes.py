"""Sentence signals and quote selection: which sentence answers the question, and its quote.

Every sentence of the top passages gets its signals here (`score_sentences`):
  - `cosine`: the sentence's precomputed MiniLM vector against the question's;
  - `overlap`: the share of the question's rare-term weight (BM25 idf) the sentence holds;
  - `neighbour`: the better cosine of the sentences just before and after it, since the
    sentence naming the subject is often next to the one holding the fact;
  - `typed`: 1 when the question asks for an amount, a date or a name and the sentence holds
    one that the question does not already contain.
The answer model (`index/evidence.py`) turns these and more into each sentence's `score`.
The first quote is the best-scoring sentence that is not a signature, dateline or caption
line; a later quote must itself pass the answer test, as if it were the only one
(`QuoteWeights.floor`). A quote is one sentence, with a neighbour only when that completes it:
the neighbour holds the kind of thing asked for and the best sentence does not; or the
neighbour is itself nearly as good evidence (its score within `QuoteWeights.pair_margin` of
the best one's), the common case of a sentence restating the question beside the one giving
the fact (on XQuAD half the first sentences that miss the answer have it next door); or the best
opens with a pronoun or a connective ("It", "They", "However"...) the reader could not resolve
alone (the sentence before joins); or it is too short to stand alone or ends with a colon
(the next one joins). A quote never crosses a paragraph.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from index.answer_types import holds_type
from index.evidence import is_signature, weighted_share
from index.types import Passage

# A sentence opening with one of these words leans on the sentence before it.
_ANAPHOR = re.compile(
    r"^(?:it|its|he|she|his|her|they|their|them|this|these|that|those|such|there|both|"
    r"the latter|the former|however|also|in addition|moreover|thus|therefore|then)\b",
    re.I,
)
_WORD = re.compile(r"\w+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
SHORT_SENTENCE_WORDS = 6
# A neighbour scoring within this of the best sentence (sentence-model logits) joins its
# quote. Measured on XQuAD folds 1-4 (first quote holds the answer / share of quotes paired):
# 0 -> 0.818 / 0%, 0.1 -> 0.837 / 8%, 0.2 -> 0.847 / 13%, 0.3 -> 0.852 / 17%,
# 0.5 -> 0.868 / 30%; 0.3 is about the old rule's (a fifth of the best score).
PAIR_MARGIN = 0.3


@dataclass(frozen=True, slots=True)
class QuoteWeights:
    """How quotes are chosen once the answer model has scored every sentence."""

    floor: float = 0.9  # a later quote's own answer probability must reach this
    pair_margin: float = PAIR_MARGIN  # a neighbour scoring within this of the best joins its quote


@dataclass(slots=True)
class Sentence:
    """A candidate sentence: offsets into its article, text, and its scoring signals."""

    id: int
    article_id: str
    start: int
    end: int
    text: str
    passage_rank: int
    passage_score: float
    cosine: float = 0.0
    overlap: float = 0.0
    neighbour: float = 0.0
    typed: float = 0.0
    score: float = 0.0
    prev: Sentence | None = field(default=None, repr=False)
    next: Sentence | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Span:
    """A quote to be: one or two consecutive sentences of one article, and its score."""

    article_id: str
    start: int
    end: int
    text: str
    score: float
    best: Sentence


def idf(doc_freq: int, total: int) -> float:
    """BM25's inverse document frequency, never negative."""
    return math.log(1.0 + (total - doc_freq + 0.5) / (doc_freq + 0.5))


def link_neighbours(sentences: Sequence[Sentence]) -> None:
    """Link each sentence to its adjacent ones among the candidates (same article, touching)."""
    by_article: dict[str, list[Sentence]] = {}
    for s in sentences:
        by_article.setdefault(s.article_id, []).append(s)
    for group in by_article.values():
        group.sort(key=lambda s: s.start)
        for a, b in itertools.pairwise(group):
            if b.id == a.id + 1:
                a.next, b.prev = b, a


def score_sentences(
    sentences: Sequence[Sentence],
    vectors: np.ndarray,
    question_vector: np.ndarray,
    stems: Sequence[set[str]],
    term_weights: dict[str, float],
    kind: str | None,
    question_words: set[str],
) -> None:
    """Fill in the signals of each sentence and link it to its neighbours."""
    cosines: list[float] = []
    if len(sentences):
        cosines = (vectors @ np.asarray(question_vector, dtype=np.float32)).tolist()
    for s, cos, st in zip(sentences, cosines, stems, strict=True):
        s.cosine = float(cos)
        s.overlap = weighted_share(st, term_weights)
        s.typed = 1.0 if holds_type(s.text, kind, question_words) else 0.0
    link_neighbours(sentences)
    for s in sentences:
        near = [n.cosine for n in (s.prev, s.next) if n is not None]
        s.neighbour = max(near) if near else 0.0


def _word_count(text: str) -> int:
    return len(_WORD.findall(text))


def quote_span(best: Sentence, pair_margin: float = PAIR_MARGIN) -> tuple[int, int]:
    """Offsets of the quote around the best sentence: with a neighbour only when it completes it.

    A neighbour joins when it holds the kind of thing asked for (a date, a number, a name)
    and the best sentence does not, or when it scores within `pair_margin` of the best one
    (and is no signature line); the sentence before joins when the best one opens with a
    pronoun or a connective; the one after when the best one is too short to stand alone or
    ends with a colon.
    """
    start, end = best.start, best.end
    near = (n for n in (best.next, best.prev) if n is not None and n.typed > best.typed)
    holder = next(near, None)
    if holder is None:
        rivals = [
            n
            for n in (best.next, best.prev)
            if n is not None and n.score >= best.score - pair_margin and not is_signature(n.text)
        ]
        holder = max(rivals, key=lambda n: n.score, default=None)
    if holder is not None:  # the neighbour holds what is asked, or is nearly as good evidence
        return min(start, holder.start), max(end, holder.end)
    if best.prev is not None and _ANAPHOR.match(best.text):
        start = best.prev.start
    elif best.next is not None and (
        _word_count(best.text) < SHORT_SENTENCE_WORDS or best.text.rstrip().endswith(":")
    ):
        end = best.next.end
    return start, end


def _covering_text(passages: Sequence[Passage], start: int, end: int) -> str | None:
    """The text at [start, end) of the article, cut from a passage that covers it."""
    for p in passages:
        if p.start <= start and end <= p.end:
            return p.text[start - p.start : end - p.start]
    return None


def within_paragraph(best: Sentence, start: int, end: int, text: str | None) -> Span:
    """The quote [start, end) of `text`, or the best sentence alone when the quote's text is
    unknown or crosses a paragraph break."""
    if text is None or _PARAGRAPH_BREAK.search(text):
        start, end, text = best.start, best.end, best.text
    return Span(best.article_id, start, end, text, best.score, best)


def select_quotes(
    sentences: Sequence[Sentence],
    passages: Sequence[Passage],
    limit: int,
    passes: Callable[[Sentence], bool] | None = None,
    pair_margin: float = PAIR_MARGIN,
    article_text: Callable[[str], str | None] | None = None,
) -> list[Span]:
    """Up to `limit` non-overlapping quotes, best first, their text cut from the passages
    (or, for two sentences no one passage holds, from `article_text(article_id)`).

    The first is the best-scoring sentence that is not a signature, dateline or caption line;
    later ones must pass the answer test `passes` themselves (all do without one).
    """
    by_article: dict[str, list[Passage]] = {}
    for p in passages:
        by_article.setdefault(p.article_id, []).append(p)
    spans: list[Span] = []
    taken: dict[str, list[tuple[int, int]]] = {}
    for s in sorted(sentences, key=lambda s: -s.score):
        if len(spans) >= limit:
            break
        if is_signature(s.text) or (spans and passes is not None and not passes(s)):
            continue
        start, end = quote_span(s, pair_margin)
        text = _covering_text(by_article.get(s.article_id, []), start, end)
        if text is None and article_text is not None:
            whole = article_text(s.article_id)
            text = whole[start:end] if whole is not None else None
        span = within_paragraph(s, start, end, text)
        if any(span.start < e and b < span.end for b, e in taken.get(s.article_id, [])):
            continue
        if any(span.text in q.text or q.text in span.text for q in spans):  # a copy
            continue
        taken.setdefault(s.article_id, []).append((span.start, span.end))
        spans.append(span)
    return spans
