"""Embedding figures: the int8 ONNX embedder against the fp32 torch reference, same run.

`python -m tests.bench.embedding` prints a table, then the figures as one JSON object:
- passage embedding throughput of each (texts/s, median of interleaved rounds) and the
  ratio, which carries across machines and loads better than either rate;
- agreement on real passages: cosine between the two vectors of each passage, and the share
  of passages whose nearest neighbour (among the others) is the same with both;
- one-question latency (median) of each on one thread;
- a clean build of the sample corpus with the product embedder (seconds, passages/s);
- a news-sized corpus: articles of about NEWS_WORDS words synthesised from the sample
  corpus's own sentences (no news archive ships with the repository), a share of them built,
  and the time for 2,000 such articles extrapolated from that build's rate.
`run()` returns the figures for other benchmarks to print. No assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
NEWS_ARTICLES = 2000
NEWS_WORDS = 450  # about the length of a news article (the BBC archive's is ~390-450)


def corpus_passages(corpus: Path) -> list[str]:
    """The texts a build embeds for the sample corpus's passages."""
    from index.build import chunk_article, passage_embed_text
    from index.readers import read_corpus

    articles, _ = read_corpus(corpus)
    return [
        passage_embed_text(a.title, a.text[s:e])
        for a in articles
        for s, e in chunk_article(a).passages
    ]


def write_news_corpus(corpus: Path, folder: Path, count: int) -> int:
    """Write `count` articles of ~NEWS_WORDS words cut from the corpus's sentences in order.

    Past the first round of the sentences, each one gets its story's number in front, so every
    sentence of the synthesised archive is distinct and a build embeds them all."""
    from index.passages import split_sentences
    from index.readers import read_corpus

    articles, _ = read_corpus(corpus)
    sentences = [a.text[s:e] for a in articles for s, e in split_sentences(a.text)]
    folder.mkdir(parents=True)
    at = 0
    for n in range(count):
        body: list[str] = []
        words = 0
        while words < NEWS_WORDS:
            sentence = sentences[at % len(sentences)]
            if at >= len(sentences):  # past one round, made distinct: no text is embedded twice
                sentence = f"In story {n}, {sentence[:1].lower()}{sentence[1:]}"
            at += 1
            body.append(sentence)
            words += len(sentence.split())
        paragraphs = [" ".join(body[i : i + 4]) for i in range(0, len(body), 4)]
        text = "\n\n".join(paragraphs)
        (folder / f"news-{n:05d}.md").write_text(
            f"---\ntitle: News story {n}\n---\n\n{text}\n", encoding="utf-8"
        )
    return count


def _rounds(fns: dict[str, Any], rounds: int) -> dict[str, float]:
    """Median seconds of each function, run in turn so a load change hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def _nearest(vectors: np.ndarray) -> np.ndarray:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -2.0)
    return np.asarray(sims.argmax(axis=1))


def run(corpus: Path = ROOT / "corpus", *, rounds: int = 3, news_sample: int = 60) -> dict:
    """Measure and return every figure (see the module docstring)."""
    import torch

    from index.build import build_index
    from index.embed import make_embedder

    figures: dict[str, Any] = {"cpu_count": os.cpu_count()}
    started = time.perf_counter()
    fast = make_embedder("onnx-int8")
    figures["onnx_load_s"] = round(time.perf_counter() - started, 2)
    reference = make_embedder("torch")
    figures["embedders"] = {"new": fast.name, "reference": reference.name}

    texts = corpus_passages(corpus)
    ordered = sorted(texts, key=len)  # as a build embeds them
    sample = ordered[:: max(1, len(ordered) // 120)]  # a spread of lengths, ~120 passages
    fast.embed(sample[:8])
    reference.embed(sample[:8])
    medians = _rounds(
        {"new": lambda: fast.embed(sample), "reference": lambda: reference.embed(sample)},
        rounds,
    )
    figures["throughput"] = {
        "texts": len(sample),
        "rounds": rounds,
        "new_texts_per_s": round(len(sample) / medians["new"], 1),
        "reference_texts_per_s": round(len(sample) / medians["reference"], 1),
        "ratio": round(medians["reference"] / medians["new"], 2),
    }

    a, b = fast.embed(ordered), reference.embed(ordered)
    cosines = (a * b).sum(axis=1)
    figures["agreement"] = {
        "passages": len(ordered),
        "cosine_min": round(float(cosines.min()), 4),
        "cosine_median": round(float(np.median(cosines)), 4),
        "nearest_neighbour_same": round(float(np.mean(_nearest(a) == _nearest(b))), 3),
    }

    questions = [f"What does the passage say about {t.split()[2]}?" for t in texts[:40]]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        latency = {}
        for label, embedder in (("new", fast), ("reference", reference)):
            for q in questions[:5]:
                embedder.embed([q])
            ms = []
            for q in questions:
                t = time.perf_counter()
                embedder.embed([q])
                ms.append((time.perf_counter() - t) * 1000)
            latency[f"{label}_ms"] = round(statistics.median(ms), 2)
    finally:
        torch.set_num_threads(threads)
    figures["question_latency_1_thread"] = latency

    with tempfile.TemporaryDirectory(prefix="citebot-embed-bench-") as tmp:
        report = build_index(corpus, Path(tmp) / "sample", fast, rebuild=True)
        figures["sample_build"] = {
            "articles": report.articles,
            "passages": report.passages,
            "seconds": round(report.seconds, 2),
            "passages_per_s": round(report.passages / report.seconds, 1),
        }
        news = Path(tmp) / "news"
        write_news_corpus(corpus, news, news_sample)
        report = build_index(news, Path(tmp) / "news-index", fast, rebuild=True)
        per_article = report.seconds / max(report.articles, 1)
        figures["news_build"] = {
            "synthesised_from": f"the sample corpus's sentences, ~{NEWS_WORDS} words an article",
            "articles_built": report.articles,
            "passages_built": report.passages,
            "seconds": round(report.seconds, 2),
            "estimated_seconds_for_2000": round(per_article * NEWS_ARTICLES, 1),
            "estimated_passages_for_2000": round(report.passages / report.articles * NEWS_ARTICLES),
        }
    return figures


def table(figures: dict) -> str:
    t, g = figures["throughput"], figures["agreement"]
    q, s, n = figures["question_latency_1_thread"], figures["sample_build"], figures["news_build"]
    rows = [
        ("embedders", f"{figures['embedders']['new']} vs {figures['embedders']['reference']}"),
        (
            "passage throughput",
            f"{t['new_texts_per_s']} vs {t['reference_texts_per_s']} texts/s = "
            f"{t['ratio']}x (median of {t['rounds']} interleaved rounds, {t['texts']} passages)",
        ),
        (
            "agreement",
            f"cosine min {g['cosine_min']} median {g['cosine_median']}; same nearest "
            f"neighbour {g['nearest_neighbour_same']} ({g['passages']} passages)",
        ),
        ("question, 1 thread", f"{q['new_ms']} ms vs {q['reference_ms']} ms (median)"),
        (
            "sample corpus build",
            f"{s['seconds']} s, {s['passages']} passages ({s['passages_per_s']} passages/s)",
        ),
        (
            "news corpus build",
            f"{n['articles_built']} synthesised articles in {n['seconds']} s; 2,000 articles "
            f"(~{n['estimated_passages_for_2000']} passages) ~{n['estimated_seconds_for_2000']} s",
        ),
    ]
    return "\n".join(f"{label:<22}{value}" for label, value in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved throughput rounds")
    parser.add_argument("--news", type=int, default=60, help="synthesised articles to build")
    args = parser.parse_args()
    figures = run(args.corpus, rounds=args.rounds, news_sample=args.news)
    print(table(figures))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
