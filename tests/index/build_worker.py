"""Runs one index build in its own process, optionally slowed, so a test can kill it part way.

Usage: python -m tests.index.build_worker CORPUS INDEX SECONDS_PER_BATCH
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from index.build import build_index
from index.types import BuildProgress
from tests.fakes import HashEmbedder


class SlowEmbedder(HashEmbedder):
    """The hash embedder, sleeping after each small batch and announcing it on stdout."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def embed(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        def slow(n: int) -> None:
            print(f"embedded {n}", flush=True)
            time.sleep(self.delay)
            if progress is not None:
                progress(n)

        return super().embed(texts, batch_size=4, progress=slow)


def announce(step: BuildProgress) -> None:
    print(f"stage {step.stage} {step.done} {step.total}", flush=True)


def main() -> None:
    corpus, index_dir, delay = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    print("start", flush=True)
    report = build_index(corpus, index_dir, SlowEmbedder(delay), progress=announce)
    print(f"done {report.embedded}", flush=True)


if __name__ == "__main__":
    main()
