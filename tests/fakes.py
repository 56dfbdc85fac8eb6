"""Fakes at citebot's own seams, shared by the tests."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)


class HashEmbedder:
    """Deterministic bag-of-words vectors: texts sharing words are close, as with a real model."""

    def __init__(self, dimension: int = 64, name: str = "test/hash-embedder") -> None:
        self.dimension = dimension
        self.name = name
        self.calls = 0  # texts embedded so far, to assert what a build re-embeds

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in _WORD.findall(text.casefold()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % self.dimension] += 1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            vector[0] = 1.0
            return vector
        return vector / norm

    def embed(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        self.calls += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            for i, text in enumerate(texts[start : start + batch_size], start):
                out[i] = self._vector(text)
            if progress is not None:
                progress(min(batch_size, len(texts) - start))
        return out
