"""Speed and memory figures of citebot on the sample corpus: `make bench` prints them.

Figures, medians over repeated runs:
- model load time;
- clean build of `corpus/` (seconds, passages per second) and a no-change rebuild;
- engine latency per question (p50, p95) with the model loaded and the index warm, and the
  same as a ratio to one question embedding, which carries across machines;
- peak resident memory of the process.
Questions come from XQuAD (../shared/data) when it is there, else from the corpus's titles.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[2]
XQUAD = ROOT.parent / "shared" / "data" / "xquad" / "xquad.en.json"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def questions(limit: int, engine_titles: list[str]) -> list[str]:
    if XQUAD.is_file():
        data = json.loads(XQUAD.read_text(encoding="utf-8"))["data"]
        found = [qa["question"] for a in data for p in a["paragraphs"] for qa in p["qas"]]
        return found[:limit]
    return [f"What is {title}?" for title in engine_titles][:limit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--builds", type=int, default=3, help="clean builds to time")
    parser.add_argument("--questions", type=int, default=400)
    args = parser.parse_args()

    from index.build import build_index
    from index.embed import MiniLMEmbedder
    from index.engine import Engine

    started = time.perf_counter()
    embedder = MiniLMEmbedder()
    load_s = time.perf_counter() - started
    embedder.embed(["warm up"])

    clean, rates, noop = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.builds):
            index_dir = Path(tmp) / f"index-{i}"
            report = build_index(args.corpus, index_dir, embedder)
            clean.append(report.seconds)
            rates.append(report.passages_per_second)
            noop.append(build_index(args.corpus, index_dir, embedder).seconds)
        engine = Engine(Path(tmp) / "index-0", args.corpus, embedder=embedder)
        engine.load()
        asked = questions(args.questions, [a.title for a in engine.articles()])
        for question in asked[:20]:
            engine.ask(question)
        latencies = []
        for question in asked:
            t = time.perf_counter()
            engine.ask(question)
            latencies.append((time.perf_counter() - t) * 1000)
        embeds = []
        for question in asked[:200]:
            t = time.perf_counter()
            embedder.embed([question])
            embeds.append((time.perf_counter() - t) * 1000)
        engine.close()
        passages = report.passages

    p50, p95, embed_p50 = (
        percentile(latencies, 0.5),
        percentile(latencies, 0.95),
        percentile(embeds, 0.5),
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"corpus                 {args.corpus} ({passages} passages)")
    print(f"model load             {load_s:.2f} s")
    print(
        f"clean build            median {statistics.median(clean):.1f} s, "
        f"{statistics.median(rates):.1f} passages/s (of {args.builds} builds)"
    )
    print(f"no-change rebuild      median {statistics.median(noop) * 1000:.0f} ms")
    print(
        f"engine latency         p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(latencies)} questions"
    )
    print(
        f"question embedding     p50 {embed_p50:.1f} ms; engine p50 = {p50 / embed_p50:.1f}x "
        "one embedding"
    )
    print(f"peak memory            {peak_mb:.0f} MB resident")
    return 0


if __name__ == "__main__":
    sys.exit(main())
