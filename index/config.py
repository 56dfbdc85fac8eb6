"""Where the corpus and the index live unless told otherwise."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_CORPUS_DIR = "corpus"
DEFAULT_INDEX_DIR = ".citebot/index"


def default_corpus_dir() -> Path:
    """$CITEBOT_CORPUS_DIR, else `corpus/` in the working folder."""
    return Path(os.environ.get("CITEBOT_CORPUS_DIR") or DEFAULT_CORPUS_DIR)


def default_index_dir() -> Path:
    """$CITEBOT_INDEX_DIR, else `.citebot/index` in the working folder."""
    return Path(os.environ.get("CITEBOT_INDEX_DIR") or DEFAULT_INDEX_DIR)
