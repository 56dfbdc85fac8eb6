"""Whether a message in a question channel is a question for the bot, or chatter to leave alone.

A message looks like a question when, once mentions, custom emoji and links are removed:
- it ends with a question mark ("why?", "and the engineer?"), or
- it starts with a question word and has another word ("who won", "what happened"), or
  starts with a verb that opens a question or a request and has two more words ("is it
  open", "tell me more", "explain the tides").
Everything else is chatter ("thanks!", "ok", "lol", an emoji, a remark, however long). A
mention of the bot and `/ask` are always questions; this rule is only for messages that
don't address the bot by name.
"""

from __future__ import annotations

import re

QUESTION_WORDS = frozenset(
    [
        "who",
        "whom",
        "whose",
        "what",
        "which",
        "when",
        "where",
        "why",
        "how",
        "who's",
        "what's",
        "where's",
        "when's",
        "how's",
    ]
)
QUESTION_VERBS = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "can",
        "could",
        "should",
        "would",
        "will",
        "has",
        "have",
        "had",
        "tell",
        "explain",
        "describe",
        "list",
        "summarize",
        "summarise",
        "define",
        "compare",
    ]
)

_NOISE = re.compile(
    r"<a?:\w+:\d+>"  # custom emoji
    r"|<[@#][!&]?\d+>"  # user, role and channel mentions
    r"|<t:\d+(?::\w)?>"  # timestamps
    r"|https?://\S+"
)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def looks_like_a_question(text: str) -> bool:
    """True for a message worth answering in a question channel; False for chatter."""
    cleaned = _NOISE.sub(" ", text)
    found = list(_WORD.finditer(cleaned))
    if not found:
        return False
    if "?" in cleaned[found[-1].end() :]:  # "why?", "what?!", "really? 🤔"
        return True
    first = found[0].group().casefold().replace("’", "'")
    return (first in QUESTION_WORDS and len(found) >= 2) or (
        first in QUESTION_VERBS and len(found) >= 3
    )
