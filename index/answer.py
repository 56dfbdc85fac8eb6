"""The answer engine: a question in, verbatim quotes with their sources (or an abstention) out."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.abstain import AbstainRule, agreement
from index.answer_types import MONEY, NUMBER, question_names, question_type
from index.backend import Store
from index.embed import Embedder
from index.errors import ConfigError
from index.evidence import (
    AnswerModel,
    QuestionFacts,
    explain,
    first_choice,
    one_edit,
    question_numbers,
    question_phrases,
    question_row,
    sentence_rows,
    sigmoid,
    weighted_share,
    window_nearness,
)
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
from index.retrieve import Candidate, Retrieval, is_fts_syntax_error, retrieve
from index.types import Answer, ArticleInfo, Quote, RetrievedPassage
from index.word_vectors import packaged_word_vectors

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

    The answer model's weights live in `index/answer_model.json` (see `index/evidence.py`);
    `quote.floor` and `abstain.threshold` are probabilities of that model.

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
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        tables: Mapping[str, Any] | None = None,
    ) -> AnswerConfig:
        """Defaults overridden by TOML `tables`, then by environment variables.

        Derived from the dataclass fields: a field of this class is CITEBOT_ANSWER_<FIELD>
        (TOML `[answer]`); a field of a nested dataclass such as `quote` is
        CITEBOT_QUOTE_<FIELD> (TOML `[quote]`), one level deeper CITEBOT_QUOTE_<NAME>_<FIELD>
        (TOML `[quote.<name>]`).
        """
        env = os.environ if environ is None else environ
        tables = tables or {}
        answer = tables.get("answer", {})
        return _override(cls(), env, "CITEBOT_ANSWER_", "answer", answer, "CITEBOT_", tables)


def _override(
    obj: Any,
    env: Mapping[str, str],
    prefix: str,
    where: str,
    own: Mapping[str, Any],
    nested_prefix: str,
    nested_tables: Mapping[str, Any],
) -> Any:
    """A copy of the dataclass `obj` with every field the environment or TOML sets."""
    if not isinstance(own, Mapping):
        raise ConfigError(f"[{where}] in the settings file: expected a table")
    names = {f.name for f in dataclasses.fields(obj)}
    unknown = {k for k in own if k not in names}
    if unknown:
        raise ConfigError(f"[{where}] in the settings file: unknown {', '.join(sorted(unknown))}")
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        current = getattr(obj, f.name)
        if dataclasses.is_dataclass(current) and not isinstance(current, type):
            sub_prefix = f"{nested_prefix}{f.name.upper()}_"
            sub_where = f.name if nested_tables is not own else f"{where}.{f.name}"
            sub_table = nested_tables.get(f.name, {})
            changes[f.name] = _override(
                current, env, sub_prefix, sub_where, sub_table, sub_prefix, sub_table
            )
            continue
        name = prefix + f.name.upper()
        if name in env and env[name] != "":
            raw, source = env[name], name
        elif f.name in own:
            raw, source = own[f.name], f"`{f.name}` in [{where}] ({name})"
        else:
            continue
        try:
            changes[f.name] = _convert(current, raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{source}: expected {_expected(current)}") from None
    return dataclasses.replace(obj, **changes)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(current: Any, raw: Any) -> Any:
    """`raw` (text from the environment, or a TOML value) as the type of the default."""
    if isinstance(current, bool):
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
            return raw.strip().lower() in _TRUE
        raise ValueError("not a boolean")
    if isinstance(raw, bool):
        raise TypeError("a boolean where a number or text is expected")
    if isinstance(current, int):
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError("not whole")
        return int(raw)
    if isinstance(current, float):
        return float(raw)
    if isinstance(current, tuple | list):
        items = raw.replace(",", " ").split() if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple):
            raise TypeError("not a list")
        kind = type(current[0]) if current else str
        return type(current)(_convert(kind(), item) for item in items)
    if current is None or isinstance(current, str):
        if not isinstance(raw, str):
            raise TypeError("not text")
        return raw
    return type(current)(raw)


def _expected(current: Any) -> str:
    if isinstance(current, bool):
        return "true or false"
    if isinstance(current, int):
        return "a whole number"
    if isinstance(current, float):
        return "a number"
    if isinstance(current, tuple | list):
        return "a list"
    return "text"


_POSSESSIVE = re.compile(r"['’]s$")
UNHEARD_MIN_LETTERS = 4  # shorter names are checked as spelt: one letter off is another word
# A phrase is looked up by scanning the passages that hold all its words. When even its rarest
# word is in more passages than this (only in indexes larger than it), the scan could take tens
# of milliseconds, and a name made of words that common is there: it counts as found.
PHRASE_POSTINGS = 50_000


def _absent_kind(kind: str | None, sentences: list[Sentence]) -> bool:
    """True when the question asks for an amount or a count that no candidate sentence holds."""
    if kind not in (MONEY, NUMBER):
        return False
    return not any(s.typed for s in sentences)


def _unknown_name(names: list[str], stems: list[set[str]], freq: dict[str, int]) -> float:
    """1.0 when a capitalised name of the question occurs in no passage of the index."""
    unknown = (
        freq.get(t, 1) == 0
        for name, st in zip(names, stems, strict=True)
        if name.casefold() not in STOPWORDS
        for t in st
    )
    return 1.0 if any(unknown) else 0.0


def _focus_terms(
    terms: list[str],
    stems: list[set[str]],
    weights: dict[str, float],
    name_stems: set[str],
) -> list[tuple[str, set[str], float]]:
    """(word, stems, weight) of the question's search words that are not part of a name."""
    out = []
    for term, term_stems in zip(terms, stems, strict=True):
        own = term_stems - name_stems
        weight = sum(weights.get(t, 0.0) for t in own)
        if own and weight > 0:
            out.append((term, own, weight))
    return out


def is_follow_up(question: str) -> bool:
    """True when a question probably continues an earlier one ("and when did it end?")."""
    return bool(_FOLLOW_UP.search(question)) or len(search_words(question)) <= FOLLOW_UP_MAX_WORDS


_model: AnswerModel | None = None
_model_lock = threading.Lock()


def default_model() -> AnswerModel:
    """The answer model shipped in `index/answer_model.json`, loaded once."""
    global _model
    with _model_lock:
        if _model is None:
            _model = AnswerModel.load()
        return _model


def install_model(model: AnswerModel) -> None:
    """Make `model` the one every new Answerer uses (calibration gathers data this way)."""
    global _model
    with _model_lock:
        _model = model


@dataclass(slots=True)
class Evidence:
    """Everything the engine weighed for one question, before deciding."""

    question: str
    retrieval: Retrieval
    top: list[Candidate]
    sentences: list[Sentence]
    rows: np.ndarray  # SENTENCE_FEATURES of each sentence, in `sentences` order
    facts: QuestionFacts
    absent: bool


class Answerer:
    """Answers questions from one open index; safe to call from several threads."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        config: AnswerConfig | None = None,
        model: AnswerModel | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config or AnswerConfig()
        self.model = model or default_model()
        self._stemmer = Stemmer()
        self._infos: dict[str, ArticleInfo] = {a.id: a for a in store.articles()}
        self._passage_total = max(store.passage_count(), 1)
        packaged_word_vectors()  # loaded now (0.1 s, once a process), not by the first question

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

    def gather(self, question: str, context: str | None = None) -> Evidence:
        """Retrieve, and measure every candidate sentence and the question against the index."""
        cleaned, terms, dense_text = self._query(question, context)
        vector = self.embedder.embed([dense_text])[0]
        cfg = self.config
        retrieval = self._retrieve(vector, terms, cfg.depth)
        top = retrieval.candidates[: cfg.quote_passages]
        sentences = self._sentences(top)
        names = question_names(cleaned)
        stems = self._stemmer.stems([*terms, *names, *(s.text for s in sentences)])
        question_stems = set().union(*stems[: len(terms)]) if terms else set()
        name_stems = stems[len(terms) : len(terms) + len(names)]
        sentence_stems = stems[len(terms) + len(names) :]
        freq = self.store.doc_freq(sorted(question_stems))
        term_weights = {t: idf(df, self._passage_total) for t, df in freq.items()}
        kind = question_type(cleaned)
        question_words = set(words(dense_text))
        score_sentences(
            sentences,
            self.store.sentence_vectors([s.id for s in sentences]),
            vector,
            sentence_stems,
            term_weights,
            kind,
            question_words,
        )
        numbers = question_numbers(dense_text)
        in_names = set().union(*name_stems)
        focus = _focus_terms(terms, stems[: len(terms)], term_weights, in_names)
        rows = sentence_rows(
            sentences,
            {s.id: st for s, st in zip(sentences, sentence_stems, strict=True)},
            question_stems,
            term_weights,
            kind,
            question_words,
            numbers,
            self._article_terms({s.article_id for s in sentences}, terms, stems[: len(terms)]),
            in_names,
            focus,
            window_nearness(
                sentences, [t for t, _, _ in focus], packaged_word_vectors().similarity
            ),
        )
        facts = QuestionFacts(
            cosine=max((c.dense for c in retrieval.candidates), default=0.0),
            agreement=agreement(retrieval.dense_ids, retrieval.lexical_ids),
            covered=weighted_share(set().union(*sentence_stems), term_weights),
            unknown=_unknown_name(names, name_stems, freq),
            phrase=self._unknown_phrase(cleaned),
            number=1.0 if any(freq.get(n, 1) == 0 for n in numbers) else 0.0,
            kind=kind,
            terms=min(len(question_stems), 6) / 6.0,
            specific=min(sum(w for t, w in term_weights.items() if freq[t] > 0), 20.0) / 20.0,
            unseen=weighted_share({t for t, df in freq.items() if df == 0}, term_weights),
        )
        if facts.unknown:
            facts = dataclasses.replace(facts, unheard=self._unheard_name(cleaned, freq))
        return Evidence(
            cleaned, retrieval, top, sentences, rows, facts, _absent_kind(kind, sentences)
        )

    def ask(self, question: str, context: str | None = None) -> Answer:
        """Answer with verbatim quotes, or abstain; `context` is an earlier question."""
        started = time.perf_counter()
        return self.decide(question, self.gather(question, context), started)

    def decide(self, question: str, ev: Evidence, started: float | None = None) -> Answer:
        """The answer the model gives on gathered evidence: quotes, or an abstention."""
        if started is None:
            started = time.perf_counter()
        cfg = self.config
        logits = self.model.sentence.logits(ev.rows) if len(ev.sentences) else np.zeros(0)
        for s, logit in zip(ev.sentences, logits, strict=True):
            s.score = float(logit)
        position = {id(s): i for i, s in enumerate(ev.sentences)}

        def probability_of(row: list[float]) -> float:
            return sigmoid(float(self.model.question.logits(np.array([row]))[0]))

        def passes(s: Sentence) -> bool:  # a later quote, judged as if it were the only one
            row = question_row(ev.rows, logits, position[id(s)], ev.facts)
            return probability_of(row) >= cfg.quote.floor

        texts: dict[str, str | None] = {}

        def article_text(article_id: str) -> str | None:
            if article_id not in texts:
                article = self.store.article(article_id)
                texts[article_id] = article.text if article else None
            return texts[article_id]

        spans = select_quotes(
            ev.sentences,
            [c.passage for c in ev.top],
            cfg.max_quotes,
            passes,
            cfg.quote.pair_margin,
            article_text,
        )
        quotes = self._checked_quotes(spans, article_text)
        best = first_choice(ev.rows, logits) if len(ev.sentences) else None
        probability = 0.0
        held_back_by = "no sentence"
        if best is not None:
            row = question_row(ev.rows, logits, best, ev.facts)
            probability = probability_of(row)
            held_back_by = explain(self.model.question, row)
        unheard = ev.facts.unheard >= 1.0
        answered = bool(quotes) and cfg.abstain.should_answer(probability, ev.absent, unheard)
        if not quotes:
            reason = "no passage of the articles matches the question"
        elif answered:
            reason = ""
        else:
            reason = cfg.abstain.reason(probability, ev.absent, held_back_by, unheard)
        log.debug("answer probability %.3f for %r", probability, ev.question)
        return Answer(
            question=question,
            answered=answered,
            quotes=tuple(quotes) if answered else (),
            passages=tuple(self._retrieved(ev.retrieval.candidates[: max(cfg.passages, 10)])),
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

    def _checked_quotes(
        self, spans: list[Span], article_text: Callable[[str], str | None]
    ) -> list[Quote]:
        """Quotes whose text is exactly the stored article text at their offsets; others dropped."""
        quotes: list[Quote] = []
        for span in spans:
            text = article_text(span.article_id)
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

    def _unheard_name(self, question: str, freq: dict[str, int]) -> float:
        """1.0 when a name of the question is in no passage even one letter apart.

        Acronyms ("UMC", "SP") are left out: articles often spell them out. A misspelt name
        ("Maastrich", "Bedigo") matches the word it was meant to be and does not count, nor
        does one written as two words of the index run together ("Superbowl").
        """
        for name in question_names(question):
            if name.casefold() in STOPWORDS or _POSSESSIVE.sub("", name).isupper():
                continue
            for word in words(_POSSESSIVE.sub("", name)):
                if all(freq.get(t, 1) > 0 for t in self._stemmer.stems([word])[0]):
                    continue
                if len(word) < UNHEARD_MIN_LETTERS:
                    return 1.0
                near = set().union(*self._stemmer.stems(sorted(one_edit(word))))
                if not any(self.store.doc_freq(sorted(near)).values()) and not self._run_together(
                    word
                ):
                    return 1.0
        return 0.0

    def _run_together(self, word: str) -> bool:
        """Whether the word is two words the index holds side by side, each of 4 letters or
        more, written as one ("Superbowl" for "Super Bowl", "UserDatagram"); "Greenland" is
        not "green land" unless a passage says "green land"."""
        part = UNHEARD_MIN_LETTERS
        return any(
            self._holds_phrase([word[:i], word[i:]]) for i in range(part, len(word) - part + 1)
        )

    def _article_terms(
        self, article_ids: set[str], terms: list[str], term_stems: list[set[str]]
    ) -> dict[str, set[str]]:
        """Which stems of the question's search words occur anywhere in each article.

        The index answers it: each word is looked for in the text of the article's passages
        (which cover the whole article), one FTS5 query per word and article, however long
        the article. A word that is not exactly one token is rare; then the articles are
        read and stemmed whole.
        """
        ordered = sorted(article_ids)
        if all(len(stems) == 1 for stems in term_stems):
            matches = ['text : "' + t.replace('"', '""') + '"' for t in terms]
            stem_of = [next(iter(stems)) for stems in term_stems]
            return {
                article_id: {
                    stem
                    for stem, hit in zip(
                        stem_of, self.store.article_matches(article_id, matches), strict=True
                    )
                    if hit
                }
                for article_id in ordered
            }
        question_stems = set().union(*term_stems)
        articles = [self.store.article(article_id) for article_id in ordered]
        stemmed = self._stemmer.stems([a.text if a else "" for a in articles])
        return {
            article_id: stems & question_stems
            for article_id, stems in zip(ordered, stemmed, strict=True)
        }

    def _unknown_phrase(self, question: str) -> float:
        """1.0 when a multi-word name of the question ("World Cup") is in no passage as a phrase."""
        for phrase in question_phrases(question):
            if self._holds_phrase(words(phrase)) is False:
                return 1.0
        return 0.0

    def _holds_phrase(self, phrase_words: list[str]) -> bool | None:
        """Whether a passage holds these (lower-case) words side by side. None when that is
        not looked up: FTS5 cannot parse the phrase, or even its rarest word is in more
        than PHRASE_POSTINGS passages (the scan could take tens of milliseconds)."""
        if self._passage_total > PHRASE_POSTINGS:
            stems = set().union(*self._stemmer.stems(phrase_words))
            if min(self.store.doc_freq(sorted(stems)).values(), default=0) > PHRASE_POSTINGS:
                return None
        try:
            return self.store.lexical_any('"' + " ".join(phrase_words) + '"')
        except sqlite3.OperationalError as exc:
            if not is_fts_syntax_error(exc):
                raise
            return None

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
