"""Static word vectors: the packaged model's token embedding table, to tell related words apart.

A word's vector is the mean of its word pieces' rows in all-MiniLM-L6-v2's input embedding
table (no context, no model pass). Related forms and near synonyms land close ("founded" and
"established" 0.55, "born" and "birth" 0.55), unrelated words far ("founded" and "traded"
0.08), so the answer test can see that a sentence says "established" where the question asks
"founded" without running the model.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

TABLE = "embeddings.word_embeddings.weight"
MAX_CACHED = 50_000  # words whose vectors are kept (77 MB at most)


class WordVectors:
    """Unit vectors of single words from a sentence-transformers folder's embedding table."""

    def __init__(self, model_dir: Path) -> None:
        from safetensors import safe_open
        from tokenizers import Tokenizer

        with safe_open(str(model_dir / "model.safetensors"), framework="numpy") as weights:
            name = next(k for k in weights.keys() if k.endswith(TABLE))  # noqa: SIM118
            self._table = np.asarray(weights.get_tensor(name), dtype=np.float16)  # 23 MB
        self._tokenizer: Any = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self._lock = threading.Lock()
        self._row: dict[str, int] = {}  # word -> its row in self._vectors
        self._vectors = np.zeros((1024, self._table.shape[1]), dtype=np.float32)

    def vectors(self, words: Sequence[str]) -> np.ndarray:
        """One unit row per word (a word the tokenizer cannot split gets a zero row)."""
        with self._lock:
            missing = [w for w in dict.fromkeys(words) if w not in self._row]
            if len(self._row) + len(missing) > MAX_CACHED:
                self._row.clear()  # a long-running bot's vocabulary stays bounded
                missing = list(dict.fromkeys(words))
            if missing:
                self._add(missing)
            rows = np.fromiter((self._row[w] for w in words), dtype=np.int64, count=len(words))
            return self._vectors[rows]

    def _add(self, words: list[str]) -> None:
        first = len(self._row)
        if first + len(words) > len(self._vectors):
            size = max(2 * len(self._vectors), first + len(words))
            grown = np.zeros((size, self._vectors.shape[1]), dtype=np.float32)
            grown[:first] = self._vectors[:first]
            self._vectors = grown
        encodings = self._tokenizer.encode_batch(words, add_special_tokens=False)
        for i, (word, enc) in enumerate(zip(words, encodings, strict=True)):
            vector = self._table[enc.ids].astype(np.float32).mean(axis=0) if enc.ids else 0.0
            norm = float(np.linalg.norm(vector)) if enc.ids else 0.0
            self._vectors[first + i] = vector / norm if norm > 0 else 0.0
            self._row[word] = first + i

    def similarity(self, left: Sequence[str], right: Sequence[str]) -> np.ndarray:
        """Cosine of every word of `left` with every word of `right`."""
        return self.vectors(left) @ self.vectors(right).T


@functools.cache
def packaged_word_vectors() -> WordVectors:
    """The packaged model's word vectors, loaded once per process."""
    from index.onnx_embed import packaged_model_dir

    return WordVectors(packaged_model_dir())
