import json
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from index.errors import BadArticleError
from index.readers import (
    MAX_ARTICLE_BYTES,
    CorpusNotFoundError,
    UnreadableArticleError,
    read_corpus,
    read_file,
    safe_article_name,
)
from tests.conftest import ROOT, TEST_DATA
from tests.index.hostile import memory_cap  # noqa: F401

pytestmark = pytest.mark.usefixtures("memory_cap")

CORPUS = TEST_DATA / "corpus"
BAD = TEST_DATA / "bad"


@pytest.fixture(scope="module")
def corpus() -> dict[str, object]:
    articles, failures = read_corpus(CORPUS)
    return {"articles": {a.id: a for a in articles}, "failures": failures}


def test_txt_first_line_is_the_title_when_it_looks_like_one(corpus: dict) -> None:
    article = corpus["articles"]["lighthouse.txt"]
    assert article.title == "The Keeper of Halden Point"
    assert article.text.startswith("The lighthouse at Halden Point was built in 1871")
    assert article.path == "lighthouse.txt"


def test_txt_title_comes_from_the_file_name_when_the_first_line_is_a_sentence(
    corpus: dict,
) -> None:
    article = corpus["articles"]["rainfall.txt"]
    assert article.title == "rainfall"
    assert article.text.startswith("Rainfall in the valley averages")


def test_markdown_front_matter(corpus: dict) -> None:
    article = corpus["articles"]["news/bridge.md"]
    assert article.title == "New bridge opens over the Orrin river"
    assert article.url == "https://example.org/news/orrin-bridge"
    assert article.published == "2021-03-03"
    assert article.author == "Sam Reyes"
    assert article.source == "The Valley Courier"
    assert article.text.startswith("The new suspension bridge")
    assert article.text.endswith("— Alba Quint, mayor")


def test_markdown_heading_is_the_title(corpus: dict) -> None:
    article = corpus["articles"]["news/orchard.md"]
    assert article.title == "The apple orchards of Wendel"
    assert article.text.startswith("Wendel has grown apples")


def test_html_main_text_and_metadata(corpus: dict) -> None:
    article = corpus["articles"]["news/glacier.html"]
    assert article.title == "The shrinking Tarn glacier"
    assert article.author == "Lena Hart"
    assert article.published == "2022-08-15"
    assert "42 metres" in article.text
    assert "All rights reserved" not in article.text
    assert "Contact" not in article.text


def test_jsonl_one_article_per_line_and_bad_lines_reported(corpus: dict) -> None:
    b1 = corpus["articles"]["news/briefs.jsonl#b1"]
    b2 = corpus["articles"]["news/briefs.jsonl#b2"]
    assert (b1.title, b1.published, b1.url) == (
        "Ferry timetable changes",
        "2023-05-20",
        "https://example.org/briefs/b1",
    )
    assert b2.author == "Town Council" and b2.path == "news/briefs.jsonl"
    failures = {f.path: f.reason for f in corpus["failures"]}
    assert "not valid JSON" in failures["news/briefs.jsonl:3"]
    assert "text" in failures["news/briefs.jsonl:4"]


def test_hidden_and_non_article_files_are_skipped(corpus: dict) -> None:
    assert set(corpus["articles"]) == {
        "lighthouse.txt",
        "rainfall.txt",
        "news/bridge.md",
        "news/orchard.md",
        "news/glacier.html",
        "news/briefs.jsonl#b1",
        "news/briefs.jsonl#b2",
    }
    assert len(corpus["failures"]) == 2


def test_content_hash_is_stable_and_changes_with_metadata(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("---\ntitle: One\n---\nSome text here.\n", encoding="utf-8")
    first = read_file(path, tmp_path)[0].content_hash
    assert read_file(path, tmp_path)[0].content_hash == first
    path.write_text("---\ntitle: Two\n---\nSome text here.\n", encoding="utf-8")
    assert read_file(path, tmp_path)[0].content_hash != first


def test_crlf_and_nfd_are_normalised_before_storing(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes("Cafe\u0301 notes\r\n\r\nIt is open.\r\n".encode())
    article = read_file(path, tmp_path)[0]
    assert article.title == "Caf\u00e9 notes"
    assert article.text == "It is open."


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.txt", "empty file"),
        ("blank.txt", "empty file"),
        ("image.txt", "binary file"),
        ("latin1.txt", "not valid UTF-8 (byte 0xe9 at offset 3)"),
        ("broken_front.md", "broken YAML front matter"),
        ("unclosed_front.md", "never ends"),
        ("report.pdf", "unsupported file type"),
        ("alias_bomb.md", "front matter uses the YAML alias *a"),
        ("alias_title.md", "aliases are not accepted"),
        ("deep_front.md", "front matter is nested more than 16 levels deep"),
    ],
)
def test_bad_files_fail_with_a_clear_reason(name: str, reason: str) -> None:
    with pytest.raises(UnreadableArticleError, match=re.escape(reason)):
        read_file(BAD / name, BAD)


def test_every_bad_file_is_one_failure_and_the_rest_still_load(tmp_path: Path) -> None:
    shutil.copytree(BAD, tmp_path / "c")
    (tmp_path / "c" / "good.txt").write_text("A good article that reads fine.", encoding="utf-8")
    articles, failures = read_corpus(tmp_path / "c")
    assert [a.id for a in articles] == ["good.txt"]
    assert sorted(f.path for f in failures) == sorted(p.name for p in BAD.iterdir())


def test_a_10_mb_article_is_skipped_with_its_size(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    sentence = b"The quick brown fox jumps over the lazy dog near the river bank. "
    big.write_bytes(sentence * (10 * 1024 * 1024 // len(sentence) + 1))
    (tmp_path / "small.txt").write_text("Small but fine.", encoding="utf-8")
    articles, failures = read_corpus(tmp_path)
    assert [a.id for a in articles] == ["small.txt"]
    assert failures[0].path == "big.txt"
    assert f"the limit is {MAX_ARTICLE_BYTES:,}" in failures[0].reason


def test_a_jsonl_article_over_the_limit_is_one_failed_line(tmp_path: Path) -> None:
    lines = [
        json.dumps({"title": "Big", "text": "x " * (MAX_ARTICLE_BYTES // 2 + 10)}),
        json.dumps({"title": "Fine", "text": "A fine line."}),
    ]
    (tmp_path / "a.jsonl").write_text("\n".join(lines), encoding="utf-8")
    articles, failures = read_corpus(tmp_path)
    assert [a.title for a in articles] == ["Fine"]
    assert [f.path for f in failures] == ["a.jsonl:1"]


def test_a_missing_corpus_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusNotFoundError, match="does not exist"):
        read_corpus(tmp_path / "nope")


@pytest.mark.parametrize(
    ("uploaded", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("/abs/path/My Notes.MD", "My_Notes.md"),
        ("été à Paris.txt", "ete_a_Paris.txt"),
        ("..hidden.txt", "hidden.txt"),
        ("a;rm -rf *.html", "a_rm_-rf.html"),
    ],
)
def test_safe_article_name(uploaded: str, safe: str) -> None:
    assert safe_article_name(uploaded) == safe


@pytest.mark.parametrize("uploaded", ["", "..", "../..", "/", ".txt", "***"])
def test_safe_article_name_refuses_names_with_nothing_left(uploaded: str) -> None:
    with pytest.raises(BadArticleError):
        safe_article_name(uploaded)


def test_a_device_is_never_read_even_when_asked_for_directly() -> None:
    # In a child with a memory cap: a reader that regressed would read /dev/zero forever.
    code = (
        "from pathlib import Path\n"
        "from index.readers import UnreadableArticleError, read_file\n"
        "try:\n"
        "    read_file(Path('/dev/zero'), Path('/dev'))\n"
        "except UnreadableArticleError as exc:\n"
        "    print(exc)\n"
    )

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=cap_memory,
    )
    assert result.stdout.strip() == "zero: a character device, not a regular file; not read"


def test_a_path_that_climbs_out_of_the_corpus_is_refused(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "outside.txt").write_text("Outside the corpus.", encoding="utf-8")
    with pytest.raises(UnreadableArticleError, match="outside the corpus"):
        read_file(tmp_path / "corpus" / ".." / "outside.txt", tmp_path / "corpus")


def test_the_corpus_folder_may_itself_be_a_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.txt").write_text("An article in the real folder.", encoding="utf-8")
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    articles, failures = read_corpus(tmp_path / "link")
    assert ([a.id for a in articles], failures) == (["a.txt"], [])


def test_a_link_into_a_folder_of_the_corpus_is_followed(tmp_path: Path) -> None:
    (tmp_path / "2024").mkdir()
    (tmp_path / "2024" / "a.txt").write_text("An article of 2024.", encoding="utf-8")
    (tmp_path / "latest.txt").symlink_to(Path("2024") / "a.txt")
    articles, failures = read_corpus(tmp_path)
    assert [a.id for a in articles] == ["2024/a.txt", "latest.txt"] and failures == []


def test_the_article_limit_can_be_set(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Forty bytes of article text, more or less.", encoding="utf-8")
    articles, failures = read_corpus(tmp_path, max_bytes=20)
    assert articles == [] and "the limit is 20" in failures[0].reason
    assert [a.id for a in read_corpus(tmp_path, max_bytes=100)[0]] == ["a.txt"]


def test_a_file_name_with_a_newline_is_one_escaped_line(tmp_path: Path) -> None:
    (tmp_path / "two\nlines.txt").write_text("Text.", encoding="utf-8")
    _, failures = read_corpus(tmp_path)
    assert [f.path for f in failures] == ["two\\nlines.txt"]
    assert "\n" not in failures[0].reason


def test_a_jsonl_line_too_long_is_skipped_and_the_next_line_kept(tmp_path: Path) -> None:
    long_line = json.dumps({"text": "x" * 70_000})
    good = json.dumps({"id": "ok", "text": "Kept."})
    (tmp_path / "a.jsonl").write_text(f"{long_line}\n{good}\n", encoding="utf-8")
    articles, failures = read_corpus(tmp_path, max_bytes=100)
    assert [a.id for a in articles] == ["a.jsonl#ok"]
    assert [(f.path, "longer than" in f.reason) for f in failures] == [("a.jsonl:1", True)]


def test_a_utf16_jsonl_is_still_read(tmp_path: Path) -> None:
    line = json.dumps({"id": "u", "text": "Caf\u00e9 au lait."}, ensure_ascii=False)
    (tmp_path / "a.jsonl").write_bytes(line.encode("utf-16"))
    articles, failures = read_corpus(tmp_path)
    assert [(a.id, a.text) for a in articles] == [("a.jsonl#u", "Caf\u00e9 au lait.")]
    assert failures == []


def test_a_fifo_is_skipped_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.md")
    (tmp_path / "a.txt").write_text("Fine.", encoding="utf-8")
    done = threading.Event()
    found: list[object] = []

    def read() -> None:
        found.append(read_corpus(tmp_path))
        done.set()

    threading.Thread(target=read, daemon=True).start()
    if not done.wait(timeout=120):
        # unblock the stuck reader so the thread can end, then fail
        os.close(os.open(tmp_path / "pipe.md", os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading a corpus with a FIFO blocked")
    articles, failures = found[0]  # type: ignore[misc]
    assert [a.id for a in articles] == ["a.txt"]
    assert [(f.path, "FIFO" in f.reason) for f in failures] == [("pipe.md", True)]
