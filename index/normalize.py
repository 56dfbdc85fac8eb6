"""The one place where article text is normalised; every stored offset points into its output."""

from __future__ import annotations

import re
import unicodedata

# Line and paragraph separators that are not "\n" become "\n"; CRLF and lone CR likewise.
_NEWLINES = re.compile(r"\r\n|\r|[\u2028\u2029\x0b\x0c\x85]")
# Horizontal whitespace of any script (tabs, no-break and thin spaces, ...).
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _is_dropped(char: str) -> bool:
    """Control characters (except newline and tab), byte-order marks and lone surrogates.

    A lone surrogate (from a `\\ud800` escape) is no character at all and cannot be stored
    as UTF-8, so it is dropped like a control character.
    """
    if char in "\n\t":
        return False
    return unicodedata.category(char) in ("Cc", "Cs") or char == "\ufeff"


def normalize_text(text: str) -> str:
    """NFC, LF line ends, no control characters, single spaces, paragraphs split by one blank line.

    Single line breaks are kept (a line of a poem, an attribution line); three or more line
    breaks collapse to one blank line; lines and the whole text are stripped. Idempotent.
    """
    text = _NEWLINES.sub("\n", text)
    text = "".join(c for c in text if not _is_dropped(c))
    text = unicodedata.normalize("NFC", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def paragraphs_from_lines(text: str) -> str:
    """Treat every line as a paragraph: for sources whose line breaks are paragraph breaks."""
    lines = [line for line in normalize_text(text).split("\n") if line]
    return "\n\n".join(lines)
