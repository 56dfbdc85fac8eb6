import pytest

from index.frontmatter import (
    FIELD_LIMITS,
    MAX_FRONT_MATTER_CHARS,
    FrontMatterError,
    parse_front_matter,
    split_front_matter,
)
from tests.conftest import TEST_DATA
from tests.index.hostile import memory_cap  # noqa: F401

pytestmark = pytest.mark.usefixtures("memory_cap")

BAD = TEST_DATA / "bad"


def block_of(name: str) -> str:
    text = (BAD / name).read_text(encoding="utf-8")
    return text.split("---\n")[1]


@pytest.mark.parametrize("name", ["alias_bomb.md", "alias_title.md"])
def test_alias_bombs_are_refused_before_anything_grows(name: str) -> None:
    assert len((BAD / name).read_bytes()) < 410
    with pytest.raises(FrontMatterError, match=r"alias \*a at line 3; aliases are not accepted"):
        parse_front_matter(block_of(name))


def test_one_alias_is_refused_even_when_small() -> None:
    with pytest.raises(FrontMatterError, match="alias"):
        parse_front_matter("author: &who Sam\nsource: *who\n")


def test_nesting_5000_deep_is_refused_by_the_depth_limit() -> None:
    with pytest.raises(FrontMatterError, match="nested more than 16 levels"):
        parse_front_matter(block_of("deep_front.md"))


def test_fields_are_the_raw_text_of_plain_scalars() -> None:
    fields = parse_front_matter(
        "title: 1984\nauthor: yes\npublished: 2021-03-03\nurl: 'https://e.org/a'\n"
        "source: ~\ntags: [a, b]\nextra: {x: 1}\n"
    )
    assert fields == {
        "title": "1984",
        "author": "yes",
        "published": "2021-03-03",
        "url": "https://e.org/a",
    }


@pytest.mark.parametrize(
    "block",
    ["title: [a, b]\n", "author: {name: Sam}\n", "title: !!binary aGVsbG8=\n", "url: !x y\n"],
)
def test_a_metadata_field_must_be_a_plain_scalar(block: str) -> None:
    with pytest.raises(FrontMatterError, match="must be plain text"):
        parse_front_matter(block)


@pytest.mark.parametrize("field", sorted(FIELD_LIMITS))
def test_each_field_has_a_length_limit(field: str) -> None:
    limit = FIELD_LIMITS[field]
    assert parse_front_matter(f"{field}: {'a' * limit}\n") == {field: "a" * limit}
    with pytest.raises(FrontMatterError, match=f"the limit is {limit:,}"):
        parse_front_matter(f"{field}: {'a' * (limit + 1)}\n")


def test_a_lone_surrogate_escape_is_refused() -> None:
    with pytest.raises(FrontMatterError, match="invalid"):
        parse_front_matter('title: "bad \\ud800 here"\n')


def test_a_block_over_the_size_limit_is_refused() -> None:
    filler = "# " + "x" * 78 + "\n"
    text = "---\n" + filler * (MAX_FRONT_MATTER_CHARS // len(filler) + 1) + "---\nBody.\n"
    with pytest.raises(FrontMatterError, match="longer than"):
        split_front_matter(text)


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        ("title: [unclosed\n", "broken YAML front matter at line 3"),
        ("- a\n- b\n", "not a mapping"),
        ("just text\n", "not a mapping"),
    ],
)
def test_broken_or_odd_blocks_are_one_clear_error(block: str, reason: str) -> None:
    with pytest.raises(FrontMatterError, match=reason):
        parse_front_matter(block)


def test_split_separates_fields_and_body() -> None:
    assert split_front_matter("No front matter.\n") is None
    assert split_front_matter("---\ntitle: T\n---\nBody.\n") == ({"title": "T"}, "\nBody.\n")
    assert split_front_matter("---\n---\nBody.\n") == ({}, "\nBody.\n")
