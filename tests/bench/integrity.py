"""What the index's checksums cost: hash speed per MB, and checking a version on open.

Usage: python -m tests.bench.integrity [--scale-mb 1536]

Prints medians of 5 runs from the page cache (the files were just written: CPU cost), and one
run of the large file after dropping it from the cache (what a first open after a reboot pays).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from index import integrity
from index.build import build_index
from index.store import MANIFEST, IndexStore, load_manifest, read_current
from tests.conftest import ROOT
from tests.fakes import HashEmbedder

RUNS = 5


def median_seconds(run: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def blake2b_file(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def hash_speed(folder: Path, mb: int) -> None:
    path = folder / "data.bin"
    rng = np.random.default_rng(0)
    with open(path, "wb") as handle:
        for _ in range(mb // 64):
            handle.write(rng.standard_normal(64 << 18, dtype=np.float32).tobytes())
    size_mb = path.stat().st_size / 1e6
    for name, run in (("xxh3_128", integrity.file_digest), ("blake2b", blake2b_file)):
        seconds = median_seconds(lambda run=run: run(path))  # type: ignore[misc]
        print(
            f"{name:9s} {size_mb:7.0f} MB: {seconds:6.3f} s  "
            f"{seconds * 1000 / size_mb:6.3f} ms/MB  {size_mb / seconds:7.0f} MB/s"
        )
    with open(path, "rb") as handle:  # drop this one file from the page cache: a cold read
        os.fsync(handle.fileno())
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    started = time.perf_counter()
    integrity.file_digest(path)
    seconds = time.perf_counter() - started
    print(f"xxh3_128  {size_mb:7.0f} MB, not cached (one run): {seconds:6.3f} s")
    path.unlink()


def sample_corpus(folder: Path) -> None:
    embedder = HashEmbedder(dimension=384)  # the real model's width, so the files are real size
    index_dir = folder / "idx"
    build_index(ROOT / "corpus", index_dir, embedder)
    version = index_dir / "versions" / str(read_current(index_dir))
    manifest = load_manifest(version)
    size_mb = integrity.data_bytes(manifest) / 1e6
    print(f"sample corpus: {len(manifest['checksums']['files']) + 1} files, {size_mb:.2f} MB")
    figures = {
        "read manifest": lambda: integrity.read_manifest(version / MANIFEST),
        "sizes only": lambda: integrity.verify_files(version, manifest, full=False),
        "sizes + hashes": lambda: integrity.verify_files(version, manifest, full=True),
        "open, sizes only": lambda: IndexStore.open(
            index_dir, embedder.name, embedder.dimension, full_check=False
        ).close(),
        "open, full check": lambda: IndexStore.open(
            index_dir, embedder.name, embedder.dimension, full_check=True
        ).close(),
    }
    for name, run in figures.items():
        print(f"  {name:17s} {median_seconds(run) * 1000:7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale-mb", type=int, default=1536, help="size of the hashed file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citebot-integrity-") as tmp:
        sample_corpus(Path(tmp))
        hash_speed(Path(tmp), args.scale_mb)


if __name__ == "__main__":
    main()
