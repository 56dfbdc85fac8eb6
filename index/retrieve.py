"""Hybrid retrieval: dense (FAISS) and BM25 (FTS5) passages fused by confidence-weighted scores.

Each side's scores are divided by that side's best score, so both lie in [0, 1] whatever
their scale (cosines near 0.5, BM25 near 20). The two are then mixed with a weight that leans
towards the side whose best result stands out from its next ones: a side that cannot tell its
passages apart (MiniLM on a long technical article, BM25 on a paraphrase) counts less for
that question. Finally no article may hold more than `per_article` of the first `cap_window`
places, so one long article cannot crowd out the rest.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass

import numpy as np

from index.backend import Store
from index.types import Passage

log = logging.getLogger(__name__)

# The messages SQLite gives for a MATCH expression it cannot parse.
_FTS_SYNTAX_ERRORS = ("fts5: syntax error", "unterminated string", "unknown special query")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A retrieved passage with its fused score and each retriever's raw score."""

    passage: Passage
    score: float
    dense: float  # cosine with the question
    lexical: float  # -bm25, 0 when BM25 did not return it


@dataclass(frozen=True, slots=True)
class Retrieval:
    """Ranked candidates, and each retriever's own ranking."""

    candidates: list[Candidate]
    dense_ids: list[int]  # each retriever's own ranking, best first
    lexical_ids: list[int]


def peak_confidence(scores: np.ndarray, k: int = 10) -> float:
    """How far the best score stands above the mean of the next k-1, relative to the best."""
    if scores.size == 0:
        return 0.0
    top = np.sort(scores)[::-1][:k]
    if top[0] <= 0:
        return 0.0
    rest = top[1:].mean() if top.size > 1 else 0.0
    return float((top[0] - rest) / top[0])


def fuse(dense: np.ndarray, lexical: np.ndarray, prior: float = 0.5) -> tuple[np.ndarray, float]:
    """Fused scores of the same candidates, and the dense side's weight for this question.

    The weight is half the prior and half each side's share of the two peak confidences.
    """
    dense = np.clip(dense, 0.0, None)
    lexical = np.clip(lexical, 0.0, None)
    d_conf, l_conf = peak_confidence(dense), peak_confidence(lexical)
    share = d_conf / (d_conf + l_conf) if d_conf + l_conf > 0 else prior
    weight = 0.5 * prior + 0.5 * share
    d_max, l_max = dense.max(initial=0.0), lexical.max(initial=0.0)
    d_norm = dense / d_max if d_max > 0 else dense
    l_norm = lexical / l_max if l_max > 0 else lexical
    return weight * d_norm + (1.0 - weight) * l_norm, weight


def cap_per_article(ranked: list[Candidate], per_article: int, window: int) -> list[Candidate]:
    """Reorder so that no article holds more than `per_article` of the first `window` places."""
    if per_article <= 0:
        return ranked
    head: list[Candidate] = []
    deferred: list[Candidate] = []
    counts: dict[str, int] = {}
    for cand in ranked:
        aid = cand.passage.article_id
        if len(head) < window and counts.get(aid, 0) >= per_article:
            deferred.append(cand)
            continue
        if len(head) < window:
            counts[aid] = counts.get(aid, 0) + 1
            head.append(cand)
        else:
            deferred.append(cand)
    return head + deferred


def is_fts_syntax_error(exc: sqlite3.OperationalError) -> bool:
    """Whether SQLite refused a full-text query for its syntax, not for the database's state."""
    message = str(exc)
    return message.startswith(_FTS_SYNTAX_ERRORS)


def retrieve(
    store: Store,
    vector: np.ndarray,
    match: str,
    *,
    depth: int = 50,
    prior: float = 0.5,
    per_article: int = 4,
    cap_window: int = 10,
) -> Retrieval:
    """The union of the dense and BM25 top `depth` passages, fused and ranked best first."""
    dense_hits = store.dense_search(vector, depth)
    try:
        lexical_hits = store.lexical_search(match, depth) if match else []
    except sqlite3.OperationalError as exc:
        # A malformed FTS5 expression must never stop an answer; anything else (a closed or
        # damaged database) is a real failure and propagates.
        if not is_fts_syntax_error(exc):
            raise
        log.warning("full-text search skipped, malformed query %r: %s", match, exc)
        lexical_hits = []
    lexical = dict(lexical_hits)
    ids = list(dict.fromkeys([pid for pid, _ in dense_hits] + [pid for pid, _ in lexical_hits]))
    if not ids:
        return Retrieval([], [], [])
    # Exact cosines for every candidate, including those only BM25 found.
    cosines = store.passage_vectors(ids) @ np.asarray(vector, dtype=np.float32)
    lex = np.array([lexical.get(pid, 0.0) for pid in ids], dtype=np.float32)
    fused, _ = fuse(cosines, lex, prior)
    by_id = {p.id: p for p in store.passages(ids)}
    order = np.argsort(-fused, kind="stable")
    ranked = [
        Candidate(by_id[ids[i]], float(fused[i]), float(cosines[i]), float(lex[i]))
        for i in order
        if ids[i] in by_id
    ]
    return Retrieval(
        cap_per_article(ranked, per_article, cap_window),
        [pid for pid, _ in dense_hits],
        [pid for pid, _ in lexical_hits],
    )
