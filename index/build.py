"""Building the index: read the corpus, split, embed what changed, write a new version."""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.backend import ArticleRows, ChangeSet
from index.embed import Embedder, normalise
from index.errors import CitebotError
from index.passages import make_passages, split_sentences
from index.readers import MAX_ARTICLE_BYTES, read_corpus
from index.store import (
    FORMAT_VERSION,
    REBUILD_HINT,
    IndexStore,
    library_versions,
    read_current_file,
)
from index.store_writer import (
    VersionWriter,
    build_lock,
    clean_partial_versions,
    write_current,
)
from index.types import Article, BuildProgress, BuildReport, ProgressCallback

log = logging.getLogger(__name__)

TARGET_WORDS = 100
OVERLAP_SENTENCES = 1
# Anything that changes how an article becomes passages or vectors; a change re-embeds all.
CHUNKING = {
    "target_words": TARGET_WORDS,
    "overlap_sentences": OVERLAP_SENTENCES,
    # 2: neither an abbreviation opening a line ("Dr." after a blank line) nor a spaced
    # ellipsis (". . .") ends a sentence; "Inc." or "etc." ends one before a sentence opener.
    "splitter": 2,
    "passage_text": "title+text",
    # A passage's vector: its title's and its whole sentences' vectors summed, normalised.
    "passage_vectors": "title+sentences",
}
# Plain progress lines (stderr not a terminal): every this share of the work or this often.
PLAIN_EVERY_PERCENT = 10
PLAIN_EVERY_SECONDS = 10.0
PLAIN_MIN_TOTAL = 200  # a build of a few articles prints no progress lines


def passage_embed_text(title: str, passage_text: str) -> str:
    """The text embedded for a passage: its article's title gives the passage its topic."""
    return f"{title}\n\n{passage_text}"


@dataclass(slots=True)
class _Chunked:
    """One article's passages and sentences, with vectors when they can be reused."""

    article: Article
    passages: list[tuple[int, int]]
    sentences: list[tuple[int, int]]
    passage_vectors: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None


@dataclass(slots=True)
class _Plan:
    """What a build changes: articles to embed and write, and article ids to remove."""

    to_embed: list[_Chunked] = field(default_factory=list)
    removals: list[str] = field(default_factory=list)


def chunk_article(article: Article) -> _Chunked:
    """Split an article into sentence and passage spans of its stored text."""
    sentences = split_sentences(article.text)
    passages = make_passages(article.text, sentences, TARGET_WORDS, OVERLAP_SENTENCES)
    return _Chunked(article, passages, sentences)


def _open_previous(index_dir: Path, embedder: Embedder, rebuild: bool) -> IndexStore | None:
    """The live version if its vectors can be reused by this build, else None."""
    # read_current is None exactly when CURRENT names nothing; this skips its manifest+db reads.
    if rebuild or read_current_file(index_dir) is None:
        return None
    try:
        store = IndexStore.open(
            index_dir, embedder.name, embedder.dimension, load_dense=False, full_check=True
        )
    except CitebotError as exc:
        # The message ends in the fix (`--rebuild`), which is what this build now does.
        reason = str(exc).removesuffix(f"; {REBUILD_HINT}")
        log.warning("not reusing the existing index (%s): embedding every article afresh", reason)
        return None
    if store.manifest.get("chunking") != CHUNKING:
        log.info("passage settings changed since the last build: re-embedding everything")
        store.close()
        return None
    return store


def _plan(articles: list[Article], previous: IndexStore | None, report: BuildReport) -> _Plan:
    """Chunk the new and changed articles; unchanged ones stay as they are in the index."""
    old_hashes = previous.content_hashes() if previous else {}
    plan = _Plan()
    for article in articles:
        old_hash = old_hashes.get(article.id)
        if previous is not None and old_hash == article.content_hash:
            report.unchanged += 1
            continue
        plan.to_embed.append(chunk_article(article))
        if old_hash is None:
            report.added += 1
        else:
            report.updated += 1
            plan.removals.append(article.id)
    current_ids = {a.id for a in articles}
    gone = [article_id for article_id in old_hashes if article_id not in current_ids]
    report.removed = len(gone)
    plan.removals += gone
    return plan


class _Progress:
    """Counts embedded texts for the caller's callback and for a person watching.

    On a terminal: a tqdm bar with rate and ETA on stderr. Otherwise: a plain line on
    stderr every PLAIN_EVERY_PERCENT of the work or PLAIN_EVERY_SECONDS, whichever first.
    """

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total, self.done = total, 0
        self._callback = callback
        self._bar = _terminal_bar(total)
        self._started = self._last_line = time.monotonic()
        self._last_done = 0

    def grow(self, extra: int) -> None:
        self.total += extra
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()

    def step(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.total >= PLAIN_MIN_TOTAL:
            self._plain_line()
        if self._callback is not None:
            self._callback(BuildProgress("embedding", self.done, self.total))

    def _plain_line(self, final: bool = False) -> None:
        now = time.monotonic()
        due = (self.done - self._last_done) * 100 >= PLAIN_EVERY_PERCENT * self.total
        if not (final or due or now - self._last_line >= PLAIN_EVERY_SECONDS):
            return
        self._last_line, self._last_done = now, self.done
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        print(
            f"embedding {self.done}/{self.total} texts ({100 * self.done // max(self.total, 1)}%)"
            f", {rate:.1f} texts/s, {elapsed:.0f} s elapsed, ETA {eta:.0f} s",
            file=sys.stderr,
            flush=True,
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.total >= PLAIN_MIN_TOTAL and self.done != self._last_done:
            self._plain_line(final=True)


def _terminal_bar(total: int) -> Any:
    if not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="embedding", unit="text", leave=False, file=sys.stderr)


def _embed_by_length(
    embedder: Embedder, texts: list[str], step: Callable[[int], None]
) -> np.ndarray:
    """Embed texts in order of length, so each batch pads little, and return them in order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors = embedder.embed([texts[i] for i in order], progress=step)
    out = np.empty_like(vectors)
    out[order] = vectors
    return out


def _passage_members(chunk: _Chunked) -> list[range]:
    """Per passage, the indexes of the sentences lying whole inside it (in order)."""
    starts = [s for s, _ in chunk.sentences]
    ends = [e for _, e in chunk.sentences]
    return [
        range(bisect.bisect_left(starts, ps), bisect.bisect_right(ends, pe))
        for ps, pe in chunk.passages
    ]


def _embed(plan: _Plan, embedder: Embedder, progress: ProgressCallback | None) -> int:
    """Embed the sentences and titles of changed articles; returns passages given vectors.

    The model sees each sentence alone and each title once, in one call ordered by length,
    each distinct text once. A passage's vector is the normalised sum of its title's vector
    and the vectors of the sentences it holds: the passages' own pass, over every text
    again at up to 256 tokens, is not needed. Only a passage holding no whole sentence (a cut
    of one overlong sentence) is embedded itself, as title and text.
    """
    members = [_passage_members(c) for c in plan.to_embed]
    s_texts = [c.article.text[s:e] for c in plan.to_embed for s, e in c.sentences]
    titles = [c.article.title for c in plan.to_embed]
    own = [
        passage_embed_text(c.article.title, c.article.text[s:e])
        for c, inside in zip(plan.to_embed, members, strict=True)
        for (s, e), m in zip(c.passages, inside, strict=True)
        if not m
    ]
    if not s_texts and not own:  # nothing to embed: no passage holds any text
        return 0
    # Each distinct text once: boilerplate lines repeated across articles cost one embedding.
    unique = list(dict.fromkeys(s_texts + titles + own))
    bar = _Progress(len(unique), progress)
    try:
        vectors = _embed_by_length(embedder, unique, bar.step)
    finally:
        bar.close()
    row = {text: i for i, text in enumerate(unique)}
    for chunk, inside in zip(plan.to_embed, members, strict=True):
        text, title = chunk.article.text, chunk.article.title
        sentences = vectors[[row[text[s:e]] for s, e in chunk.sentences]]
        chunk.sentence_vectors = sentences
        chunk.passage_vectors = normalise(
            np.array(
                [
                    passage_sum(vectors[row[title]], sentences[m.start : m.stop])
                    if m
                    else vectors[row[passage_embed_text(title, text[s:e])]]
                    for (s, e), m in zip(chunk.passages, inside, strict=True)
                ],
                dtype=np.float32,
            ).reshape(len(chunk.passages), embedder.dimension)
        )
    return sum(len(c.passages) for c in plan.to_embed)


def passage_sum(title: np.ndarray, sentences: np.ndarray) -> np.ndarray:
    """A passage's vector before normalising (CHUNKING's "title+sentences"): its title's
    vector plus the vectors of the whole sentences it holds."""
    return title + sentences.sum(axis=0)


def _new_version_name() -> str:
    now = dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%S}-{now.microsecond:06d}-{os.getpid()}"


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    progress: ProgressCallback | None = None,
    rebuild: bool = False,
    max_article_bytes: int = MAX_ARTICLE_BYTES,
) -> BuildReport:
    """Index the corpus incrementally and switch to the new version atomically.

    Only articles whose content hash changed are embedded; `rebuild` re-embeds everything.
    When nothing changed and the live index is reusable, no new version is written.
    Unreadable files (and files over `max_article_bytes`) are reported in the BuildReport,
    never raised.
    """
    started = time.perf_counter()
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    report = BuildReport()
    articles, failures = read_corpus(corpus_dir, max_bytes=max_article_bytes)
    report.failures, report.failed = failures, len(failures)
    if progress is not None:
        progress(BuildProgress("reading", len(articles), len(articles)))
    with build_lock(index_dir):
        clean_partial_versions(index_dir)
        previous = _open_previous(index_dir, embedder, rebuild)
        try:
            plan = _plan(articles, previous, report)
            report.articles = len(articles)
            if previous is not None and not plan.to_embed and not plan.removals:
                report.passages = previous.passage_count()
                report.seconds = time.perf_counter() - started
                log.info("index %s is up to date", previous.version)
                if read_current_file(index_dir) != previous.version:
                    write_current(index_dir, previous.version)  # a build stopped before it
                return report
            embed_started = time.perf_counter()
            report.embedded = _embed(plan, embedder, progress)
            embed_seconds = time.perf_counter() - embed_started
            if progress is not None:
                progress(BuildProgress("writing", 0, 1))
            writer = _write_version(index_dir, plan, previous, embedder, report, embed_seconds)
        finally:
            if previous is not None:
                previous.close()
        writer.commit()
    if progress is not None:
        progress(BuildProgress("writing", 1, 1))
    report.seconds = time.perf_counter() - started
    return report


def _write_version(
    index_dir: Path,
    plan: _Plan,
    previous: IndexStore | None,
    embedder: Embedder,
    report: BuildReport,
    embed_seconds: float,
) -> VersionWriter:
    """Write the plan as a new version beside the live one (not yet live)."""
    manifest: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "model": embedder.name,
        "dimension": embedder.dimension,
        "chunking": CHUNKING,
        "libraries": library_versions(),
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "counts": {"embedded": report.embedded},
        "embed_seconds": round(embed_seconds, 3),
    }
    changes = ChangeSet(
        upserts=(
            ArticleRows(
                c.article,
                c.passages,
                c.sentences,
                _vectors(c.passage_vectors, embedder.dimension),
                _vectors(c.sentence_vectors, embedder.dimension),
            )
            for c in plan.to_embed
        ),
        removals=plan.removals,
        reset=previous is None,
    )
    writer = VersionWriter(index_dir, _new_version_name(), previous)
    writer.write(changes, manifest)
    report.passages = int(writer.manifest["counts"]["passages"])
    return writer


def _vectors(vectors: np.ndarray | None, dimension: int) -> np.ndarray:
    if vectors is None:
        return np.zeros((0, dimension), dtype=np.float32)
    return vectors


def summary_line(report: BuildReport) -> str:
    """The one line a build prints when it ends."""
    rate = f" ({report.passages_per_second:.1f} passages/s)" if report.embedded else ""
    return (
        f"{report.articles} articles, {report.passages} passages: {report.added} added, "
        f"{report.updated} updated, {report.removed} removed, {report.unchanged} unchanged, "
        f"{report.failed} skipped; embedded {report.embedded} passages in "
        f"{report.seconds:.1f} s{rate}"
    )
