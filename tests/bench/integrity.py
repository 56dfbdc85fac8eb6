"""What the index's checks cost: hash speed per MB, SQLite's checks of the database, and
checking a version on open.

Usage: python -m tests.bench.integrity [--scale-mb 1536]

Prints medians of 5 runs from the page cache (the files were just written: CPU cost), and one
run of the large file after dropping it from the cache (what a first open after a reboot pays).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from index import integrity
from index.build import build_index
from index.store import MANIFEST, TABLES, IndexStore, _rows_problem, load_manifest, read_current
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
    database = index_dir / str(manifest["database"])
    size_mb = integrity.data_bytes(manifest) / 1e6
    db_mb = database.stat().st_size / 1e6
    passages = int(manifest["counts"]["passages"])
    print(
        f"sample corpus: {passages} passages; {len(manifest['checksums']['files'])} data files, "
        f"{size_mb:.2f} MB; database {db_mb:.2f} MB"
    )

    def db_check(level: str) -> None:
        integrity.check_database(database, tables=TABLES, level=level, content=_rows_problem)

    def pragma(sql: str) -> Callable[[], object]:
        def run() -> object:
            db = sqlite3.connect(database)
            try:
                return db.execute(sql).fetchall()
            finally:
                db.close()

        return run

    figures = {
        "read manifest": lambda: integrity.read_manifest(version / MANIFEST),
        "files: sizes only": lambda: integrity.verify_files(index_dir, manifest, full=False),
        "files: sizes + hashes": lambda: integrity.verify_files(index_dir, manifest, full=True),
        "db: level schema": lambda: db_check("schema"),
        "db: level pages": lambda: db_check("pages"),
        "db: quick_check": pragma("PRAGMA quick_check"),
        "db: integrity_check": pragma("PRAGMA integrity_check"),
        "db: FTS5 integrity-check": pragma(
            "INSERT INTO passages_fts(passages_fts) VALUES ('integrity-check')"
        ),
        "db: rows vs offsets": lambda: _rows_problem(sqlite3.connect(database)),
        "db: level all": lambda: db_check("all"),
        "open, cheap checks": lambda: IndexStore.open(
            index_dir, embedder.name, embedder.dimension, full_check=False
        ).close(),
        "open to serve (default)": lambda: IndexStore.open(
            index_dir, embedder.name, embedder.dimension
        ).close(),
        "open before reuse": lambda: IndexStore.open(
            index_dir, embedder.name, embedder.dimension, full_check=True
        ).close(),
    }
    for name, run in figures.items():
        ms = median_seconds(run) * 1000
        print(f"  {name:25s} {ms:8.2f} ms  {ms / passages * 1000:7.2f} us/passage")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale-mb", type=int, default=1536, help="size of the hashed file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citebot-integrity-") as tmp:
        sample_corpus(Path(tmp))
        hash_speed(Path(tmp), args.scale_mb)


if __name__ == "__main__":
    main()
