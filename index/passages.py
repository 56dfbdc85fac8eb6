"""Sentences and passages of an article's text, as exact [start, end) character offsets."""

from __future__ import annotations

import re


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Abbreviations after which a period does not end a sentence (compared case-insensitively).
ABBREVIATIONS = _wordset(
    """
    mr mrs ms mx dr prof st mt ft rev fr gen col lt sgt capt cmdr adm gov sen rep pres
    hon amb messrs mme mlle vs approx dept univ assn est
    no nos vol vols fig figs pp ch sec art ed eds trans ca cf ibid op
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
    """
)
# Abbreviations that often end a sentence too ("Apple Inc. The company said"): as with "U.S.",
# a period after one ends a sentence only before a usual sentence opener.
MAY_END = _wordset("etc inc ltd co corp plc bros al jr sr esq")
# Words that start a new sentence even after an abbreviation such as "U.S." or "a.m.".
SENTENCE_STARTERS = _wordset(
    """
    the a an in on at it its he she they we i you his her their our this that these those
    but and however after before when while then there here as if so yet for since still
    one two three some many most all both each no not later meanwhile also according
    """
)

MAX_SENTENCE_WORDS = 150

# A candidate end: terminal punctuation, any closing quotes/brackets, then whitespace.
_END = re.compile(r"[.!?…]+[\"'”’)\]»]*(?=\s)")
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_WORD = re.compile(r"\S+")
# A line that stands alone even without final punctuation: a heading, list item or quote.
_LINE_START = re.compile(r"\n(?=[#>*•—–-]|\d+[.)]\s)")


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the text between blank lines and before heading/list/attribution lines."""
    cuts = [0]
    for match in _PARAGRAPH.finditer(text):
        cuts.extend((match.start(), match.end()))
    cuts.append(len(text))
    spans = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=True):
        inner = start
        for match in _LINE_START.finditer(text, start, end):
            spans.append((inner, match.start()))
            inner = match.end()
        spans.append((inner, end))
    return spans


def _is_boundary(text: str, end_match: re.Match[str], next_start: int) -> bool:
    """Decide whether the punctuation run in `end_match` ends a sentence."""
    if next_start >= len(text):
        return True
    following = text[next_start]
    if following.islower() or following in ",;:":
        return False
    dot = end_match.start()
    if following == "." and dot > 0 and text[dot - 1].isspace():
        return False  # a dot of a spaced ellipsis: "I am here to . . . submit"
    if "\n" in text[end_match.end() : next_start]:
        return True
    punct = end_match.group()
    if not punct.startswith(".") or punct.startswith(".."):
        return True
    # The token before a lone period: an abbreviation, an initial, or a dotted acronym?
    token_start = dot
    while token_start > 0 and not text[token_start - 1].isspace():
        token_start -= 1
    token = text[token_start:dot].lstrip("\"'“‘([")
    if not token:
        return True
    if token.casefold() in ABBREVIATIONS:
        return False
    if len(token) == 1 and token.isalpha() and token.isupper():
        return False  # an initial: "J. K. Rowling"
    if token.casefold() in MAY_END or (
        "." in token and all(len(part) <= 2 for part in token.split("."))
    ):
        # "Inc.", "etc.", "U.S.", "a.m.", "e.g.": a boundary only before a sentence opener.
        next_word = _WORD.match(text, next_start)
        next_token = next_word.group().strip("\"'“‘([").casefold() if next_word else ""
        return next_token.rstrip(",") in SENTENCE_STARTERS
    return True


def _cut_words(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """Cut [start, end) at word boundaries into runs of at most `max_words` words."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]
    return [
        (words[i][0], words[min(i + max_words, len(words)) - 1][1])
        for i in range(0, len(words), max_words)
    ]


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split text into sentences: [start, end) spans without surrounding whitespace, in order.

    Paragraph breaks always end a sentence; so does a line starting with a heading, list or
    attribution mark ("— Name"). Abbreviations, initials, decimals and quotes are handled; a
    sentence longer than MAX_SENTENCE_WORDS words is cut at word boundaries.
    """
    spans: list[tuple[int, int]] = []
    for para_start, para_end in _paragraph_spans(text):
        start = para_start
        for match in _END.finditer(text, para_start, para_end):
            next_word = _WORD.search(text, match.end(), para_end)
            next_start = next_word.start() if next_word else para_end
            if next_word is None or _is_boundary(text, match, next_start):
                span = _trimmed(text, start, match.end())
                if span:
                    spans.append(span)
                start = match.end()
        span = _trimmed(text, start, para_end)
        if span:
            spans.append(span)
    out: list[tuple[int, int]] = []
    for start, end in spans:
        out.extend(_cut_words(text, start, end, MAX_SENTENCE_WORDS))
    return out


def _words(text: str, start: int, end: int) -> int:
    return sum(1 for _ in _WORD.finditer(text, start, end))


def make_passages(
    text: str,
    sentences: list[tuple[int, int]],
    target_words: int = 100,
    overlap_sentences: int = 1,
) -> list[tuple[int, int]]:
    """Group whole sentences into passages of about `target_words` words, overlapping a little.

    A passage ends once it reaches `target_words`; the next one starts `overlap_sentences`
    sentences before that end. A sentence far longer than the target is cut at word
    boundaries into passages of its own.
    """
    counts = [_words(text, s, e) for s, e in sentences]
    passages: list[tuple[int, int]] = []
    i = 0
    while i < len(sentences):
        if counts[i] > 2 * target_words:
            passages.extend(_cut_words(text, *sentences[i], target_words))
            i += 1
            continue
        j, words = i, 0
        while j < len(sentences) and words < target_words and counts[j] <= 2 * target_words:
            if words and words + counts[j] > target_words * 1.5:
                break
            words += counts[j]
            j += 1
        passages.append((sentences[i][0], sentences[j - 1][1]))
        if j >= len(sentences):
            break
        i = max(i + 1, j - overlap_sentences) if counts[j - 1] <= target_words else j
    return passages
