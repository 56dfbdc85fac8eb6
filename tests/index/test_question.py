import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.errors import (
    EmptyQuestionError,
    NoSearchableWordsError,
    QuestionError,
    QuestionTooLongError,
)
from index.question import (
    MAX_QUESTION_CHARS,
    Stemmer,
    clean_question,
    fts_match,
    search_words,
    validate_question,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<@123456> when was the lighthouse built?", "when was the lighthouse built?"),
        ("<@!42> <#99> <@&7> who kept it?", "who kept it?"),
        ("what is <:lamp:1234567> <a:spin:42> this?", "what is this?"),
        ("see https://example.org/a?b=1 and <https://x.y/z> now", "see and now"),
        ("**bold** __under__ ~~gone~~ ||secret|| `code`", "bold under gone secret code"),
        ("> quoted question?", "quoted question?"),
        ("at <t:1700000000:R> :smile: ok", "at ok"),
    ],
)
def test_clean_question_removes_discord_markup(raw: str, expected: str) -> None:
    assert clean_question(raw) == expected


def test_search_words_drop_stopwords_and_repeats() -> None:
    assert search_words("When was the Lighthouse built, and was the lighthouse tall?") == [
        "lighthouse",
        "built",
        "tall",
    ]


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question(question: str) -> None:
    with pytest.raises(EmptyQuestionError):
        validate_question(question)


def test_too_long_question() -> None:
    validate_question("a" * MAX_QUESTION_CHARS)
    with pytest.raises(QuestionTooLongError) as info:
        validate_question("a" * (MAX_QUESTION_CHARS + 1))
    assert info.value.limit == MAX_QUESTION_CHARS


@pytest.mark.parametrize(
    "question", ["???", "<@123> https://example.org", "<:x:1> ** __ !!", "___"]
)
def test_no_searchable_words(question: str) -> None:
    with pytest.raises(NoSearchableWordsError):
        validate_question(question)


def test_a_question_with_lone_surrogates_is_refused() -> None:
    # What undecodable bytes become when the OS hands them to Python as text.
    with pytest.raises(QuestionError, match="not valid UTF-8"):
        validate_question("Who won the \udcff cup?")


def _fts() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(text, tokenize = 'porter unicode61')")
    db.execute("INSERT INTO f VALUES ('the lighthouse keeper AND her NEAR logbook')")
    return db


@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=6))
def test_fts_match_never_breaks_the_query_syntax(terms: list[str]) -> None:
    db = _fts()
    db.execute("SELECT rowid FROM f WHERE f MATCH ?", (fts_match(terms),)).fetchall()


def test_fts_match_treats_operators_as_words() -> None:
    db = _fts()
    rows = db.execute("SELECT rowid FROM f WHERE f MATCH ?", (fts_match(["NEAR", "OR"]),))
    assert rows.fetchall() == [(1,)]


_STEMMER = Stemmer()


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120))
def test_stemming_distinct_chunks_gives_the_whole_texts_terms(text: str) -> None:
    db = sqlite3.connect(":memory:")
    tokenizer = "tokenize = 'porter unicode61 remove_diacritics 2'"
    db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, {tokenizer})")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
    db.execute("INSERT INTO t(x) VALUES (?)", (text + " " + text,))
    assert _STEMMER.stems([text + " " + text]) == [
        {term for (term,) in db.execute("SELECT term FROM v")}
    ]


def test_stemmer_agrees_with_the_index_tokenizer() -> None:
    stemmer = Stemmer()
    assert stemmer.stems(["Keepers rescued", "", "naïve"]) == [{"keeper", "rescu"}, set(), {"naiv"}]
    # Repeated words, punctuation and hyphens around them: the whole text through FTS5.
    text = "Tesla's lab, Tesla's lab; tesla-coil (Tesla) labs\tlabs\nNaïve naive 40-year 40-year"
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE t USING fts5(x, tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
    db.execute("INSERT INTO t(x) VALUES (?)", (text,))
    assert stemmer.stems([text]) == [{term for (term,) in db.execute("SELECT term FROM v")}]
    stemmer.close()
