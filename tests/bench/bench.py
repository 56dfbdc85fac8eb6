"""Speed and memory figures of citebot: `make bench` prints them in a few minutes.

Figures (medians where repeated), with a progress line on stderr before each step:
- model load time;
- clean build of `corpus/` (seconds, passages per second) and a no-change rebuild;
- one edited article reindexed, in total and without embedding it;
- engine latency per question (p50, p95) with the model loaded and the index warm, and the
  same as a ratio to one question embedding, which carries across machines;
- peak resident memory of the process;
- embedding throughput (tests/bench/embedding.py, when it is there);
- the 10K-passage case of the scale benchmark (`--scale` runs 10K, 100K and 1M; see
  tests/bench/scale.py), idle and beside a CPU-burning process on every core.
Questions come from XQuAD (../shared/data) when it is there, else from the corpus's titles.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.scale import WARM_UP, percentile, timed_ms

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[2]
XQUAD = Path(
    os.environ.get("CITEBOT_XQUAD", ROOT.parent / "shared" / "data" / "xquad" / "xquad.en.json")
)


def questions(limit: int, engine_titles: list[str]) -> list[str]:
    if XQUAD.is_file():
        data = json.loads(XQUAD.read_text(encoding="utf-8"))["data"]
        found = [qa["question"] for a in data for p in a["paragraphs"] for qa in p["qas"]]
        return found[:limit]
    return [f"What is {title}?" for title in engine_titles][:limit]


def step(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def embedding_figures() -> None:
    """Embedding throughput from tests/bench/embedding.py, when that benchmark exists."""
    if not (ROOT / "tests" / "bench" / "embedding.py").is_file():
        print("embedding              (tests/bench/embedding.py not present)")
        return
    step("embedding throughput (tests/bench/embedding.py)")
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.embedding"], cwd=ROOT, capture_output=True, text=True
    )
    print(done.stdout.rstrip() or f"embedding benchmark failed: {done.stderr.strip()[-300:]}")


def edit_one(corpus: Path, into: Path) -> Path:
    """A copy of the corpus with one article grown by a sentence."""
    shutil.copytree(corpus, into)
    skip = {"README.md", "ATTRIBUTION.md"}
    article = next(p for p in sorted(into.rglob("*.md")) if p.name not in skip)
    article.write_text(
        article.read_text(encoding="utf-8") + "\n\nOne more sentence, added for the benchmark.\n",
        encoding="utf-8",
    )
    return into


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--builds", type=int, default=1, help="clean builds to time")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--scale", action="store_true", help="run the scale benchmark instead")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="with --scale")
    args = parser.parse_args()
    if args.scale:
        from tests.bench import scale

        return scale.main(["--sizes", args.sizes])

    from index.build import build_index
    from index.embed import default_embedder
    from index.engine import Engine

    step("loading the model")
    started = time.perf_counter()
    embedder = default_embedder()  # what the product runs ($CITEBOT_EMBEDDER picks another)
    load_s = time.perf_counter() - started
    embedder.embed(["warm up"])

    clean, rates, noop = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.builds):
            step(f"clean build {i + 1} of {args.builds} of {args.corpus}")
            index_dir = Path(tmp) / f"index-{i}"
            report = build_index(args.corpus, index_dir, embedder)
            clean.append(report.seconds)
            rates.append(report.passages_per_second)
            noop.append(build_index(args.corpus, index_dir, embedder).seconds)
        step("one edited article")
        edited = edit_one(args.corpus, Path(tmp) / "edited")
        shutil.copytree(Path(tmp) / "index-0", Path(tmp) / "index-edit")
        update = build_index(edited, Path(tmp) / "index-edit", embedder)
        from index.store import IndexStore

        with IndexStore.open(Path(tmp) / "index-edit", embedder.name, embedder.dimension) as st:
            update_embed_s = float(st.manifest["embed_seconds"])
        step(f"questions ({args.questions})")
        engine = Engine(Path(tmp) / "index-0", args.corpus, embedder=embedder)
        engine.load()
        asked = questions(args.questions + WARM_UP, [a.title for a in engine.articles()])
        latencies = timed_ms(engine.ask, asked)
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
    print(f"embedder               {embedder.name}")
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
    print(
        f"one article edited     {update.seconds:.2f} s in all, "
        f"{update.seconds - update_embed_s:.2f} s without embedding it "
        f"({update.embedded} passages embedded)"
    )
    embedding_figures()
    step("scale case: 10,000 passages (tests.bench.scale)")
    from tests.bench import scale

    cases = scale.run([10_000], burn_at=10_000, workdir=None)
    print(scale.table(cases))
    print(
        json.dumps(
            {
                "embedder": embedder.name,
                "passages": passages,
                "clean_build_s": round(statistics.median(clean), 2),
                "update_s": round(update.seconds, 3),
                "update_without_embedding_s": round(update.seconds - update_embed_s, 3),
                "p50_ms": round(p50, 1),
                "p95_ms": round(p95, 1),
                "peak_rss_mb": round(peak_mb),
                "scale": cases,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
