"""The answer engine: a question in, verbatim quotes with their sources (or an abstention) out."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.abstain import AbstainRule, Signals, agreement
from index.answer_types import MONEY, NUMBER, holds_type, question_names, question_type
from index.backend import Store
from index.embed import Embedder
from index.errors import ConfigError
from index.question import (
    STOPWORDS,
    Stemmer,
    clean_question,
    fts_match,
    search_words,
    validate_question,
    words,
)
from index.quotes import QuoteWeights, Sentence, Span, idf, score_sentences, select_quotes
from index.retrieve import Candidate, Retrieval, retrieve
from index.types import Answer, ArticleInfo, Quote, RetrievedPassage

log = logging.getLogger(__name__)

# A question that leans on an earlier one: it opens like a continuation, or names its
# subject only by a pronoun.
_FOLLOW_UP = re.compile(
    r"^(?:and|but|also|so|then|what about|how about)\b|"
    r"\b(?:it|its|he|she|his|her|him|they|them|their|this|that|these|those|there)\b",
    re.I,
)
FOLLOW_UP_MAX_WORDS = 3


@dataclass(frozen=True, slots=True)
class AnswerConfig:
    """How the engine retrieves, quotes and abstains; every default measured on XQuAD.

    `AnswerConfig.from_env()` overrides any field from CITEBOT_ANSWER_<FIELD>, and the
    nested weights from CITEBOT_QUOTE_<FIELD> and CITEBOT_ABSTAIN_<FIELD>.
    """

    passages: int = 10  # passages listed with every answer (the sources)
    depth: int = 50  # candidates taken from each retriever before fusion
    fusion_prior: float = 0.5  # dense side's weight before the per-question confidence
    per_article: int = 4  # at most this many passages of one article...
    cap_window: int = 10  # ...among the first this many
    quote_passages: int = 5  # top passages whose sentences compete for the quotes
    max_quotes: int = 3
    quote: QuoteWeights = field(default_factory=QuoteWeights)
    abstain: AbstainRule = field(default_factory=AbstainRule)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AnswerConfig:
        """Defaults overridden by CITEBOT_ANSWER_*, CITEBOT_QUOTE_* and CITEBOT_ABSTAIN_*."""
        env = os.environ if environ is None else environ
        return _override(
            cls(),
            env,
            "CITEBOT_ANSWER_",
            nested={"quote": "CITEBOT_QUOTE_", "abstain": "CITEBOT_ABSTAIN_"},
        )


def _override(obj: Any, env: Mapping[str, str], prefix: str, nested: dict[str, str]) -> Any:
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        current = getattr(obj, f.name)
        if f.name in nested:
            changes[f.name] = _override(current, env, nested[f.name], {})
            continue
        raw = env.get(prefix + f.name.upper())
        if raw is not None:
            try:
                changes[f.name] = type(current)(raw)
            except ValueError as exc:
                raise ConfigError(f"{prefix + f.name.upper()}={raw!r}: {exc}") from exc
    return dataclasses.replace(obj, **changes)


def _absent_kind(kind: str | None, sentences: list[Sentence]) -> float:
    """1.0 when the question asks for an amount or a count that no candidate sentence holds."""
    if kind not in (MONEY, NUMBER):
        return 0.0
    return 0.0 if any(s.typed for s in sentences) else 1.0


def is_follow_up(question: str) -> bool:
    """True when a question probably continues an earlier one ("and when did it end?")."""
    return bool(_FOLLOW_UP.search(question)) or len(search_words(question)) <= FOLLOW_UP_MAX_WORDS


class Answerer:
    """Answers questions from one open index; safe to call from several threads."""

    def __init__(
        self, store: Store, embedder: Embedder, config: AnswerConfig | None = None
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config or AnswerConfig()
        self._stemmer = Stemmer()
        self._infos: dict[str, ArticleInfo] = {a.id: a for a in store.articles()}
        self._passage_total = max(store.passage_count(), 1)

    def close(self) -> None:
        self._stemmer.close()
        self.store.close()

    def _query(self, question: str, context: str | None) -> tuple[str, list[str], str]:
        """The cleaned question, its search terms and the text to embed (with any context)."""
        cleaned = validate_question(question)
        terms = search_words(cleaned) or words(cleaned)
        dense_text = cleaned
        if context and is_follow_up(cleaned):
            earlier = clean_question(context)
            dense_text = f"{earlier} {cleaned}"
            terms += [t for t in search_words(earlier) if t not in terms]
        return cleaned, terms, dense_text

    def _retrieve(self, vector: np.ndarray, terms: list[str], depth: int) -> Retrieval:
        cfg = self.config
        return retrieve(
            self.store,
            vector,
            fts_match(terms),
            depth=depth,
            prior=cfg.fusion_prior,
            per_article=cfg.per_article,
            cap_window=cfg.cap_window,
        )

    def search(self, query: str, k: int) -> list[RetrievedPassage]:
        """The k best passages for a query by hybrid retrieval, without quoting."""
        _, terms, dense_text = self._query(query, None)
        vector = self.embedder.embed([dense_text])[0]
        retrieval = self._retrieve(vector, terms, max(self.config.depth, k))
        return self._retrieved(retrieval.candidates[:k])

    def ask(self, question: str, context: str | None = None) -> Answer:
        """Answer with verbatim quotes, or abstain; `context` is an earlier question."""
        started = time.perf_counter()
        cleaned, terms, dense_text = self._query(question, context)
        vector = self.embedder.embed([dense_text])[0]
        cfg = self.config
        retrieval = self._retrieve(vector, terms, cfg.depth)
        top = retrieval.candidates[: cfg.quote_passages]
        sentences = self._sentences(top)
        stems = self._stemmer.stems([*terms, *(s.text for s in sentences)])
        question_stems = set().union(*stems[: len(terms)]) if terms else set()
        freq = self.store.doc_freq(sorted(question_stems))
        term_weights = {t: idf(df, self._passage_total) for t, df in freq.items()}
        kind = question_type(cleaned)
        question_words = set(words(dense_text))
        score_sentences(
            sentences,
            self.store.sentence_vectors([s.id for s in sentences]),
            vector,
            stems[len(terms) :],
            term_weights,
            kind,
            question_words,
            cfg.quote,
        )
        spans = select_quotes(
            sentences,
            [c.passage for c in top],
            cfg.max_quotes,
            cfg.quote.pair_margin,
            cfg.quote.floor,
        )
        quotes = self._checked_quotes(spans)
        signals = self._signals(retrieval, spans, kind, question_words)
        signals = dataclasses.replace(
            signals,
            unknown=self._unknown_name(cleaned, freq),
            absent=_absent_kind(kind, sentences),
        )
        answered = bool(quotes) and cfg.abstain.should_answer(signals)
        reason = "" if answered else self._reason(quotes, signals)
        return Answer(
            question=question,
            answered=answered,
            quotes=tuple(quotes) if answered else (),
            passages=tuple(self._retrieved(retrieval.candidates[: max(cfg.passages, 10)])),
            ms=(time.perf_counter() - started) * 1000.0,
            reason=reason,
        )

    def _sentences(self, top: list[Candidate]) -> list[Sentence]:
        """The distinct sentences of the top passages, each with its best passage's score."""
        best = top[0].score if top and top[0].score > 0 else 1.0
        seen: dict[int, Sentence] = {}
        for rank, cand in enumerate(top):
            p = cand.passage
            for sid, start, end in self.store.sentences_in(p.article_id, p.start, p.end):
                if sid in seen:
                    continue
                seen[sid] = Sentence(
                    id=sid,
                    article_id=p.article_id,
                    start=start,
                    end=end,
                    text=p.text[start - p.start : end - p.start],
                    passage_rank=rank,
                    passage_score=cand.score / best,
                )
        return list(seen.values())

    def _checked_quotes(self, spans: list[Span]) -> list[Quote]:
        """Quotes whose text is exactly the stored article text at their offsets; others dropped."""
        quotes: list[Quote] = []
        texts: dict[str, str | None] = {}
        for span in spans:
            if span.article_id not in texts:
                article = self.store.article(span.article_id)
                texts[span.article_id] = article.text if article else None
            text = texts[span.article_id]
            if text is None or text[span.start : span.end] != span.text:
                log.warning(
                    "dropped a quote of %s at %d-%d: it differs from the stored article text",
                    span.article_id,
                    span.start,
                    span.end,
                )
                continue
            info = self._infos.get(span.article_id)
            quotes.append(
                Quote(
                    text=span.text,
                    article_id=span.article_id,
                    title=info.title if info else "",
                    url=info.url if info else None,
                    path=info.path if info else None,
                    published=info.published if info else None,
                    start=span.start,
                    end=span.end,
                    score=round(span.score, 4),
                )
            )
        return quotes

    def _signals(
        self, retrieval: Retrieval, spans: list[Span], kind: str | None, question_words: set[str]
    ) -> Signals:
        cands = retrieval.candidates
        best = spans[0] if spans else None
        if kind is None:
            typed = 0.5
        else:
            typed = 1.0 if best and holds_type(best.text, kind, question_words) else 0.0
        return Signals(
            cosine=max((c.dense for c in cands), default=0.0),
            overlap=best.best.overlap if best else 0.0,
            agreement=agreement(retrieval.dense_ids, retrieval.lexical_ids),
            typed=typed,
        )

    def _unknown_name(self, question: str, freq: dict[str, int]) -> float:
        """1.0 when a capitalised name of the question occurs in no passage of the index."""
        names = [n for n in question_names(question) if n.casefold() not in STOPWORDS]
        stems = self._stemmer.stems(names)
        return 1.0 if any(freq.get(t, 1) == 0 for st in stems for t in st) else 0.0

    def _reason(self, quotes: list[Quote], signals: Signals) -> str:
        if not quotes:
            return "no passage of the articles matches the question"
        return self.config.abstain.reason(signals)

    def _retrieved(self, candidates: list[Candidate]) -> list[RetrievedPassage]:
        out = []
        for c in candidates:
            info = self._infos.get(c.passage.article_id)
            out.append(
                RetrievedPassage(
                    text=c.passage.text,
                    article_id=c.passage.article_id,
                    title=info.title if info else "",
                    path=info.path if info else None,
                    url=info.url if info else None,
                    published=info.published if info else None,
                    start=c.passage.start,
                    end=c.passage.end,
                    score=round(c.score, 4),
                )
            )
        return out
