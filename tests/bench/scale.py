"""Index figures at scale: synthetic-but-realistic indexes of 10K, 100K and 1M passages.

Texts are real passages of the sample corpus (`corpus/`) shuffled into synthetic articles of ten
passages, so FTS5 indexes real language. Vectors are the real all-MiniLM-L6-v2 vectors of those
passages and sentences (embedded once, cached in .citebot/bench-cache), each replica mixed with
a third of another real vector and Gaussian noise (cosine to its source ~0.94), so the dense
index sees the shape of real vectors without embedding a million texts. Questions are XQuAD's,
with their real vectors, asked through the real Answerer. Embedding is excluded here (the quick
bench and tests/bench/embedding.py report it).

    python -m tests.bench.scale --sizes 10000,100000,1000000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
XQUAD = Path(
    os.environ.get("CITEBOT_XQUAD", ROOT.parent / "shared" / "data" / "xquad" / "xquad.en.json")
)
CACHE = ROOT / ".citebot" / "bench-cache" / "real-vectors-2.npz"  # -2: passages from sentences
MODEL = "bench/replicated-all-MiniLM-L6-v2"
DIM = 384
PASSAGES_PER_ARTICLE = 10
QUESTIONS = 300
WARM_UP = 20  # further questions asked before timing, never timed themselves


def log(message: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_ms(
    ask: Callable[[str], object], asked: Sequence[str], warm_up: int = WARM_UP
) -> list[float]:
    """Milliseconds of each `ask(question)` but the last `warm_up`, which are asked first and
    not timed (a timed question asked once already would find its articles cached)."""
    timed = asked[: len(asked) - warm_up] if len(asked) > warm_up else asked
    for question in asked[len(timed) :]:
        ask(question)
    times = []
    for question in timed:
        started = time.perf_counter()
        ask(question)
        times.append((time.perf_counter() - started) * 1000)
    return times


@dataclass
class Material:
    """Real passages (title, text, sentence spans within the text), their vectors, questions."""

    titles: list[str]
    texts: list[str]
    sentences: list[list[tuple[int, int]]]
    sentence_rows: list[list[int]]  # row of each sentence in s_vectors
    p_vectors: np.ndarray
    s_vectors: np.ndarray
    questions: list[str]
    q_vectors: np.ndarray


def load_material() -> Material:
    from index.build import chunk_article, passage_embed_text
    from index.readers import read_corpus

    articles, _ = read_corpus(ROOT / "corpus")
    titles, texts, spans, rows, s_texts, p_texts = [], [], [], [], [], []
    for article in articles:
        chunk = chunk_article(article)
        for start, end in chunk.passages:
            inside = [(s, e) for s, e in chunk.sentences if s >= start and e <= end]
            titles.append(article.title)
            texts.append(article.text[start:end])
            spans.append([(s - start, e - start) for s, e in inside])
            rows.append(list(range(len(s_texts), len(s_texts) + len(inside))))
            s_texts += [article.text[s:e] for s, e in inside]
            p_texts.append(passage_embed_text(article.title, article.text[start:end]))
    questions = []
    if XQUAD.is_file():
        data = json.loads(XQUAD.read_text(encoding="utf-8"))["data"]
        questions = [qa["question"] for a in data for p in a["paragraphs"] for qa in p["qas"]]
    else:
        log(f"no XQuAD at {XQUAD} (set CITEBOT_XQUAD): asking 'What is <title>?' instead")
    questions = questions[: QUESTIONS + WARM_UP] or [f"What is {t}?" for t in sorted(set(titles))]
    cached = np.load(CACHE) if CACHE.is_file() else None
    if cached is not None and (
        cached["p"].shape[0] != len(p_texts)
        or cached["s"].shape[0] != len(s_texts)
        or cached["q"].shape[0] != len(questions)
    ):
        cached = None
    if cached is None:
        from index.embed import MiniLMEmbedder

        log(f"embedding {len(s_texts)} sentences and the titles once (cached after)")
        embedder = MiniLMEmbedder()
        s, q = embedder.embed(s_texts), embedder.embed(questions)
        p = passage_vectors(embedder, titles, p_texts, rows, s)
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        np.savez(CACHE, p=p, s=s, q=q)
    else:
        p, s, q = cached["p"], cached["s"], cached["q"]
    return Material(titles, texts, spans, rows, p, s, questions, q)


def passage_vectors(
    embedder: Any, titles: list[str], p_texts: list[str], rows: list[list[int]], s: np.ndarray
) -> np.ndarray:
    """Passage vectors as a build makes them: title plus whole sentences, else the text."""
    from index.build import passage_sum
    from index.embed import normalise

    distinct = sorted(set(titles))
    title_vectors = dict(zip(distinct, embedder.embed(distinct), strict=True))
    out = np.zeros((len(p_texts), s.shape[1]), dtype=np.float32)
    alone = [i for i, r in enumerate(rows) if not r]
    if alone:
        out[alone] = embedder.embed([p_texts[i] for i in alone])
    for i, r in enumerate(rows):
        if r:
            out[i] = passage_sum(title_vectors[titles[i]], s[r])
    return normalise(out)


def replicate(rng: np.random.Generator, source: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Real vectors mixed with a third of other real vectors and noise, normalised."""
    other = pool[rng.integers(0, len(pool), size=len(source))]
    noise = rng.normal(0.0, 0.25 / np.sqrt(DIM), size=source.shape)
    out = (source + 0.35 * other + noise).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def synthetic_article(m: Material, n: int, edition: int = 0) -> Any:
    """Article n (of `edition`): ten real passages, their sentences and replicated vectors."""
    from index.backend import ArticleRows
    from index.types import Article

    rng = np.random.default_rng([n, edition])
    picks = rng.integers(0, len(m.texts), size=PASSAGES_PER_ARTICLE)
    parts, passages, sentences, s_rows = [], [], [], []
    at = 0
    for j in picks.tolist():
        text = m.texts[j]
        passages.append((at, at + len(text)))
        sentences += [(at + s, at + e) for s, e in m.sentences[j]]
        s_rows += m.sentence_rows[j]
        parts.append(text)
        at += len(text) + 2
    text = "\n\n".join(parts)
    title = f"{m.titles[int(picks[0])]} ({n})"
    digest = hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()
    article = Article(f"synthetic/{n:07d}.md", title, text, digest, path=f"synthetic/{n:07d}.md")
    p_vec = replicate(rng, m.p_vectors[picks], m.p_vectors)
    s_vec = replicate(rng, m.s_vectors[np.asarray(s_rows, dtype=np.int64)], m.s_vectors)
    return ArticleRows(article, passages, sentences, p_vec, s_vec.astype(np.float16))


def manifest() -> dict[str, Any]:
    from index.build import CHUNKING
    from index.store import FORMAT_VERSION

    return {
        "format_version": FORMAT_VERSION,
        "model": MODEL,
        "dimension": DIM,
        "chunking": CHUNKING,
        "counts": {"embedded": 0},
    }


def articles_for(m: Material, count: int) -> Iterator[Any]:
    step = max(1, count // 20)
    started = time.perf_counter()
    for n in range(count):
        if n % step == 0 and n:
            rate = n / (time.perf_counter() - started)
            log(f"  written {n:,}/{count:,} articles ({rate:,.0f}/s)")
        yield synthetic_article(m, n)


def build_case(m: Material, passages: int, index_dir: Path) -> dict[str, Any]:
    from index.backend import ChangeSet
    from index.store_writer import LocalBackend

    count = max(1, passages // PASSAGES_PER_ARTICLE)
    backend = LocalBackend(index_dir)
    log(f"building {count * PASSAGES_PER_ARTICLE:,} passages ({count:,} articles)")
    started = time.perf_counter()
    backend.apply(ChangeSet(upserts=articles_for(m, count), reset=True), manifest(), "base")
    build_s = time.perf_counter() - started
    log(f"  built in {build_s:.1f} s; one-article updates")
    updates = []
    rng = np.random.default_rng(1)
    for edition in range(1, 4):
        n = int(rng.integers(0, count))
        rows = synthetic_article(m, n, edition)
        started = time.perf_counter()
        changes = ChangeSet(upserts=[rows], removals=[rows.article.id])
        backend.apply(changes, manifest(), f"update-{edition}")
        updates.append(time.perf_counter() - started)
    log(f"  one-article update median {statistics.median(updates):.2f} s")
    return {
        "passages": count * PASSAGES_PER_ARTICLE,
        "build_seconds_without_embedding": round(build_s, 1),
        "update_seconds": round(statistics.median(updates), 3),
        "update_seconds_all": [round(u, 3) for u in updates],
    }


def serve(index_dir: Path) -> dict[str, Any]:
    """Open the index, ask the questions through the Answerer; figures of this process."""
    from index import ann
    from index.answer import AnswerConfig, Answerer
    from index.store import IndexStore

    m_questions, q_vectors = _questions()
    vectors = {q: v for q, v in zip(m_questions, q_vectors, strict=True)}

    class FixedEmbedder:
        """The real vectors of the benchmark's questions, without running the model."""

        name, dimension = MODEL, DIM

        def embed(self, texts: Sequence[str], **_: Any) -> np.ndarray:
            return np.stack([vectors.get(t, q_vectors[0]) for t in texts]).astype(np.float32)

    started = time.perf_counter()
    store = IndexStore.open(index_dir, MODEL, DIM)
    open_s = time.perf_counter() - started
    answerer = Answerer(store, FixedEmbedder(), AnswerConfig())
    times = timed_ms(answerer.ask, m_questions)
    status = Path("/proc/self/status").read_text()
    rss = {
        line.split(":")[0]: int(line.split()[1]) // 1024
        for line in status.splitlines()
        if line.startswith(("VmRSS", "VmHWM"))
    }
    dense_ms = []
    for q in q_vectors[:100]:
        t = time.perf_counter()
        store.dense_search(q, 50)
        dense_ms.append((time.perf_counter() - t) * 1000)
    live = store.live_passage_ids()
    truth, _ = ann.exact_top(store.passage_table, live, q_vectors, 10)
    found = [[i for i, _ in store.dense_search(q, 10)] for q in q_vectors]
    recall = float(
        np.mean([len(set(f) & set(t.tolist())) / 10 for f, t in zip(found, truth, strict=True)])
    )
    figures = {
        "kind": store.manifest["ann"]["kind"],
        "ann": store.manifest["ann"],
        "open_seconds": round(open_s, 2),
        "p50_ms": round(percentile(times, 0.5), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
        "dense_p50_ms": round(percentile(dense_ms, 0.5), 2),
        "recall_at_10": round(recall, 4),
        "rss_mb": rss.get("VmRSS"),
        "peak_rss_mb": rss.get("VmHWM"),
        "size_mb": round(store.size_bytes() / 2**20, 1),
    }
    answerer.close()
    return figures


def _questions() -> tuple[list[str], np.ndarray]:
    m = load_material()
    return m.questions, m.q_vectors


def serve_in_child(index_dir: Path, burners: int = 0) -> dict[str, Any]:
    """`serve` in a fresh process (so RSS is the serving process's), optionally beside
    processes that keep every core busy."""
    burn = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(burners)]
    try:
        out = subprocess.run(
            [sys.executable, "-m", "tests.bench.scale", "--serve", str(index_dir)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        for process in burn:
            process.kill()
            process.wait()
    return dict(json.loads(out.strip().splitlines()[-1]))


def run(
    sizes: Sequence[int], burn_at: int | None, workdir: Path | None, keep: bool = False
) -> list[dict[str, Any]]:
    m = load_material()
    log(
        f"material: {len(m.texts)} real passages, {len(m.s_vectors)} sentences, "
        f"{len(m.questions)} questions"
    )
    cases = []
    for size in sizes:
        tmp = Path(tempfile.mkdtemp(prefix=f"citebot-scale-{size}-", dir=workdir))
        try:
            case = build_case(m, size, tmp / "index")
            log("  serving questions")
            case.update(serve_in_child(tmp / "index"))
            if burn_at is not None and size <= burn_at:
                cores = os.cpu_count() or 1
                log(f"  serving again beside {cores} CPU-burning processes")
                busy = serve_in_child(tmp / "index", burners=cores)
                case["busy_p50_ms"], case["busy_p95_ms"] = busy["p50_ms"], busy["p95_ms"]
                case["busy_slowdown"] = round(busy["p50_ms"] / case["p50_ms"], 2)
            log(f"  {json.dumps(case)}")
            cases.append(case)
        finally:
            if keep:
                log(f"  kept {tmp / 'index'} (time it again: --serve {tmp / 'index'})")
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    return cases


def table(cases: list[dict[str, Any]]) -> str:
    columns = [
        ("passages", "passages", "{:,}"),
        ("kind", "index", "{}"),
        ("build_seconds_without_embedding", "build s", "{}"),
        ("update_seconds", "update s", "{}"),
        ("p50_ms", "p50 ms", "{}"),
        ("p95_ms", "p95 ms", "{}"),
        ("dense_p50_ms", "dense ms", "{}"),
        ("recall_at_10", "recall@10", "{}"),
        ("size_mb", "disk MB", "{}"),
        ("rss_mb", "RSS MB", "{}"),
        ("busy_p50_ms", "busy p50", "{}"),
        ("busy_slowdown", "slowdown", "{}"),
    ]
    header = "  ".join(f"{title:>10}" for _, title, _ in columns)
    lines = [header]
    for case in cases:
        cells = [fmt.format(case[key]) if key in case else "-" for key, _, fmt in columns]
        lines.append("  ".join(f"{cell:>10}" for cell in cells))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="passages per index")
    parser.add_argument(
        "--burn-at", type=int, default=10_000, help="also serve beside CPU burners up to this size"
    )
    parser.add_argument("--workdir", type=Path, default=None, help="where to build the indexes")
    parser.add_argument(
        "--keep", action="store_true", help="keep the built indexes (in --workdir) to time again"
    )
    parser.add_argument(
        "--serve", type=Path, metavar="INDEX", help="only time the questions on a kept index"
    )
    args = parser.parse_args(argv)
    if args.serve:
        print(json.dumps(serve(args.serve)), flush=True)
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    cases = run(sizes, args.burn_at, args.workdir, args.keep)
    print(json.dumps({"scale": cases}))
    print(table(cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
