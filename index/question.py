"""A question as searchable text: markup removed, validated, and its terms for FTS5."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Sequence

from index.errors import (
    EmptyQuestionError,
    NoSearchableWordsError,
    QuestionError,
    QuestionTooLongError,
)

MAX_QUESTION_CHARS = 1000

# Words that carry no topic: searched, they only add noise to BM25.
_STOPWORDS = """
    a an the of in on at to for from by with about as into like through after over between
    out against during without before under around among upon within via per
    is are was were be been being am do does did done has have had having can could will would
    shall should may might must
    what which who whom whose when where why how whats
    i me my we our us you your he him his she her it its they them their this that these those
    there here
    and or but if then than so not no nor too very s t just also only own same such both each
    few more most other some any all
    tell know please explain describe give show find say said
"""
STOPWORDS = frozenset(_STOPWORDS.split())

_DISCORD_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>")
_CUSTOM_EMOJI = re.compile(r"<a?:(\w+):\d+>")
_TIMESTAMP = re.compile(r"<t:\d+(?::[tTdDfFR])?>")
_SLASH_COMMAND = re.compile(r"</[\w -]+:\d+>")
_URL = re.compile(r"<?(?:https?|ftp)://\S+>?|\bwww\.\S+", re.IGNORECASE)
_MARKUP = re.compile(r"(\*\*|__|~~|\|\||[*_`>])")
_SHORTCODE = re.compile(r":[a-z0-9_+-]+:")
_WORD = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")


def clean_question(text: str) -> str:
    """Plain text of a Discord message: mentions, emoji, links and markdown marks removed."""
    text = _DISCORD_MENTION.sub(" ", text)
    text = _CUSTOM_EMOJI.sub(" ", text)
    text = _TIMESTAMP.sub(" ", text)
    text = _SLASH_COMMAND.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _SHORTCODE.sub(" ", text)
    text = _MARKUP.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def words(text: str) -> list[str]:
    """Lower-cased word tokens of the text, in order."""
    return [w.casefold() for w in _WORD.findall(text)]


def search_words(text: str) -> list[str]:
    """The question's distinct words worth searching: no stopwords, no lone underscores."""
    out: list[str] = []
    for word in words(text):
        word = word.strip("_")
        if not word or word in STOPWORDS or word in out:
            continue
        out.append(word)
    return out


def validate_question(question: str) -> str:
    """The cleaned question; raises Empty/TooLong/NoSearchableWords errors for bad input."""
    if question is None or not question.strip():
        raise EmptyQuestionError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionTooLongError(len(question), MAX_QUESTION_CHARS)
    try:
        question.encode("utf-8")  # lone surrogates: bytes that were not UTF-8, smuggled in
    except UnicodeEncodeError:
        raise QuestionError("the question is not valid UTF-8 text") from None
    cleaned = clean_question(question)
    if not any(w.strip("_") for w in words(cleaned)):
        raise NoSearchableWordsError(
            "the question has no words to search once links, mentions and markup are removed"
        )
    return cleaned


def fts_match(terms: Sequence[str]) -> str:
    """An FTS5 MATCH expression OR-ing the terms, each quoted so no word acts as syntax."""
    quoted = ('"' + t.replace("\x00", "").replace('"', '""') + '"' for t in terms)
    return " OR ".join(quoted)


_EMPTY = "INSERT INTO t(t) VALUES ('delete-all')"


class Stemmer:
    """Tokenises texts exactly as the index's FTS5 table does (porter, unicode61).

    An in-memory FTS5 table and its vocabulary do the work, so question terms, sentence
    terms and the index's document frequencies always agree.
    """

    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        # Contentless: only the terms are kept, and 'delete-all' empties it at once.
        self._db.execute(
            "CREATE VIRTUAL TABLE t USING fts5(x, "
            "tokenize = 'porter unicode61 remove_diacritics 2', content = '')"
        )
        self._db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        self._lock = threading.Lock()

    def stems(self, texts: Sequence[str]) -> list[set[str]]:
        """The set of stemmed tokens of each text."""
        out: list[set[str]] = [set() for _ in texts]
        if not texts:
            return out
        with self._lock:
            self._db.execute(_EMPTY)
            # A token never spans whitespace, so each distinct whitespace-separated chunk is
            # stemmed once: the same sets, a quarter less work on an article's text.
            distinct = (" ".join(dict.fromkeys(text.split())) for text in texts)
            self._db.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", enumerate(distinct))
            rows = self._db.execute("SELECT doc, term FROM v").fetchall()
            self._db.execute(_EMPTY)
        for doc, term in rows:
            out[int(doc)].add(term)
        return out

    def close(self) -> None:
        with self._lock:
            self._db.close()
