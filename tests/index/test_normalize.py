from hypothesis import given
from hypothesis import strategies as st

from index.normalize import normalize_text, paragraphs_from_lines


def test_line_endings_spaces_and_controls() -> None:
    raw = "Title\r\n\r\n\r\n\r\nFirst\t  line \x00\x07with\u00a0spaces\rSecond\ufeff line  \n"
    assert normalize_text(raw) == "Title\n\nFirst line with spaces\nSecond line"


def test_lone_surrogates_are_dropped_so_the_text_is_valid_utf8() -> None:
    assert normalize_text("a\ud800b \udfff c") == "ab c"
    normalize_text("x\ud83d").encode("utf-8")


def test_paragraph_breaks_are_kept_as_one_blank_line() -> None:
    assert normalize_text("a\n \n\t\n\nb\n\nc") == "a\n\nb\n\nc"


def test_unicode_is_composed() -> None:
    assert normalize_text("Cafe\u0301") == "Caf\u00e9"


def test_lines_become_paragraphs() -> None:
    assert paragraphs_from_lines("one\ntwo\n\n\nthree") == "one\n\ntwo\n\nthree"


@given(st.text())
def test_normalisation_is_idempotent_and_clean(raw: str) -> None:
    text = normalize_text(raw)
    assert normalize_text(text) == text
    assert "\r" not in text
    assert "\n\n\n" not in text
    assert "  " not in text
    assert text == text.strip()
    text.encode("utf-8")
