"""Fuzzing the readers, the front-matter parser and the question cleaner with hypothesis.

Whatever the bytes, a reader either returns articles whose text is stored normalised, valid
UTF-8 and within the limits, or raises one of citebot's own errors; never anything else.
The hostile cases found by hand are fixed examples, so they run every time.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from index.build import chunk_article
from index.errors import CitebotError, QuestionError
from index.frontmatter import FIELD_LIMITS, FrontMatterError, parse_front_matter
from index.jsonl import json_depth
from index.normalize import normalize_text
from index.question import MAX_QUESTION_CHARS, clean_question, validate_question, words
from index.readers import SUPPORTED_SUFFIXES, read_article, read_corpus
from index.types import Article, Failure
from tests.conftest import TEST_DATA
from tests.index.hostile import memory_cap  # noqa: F401

pytestmark = pytest.mark.usefixtures("memory_cap")

BAD = TEST_DATA / "bad"
MAX_BYTES = 64 * 1024  # a small article limit keeps every example fast
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ALIAS_BOMB = (BAD / "alias_bomb.md").read_bytes()
ALIAS_TITLE = (BAD / "alias_title.md").read_bytes()
DEEP_FRONT = (BAD / "deep_front.md").read_bytes()
DEEP_JSON = b'{"text": "x", "a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
BIG_INT = b'{"text": "A big number.", "n": ' + b"7" * 5000 + b"}"
SURROGATE = b'{"text": "lone \\ud800 surrogate", "title": "\\udfff"}'
DEEP_MD = b"# Deep\n\n" + b"> " * 5000 + b"quoted.\n\n" + b"- " * 5000 + b"listed.\n"
DEEP_HTML = b"<html><body>" + b"<div>" * 5000 + b"<p>Deep.</p>" + b"</div>" * 5000 + b"</body>"
# Every character, lone surrogates included.
ANY_CHAR = st.characters(exclude_categories=())


def check_articles(articles: list[Article], failures: list[Failure], size: int) -> None:
    """What every article a reader returns must satisfy, whatever its input."""
    total = 0
    for article in articles:
        assert article.text and normalize_text(article.text) == article.text
        article.text.encode("utf-8")
        total += len(article.text)
        for name, limit in FIELD_LIMITS.items():
            value = getattr(article, name)
            if value is not None:
                value.encode("utf-8")
                assert "\n" not in value
                if name != "title":  # a title may fall back to the file name
                    assert len(value) <= limit
        assert len(article.title) <= FIELD_LIMITS["title"]
        chunk = chunk_article(article)
        for start, end in chunk.sentences + chunk.passages:
            assert 0 <= start < end <= len(article.text)
            assert article.text[start:end].strip() == article.text[start:end]
    assert total <= 4 * size + 16
    for failure in failures:
        assert "\n" not in failure.reason and "\n" not in failure.path


def read_or_refuse(name: str, data: bytes) -> None:
    try:
        articles, failures = read_article(name, data, max_bytes=MAX_BYTES)
    except CitebotError as exc:
        assert "\n" not in str(exc) or "front matter" not in str(exc)
        return
    check_articles(articles, failures, len(data))


@FUZZ
@given(suffix=st.sampled_from(sorted(SUPPORTED_SUFFIXES)), data=st.binary(max_size=3000))
@example(suffix=".md", data=ALIAS_BOMB)
@example(suffix=".md", data=ALIAS_TITLE)
@example(suffix=".md", data=DEEP_FRONT)
@example(suffix=".md", data=DEEP_MD)
@example(suffix=".jsonl", data=DEEP_JSON)
@example(suffix=".jsonl", data=BIG_INT)
@example(suffix=".jsonl", data=SURROGATE)
@example(suffix=".html", data=DEEP_HTML)
@example(suffix=".txt", data=b"\xff\xfe" + "lone \ud800".encode("utf-16-le", "surrogatepass"))
def test_random_bytes_are_read_or_refused_cleanly(suffix: str, data: bytes) -> None:
    read_or_refuse(f"fuzz/a{suffix}", data)


YAML_ATOMS = st.sampled_from(
    ["&a ", "*a", "[", "]", "{", "}", ": ", "- ", "\n", "  ", "!!binary ", "!x ", '"\\ud800"',
     "'q'", "|\n  ", ">\n  ", "~", "1e3", "2021-03-03", "yes", "? ", "#", ",", "<<: *a\n"]
)  # fmt: skip
FIELD_NAMES = st.sampled_from([*FIELD_LIMITS, "tags", "extra"])


@st.composite
def front_matter_blocks(draw: st.DrawFn) -> str:
    """YAML-shaped blocks: known fields whose values are random YAML fragments."""
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        value = "".join(draw(st.lists(st.one_of(YAML_ATOMS, st.text(ANY_CHAR, max_size=8)))))
        lines.append(f"{draw(FIELD_NAMES)}: {value}")
    return "\n".join(lines) + "\n"


@FUZZ
@given(block=st.one_of(front_matter_blocks(), st.text(ANY_CHAR, max_size=500)))
@example(block=ALIAS_BOMB.decode().split("---\n")[1])
@example(block=DEEP_FRONT.decode().split("---\n")[1])
@example(block="title: " + "a" * 5000 + "\n")
def test_front_matter_is_parsed_or_refused_cleanly(block: str) -> None:
    try:
        fields = parse_front_matter(block)
    except FrontMatterError as exc:
        assert "\n" not in str(exc)
        return
    assert set(fields) <= set(FIELD_LIMITS)
    for name, value in fields.items():
        assert isinstance(value, str) and len(value) <= FIELD_LIMITS[name]
        value.encode("utf-8")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(ANY_CHAR, max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=20,
)


@st.composite
def jsonl_files(draw: st.DrawFn) -> bytes:
    """Lines of records (some good, some odd) and hostile fragments."""
    lines: list[bytes] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["record", "value", "hostile", "bytes"]))
        if kind == "record":
            record = draw(
                st.dictionaries(
                    st.sampled_from(["id", "text", *FIELD_LIMITS]), JSON_VALUES, max_size=5
                )
            )
            if draw(st.booleans()):
                record["text"] = draw(st.text(ANY_CHAR, min_size=1, max_size=80))
            lines.append(
                json.dumps(record, ensure_ascii=draw(st.booleans())).encode(
                    "utf-8", "surrogatepass"
                )
            )
        elif kind == "value":
            lines.append(json.dumps(draw(JSON_VALUES)).encode())
        elif kind == "hostile":
            lines.append(draw(st.sampled_from([DEEP_JSON, BIG_INT, SURROGATE, b"{", b"\xff"])))
        else:
            lines.append(draw(st.binary(max_size=40)))
    return b"\n".join(lines)


@FUZZ
@given(data=jsonl_files())
def test_jsonl_keeps_every_good_record_and_reports_each_bad_one(data: bytes) -> None:
    try:
        articles, failures = read_article("a.jsonl", data, max_bytes=MAX_BYTES)
    except CitebotError:
        return
    check_articles(articles, failures, len(data))
    lines = data.split(b"\n")
    reported = {int(f.path.rsplit(":", 1)[1]) for f in failures}
    kept = {a.id for a in articles}
    assert len(kept) == len(articles)
    for lineno, line in enumerate(lines, 1):
        if not line.strip() or lineno in reported:
            continue
        record = json.loads(line)  # an unreported line is a good record and was kept
        key = record.get("id")
        local = str(key).strip() if key is not None and str(key).strip() else f"line-{lineno}"
        assert f"a.jsonl#{local}" in kept


@settings(max_examples=60, deadline=None)
@given(value=JSON_VALUES)
@example(value=[["[", "\\"], {"k": '"]]}'}])
def test_json_depth_counts_nesting_and_ignores_brackets_in_strings(value: object) -> None:
    def depth(v: object) -> int:
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in v.values()), default=0)
        return 0

    line = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    assert json_depth(line) == depth(value)


FILE_NAMES = st.text(
    st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1, max_size=12
).filter(lambda n: n not in (".", ".."))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    files=st.dictionaries(
        st.tuples(FILE_NAMES, st.sampled_from([*sorted(SUPPORTED_SUFFIXES), ".pdf"])),
        st.binary(max_size=400),
        max_size=6,
    )
)
@example(files={("bomb", ".md"): ALIAS_BOMB, ("big", ".jsonl"): BIG_INT, ("ok", ".txt"): b"Ok."})
def test_a_random_corpus_is_read_without_any_other_error(files: dict) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for (stem, suffix), data in files.items():
            try:
                (root / f"{stem}{suffix}").write_bytes(data)
            except OSError:  # a name the file system refuses (too long in bytes)
                continue
        articles, failures = read_corpus(root, max_bytes=MAX_BYTES)
        check_articles(articles, failures, sum(len(d) for d in files.values()))
        assert len({a.id for a in articles}) == len(articles)


QUESTION_ATOMS = st.sampled_from(
    ["<@123>", "<@!9>", "<#5>", "<a:x:1>", "<t:1:R>", "</cmd:1>", "https://e.org/x", "www.e",
     "**", "__", "~~", "||", "`", ">", ":smile:", "-", "--", "\ud800", "\n", " "]
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(
    question=st.one_of(
        st.text(ANY_CHAR, max_size=300),
        st.lists(st.one_of(QUESTION_ATOMS, st.text(ANY_CHAR, max_size=6))).map("".join),
    )
)
@example(question="What is \ud800 the shell?")
@example(question="-h")
@example(question="x" * (MAX_QUESTION_CHARS + 1))
@example(question="<@1> ** https://x.org **")
def test_the_question_cleaner_never_fails_and_only_shrinks(question: str) -> None:
    cleaned = clean_question(question)
    assert len(cleaned) <= len(question)
    assert cleaned == cleaned.strip() and "  " not in cleaned and "\n" not in cleaned
    try:
        valid = validate_question(question)
    except QuestionError:
        return
    assert valid == cleaned and len(question) <= MAX_QUESTION_CHARS
    assert any(w.strip("_") for w in words(valid))
