"""What kind of thing a question asks for (an amount, a date, a name) and whether text holds one."""

from __future__ import annotations

import re

NUMBER, MONEY, DATE, PERSON, PLACE = "number", "money", "date", "person", "place"

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
# "what year", "what population", and the same after "what is the" (or "what was the
# estimated"): the word names the kind of answer.
_WHAT = r"\b(?:what|which|in what|during what|by what)\s+"
_WHAT_IS = _WHAT + r"(?:(?:is|was|are|were)\s+the\s+(?:\w+\s+)?)?"
_QUESTION_TYPES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            _WHAT
            + r"(?:years|era|period|time|season)\b|"
            + _WHAT_IS
            + r"(?:year|date|day|month|century|decade)\b|\bwhen\b|\bhow long ago\b",
            re.I,
        ),
        DATE,
    ),
    (
        re.compile(
            r"\bhow much\b.*\b(?:cost|costs|pay|paid|pays|spend|spent|spends|earn|earned|earns|"
            r"price|worth|charge|charged|sell|sold|buy|bought|raise|raised|budget|fund|funded)\b|"
            + _WHAT_IS
            + r"(?:price|cost|fee|salary|budget|revenue|fine)\b",
            re.I,
        ),
        MONEY,
    ),
    (
        re.compile(
            r"\bhow\s+(?:many|much|long|old|far|large|big|tall|high|deep|wide|heavy|fast|"
            r"often|few)\b|"
            + _WHAT_IS
            + r"(?:percentage|percent|proportion|fraction|number|amount|size|age|population|"
            r"rate|speed|temperature)\b",
            re.I,
        ),
        NUMBER,
    ),
    (re.compile(r"\bwho\b|\bwhom\b|\bwhose\b", re.I), PERSON),
    (re.compile(r"\bwhere\b", re.I), PLACE),
]

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|"
    "ninety|hundred|hundreds|thousand|thousands|million|millions|billion|billions|trillion|"
    "dozen|dozens|half|twice|single|double|triple|several|percent"
)
_HAS_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I)
_HAS_DATE = re.compile(
    rf"\b(?:1\d{{3}}|20\d{{2}})s?\b|\b(?:{_MONTHS})\.?\s+\d|\b\d{{1,2}}\s+(?:{_MONTHS})\b|"
    r"\b\d{1,2}(?:st|nd|rd|th)\s+century\b|\b(?:monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|yesterday|today|tomorrow)\b|\b(?:century|decade|BC|AD|BCE|CE)\b",
    re.I,
)
_HAS_MONTH = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)\b"
)
_HAS_RELATIVE_DATE = re.compile(
    r"\b(?:last|next|this|that|previous|following|same)\s+(?:week|month|year|decade|century|"
    r"spring|summer|autumn|fall|winter|morning|evening|night|day)\b|\b\w+\s+ago\b|"
    r"\b(?:earlier|later)\s+(?:that|this)\b",
    re.I,
)
_HAS_MONEY = re.compile(
    r"[$£€¥]\s?\d|\b\d[\d,.]*\s*(?:dollars|pounds|euros|yen|yuan|francs|marks|cents|"
    r"pence|usd|eur|gbp)\b|\b(?:dollars|pounds|euros|yuan)\b",
    re.I,
)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’-]+")


def question_type(question: str) -> str | None:
    """The kind of answer the question asks for, or None when it cannot be told."""
    for pattern, kind in _QUESTION_TYPES:
        if pattern.search(question):
            return kind
    return None


def question_names(question: str) -> list[str]:
    """The question's capitalised words past its first word: names it asks about."""
    return [m.group() for m in _CAPITALISED.finditer(question.strip())]


def _new_names(text: str, question_words: set[str]) -> bool:
    """True when the text holds a capitalised word (not first in it) the question lacks."""
    return any(
        m.group().casefold() not in question_words for m in _CAPITALISED.finditer(text.strip())
    )


def holds_type(text: str, kind: str | None, question_words: set[str]) -> bool:
    """Whether the text holds something of the kind asked for, beyond the question's own words."""
    if kind is None:
        return False
    if kind == DATE:
        found = [
            *_HAS_DATE.finditer(text),
            *_HAS_MONTH.finditer(text),
            *_HAS_RELATIVE_DATE.finditer(text),
        ]
        return any(m.group().casefold() not in question_words for m in found)
    if kind == MONEY:
        return any(m.group().casefold() not in question_words for m in _HAS_MONEY.finditer(text))
    if kind == NUMBER:
        return any(m.group().casefold() not in question_words for m in _HAS_NUMBER.finditer(text))
    return _new_names(text, question_words)
