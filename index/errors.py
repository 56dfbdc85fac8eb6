"""The index's own errors; only the CLI and the bot turn them into words for a person."""

from __future__ import annotations


class CitebotError(Exception):
    """Base class of every error citebot raises on purpose."""


class QuestionError(CitebotError):
    """A question the engine cannot search."""


class EmptyQuestionError(QuestionError):
    """The question is empty or only whitespace."""


class QuestionTooLongError(QuestionError):
    """The question is longer than the engine accepts."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"question is {length} characters long; the limit is {limit}")
        self.length = length
        self.limit = limit


class NoSearchableWordsError(QuestionError):
    """The question has no word that can be searched (only markup, links or punctuation)."""


class IndexNotBuiltError(CitebotError):
    """No index exists in the folder; it must be built first."""


class IndexMismatchError(CitebotError):
    """The index was built by another model or dimension, or by an incompatible version."""


class IndexCorruptError(CitebotError):
    """The index files are unreadable or inconsistent with each other."""


class ReindexInProgressError(CitebotError):
    """A rebuild is already running; only one runs at a time."""


class ConfigError(CitebotError):
    """A setting of the engine that cannot be understood."""


class BadArticleError(CitebotError):
    """An article file that cannot be accepted (bad name, type, size or content)."""
