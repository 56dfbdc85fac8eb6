import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import index.cli
from index.cli import ask_command, index_group
from tests.fakes import HashEmbedder
from tests.index.answer_helpers import build_test_index

ANSWER_KEYS = {"question", "answered", "quotes", "passages", "ms"}
QUOTE_KEYS = {"text", "article_id", "title", "url", "path", "start", "end", "score"}
PASSAGE_KEYS = {"text", "article_id", "title", "path", "start", "end", "score"}


@pytest.fixture
def index_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    embedder = HashEmbedder()
    monkeypatch.setattr(index.cli, "embedder_factory", lambda: embedder)
    monkeypatch.setenv("CITEBOT_ABSTAIN_THRESHOLD", "-10")  # always answer: test the shape
    return build_test_index(tmp_path, embedder)


def ask(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(ask_command, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_json_answer_follows_the_contract(index_dir: Path) -> None:
    code, out, _ = ask("--index", str(index_dir), "--json", "How many sailors were rescued?")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 1
    answer = json.loads(lines[0])
    assert set(answer) == ANSWER_KEYS
    assert answer["question"] == "How many sailors were rescued?"
    assert answer["answered"] is True
    assert answer["quotes"] and all(set(q) == QUOTE_KEYS for q in answer["quotes"])
    assert answer["passages"] and all(set(p) == PASSAGE_KEYS for p in answer["passages"])
    assert "19 sailors" in answer["quotes"][0]["text"]
    assert answer["quotes"][0]["path"] == "lighthouse.txt"
    scores = [p["score"] for p in answer["passages"]]
    assert scores == sorted(scores, reverse=True)
    assert isinstance(answer["ms"], float) and answer["ms"] > 0
    text = (index_dir.parent / "corpus" / "lighthouse.txt").read_text(encoding="utf-8")
    quote = answer["quotes"][0]
    assert quote["text"] in text


def test_stdin_gives_one_json_line_per_question(index_dir: Path) -> None:
    questions = "When was the lighthouse built?\n\nWhen does the ferry leave?\n   \n<@1> ???\n"
    code, out, _ = ask("--index", str(index_dir), "--json", stdin=questions)
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["question"] for r in records] == [
        "When was the lighthouse built?",
        "When does the ferry leave?",
        "<@1> ???",
    ]
    assert set(records[0]) == ANSWER_KEYS and set(records[1]) == ANSWER_KEYS
    assert "error" in records[2] and "no words" in records[2]["error"]
    assert code == 1  # one question was rejected


def test_human_output_cites_numbered_sources(index_dir: Path) -> None:
    code, out, _ = ask(
        "--index", str(index_dir), "Who designed the Orrin bridge and what did it cost?"
    )
    assert code == 0
    assert "[1]" in out and "Sources:" in out
    assert "New bridge opens over the Orrin river — https://example.org/news/orrin-bridge" in out


def test_abstention_lists_the_nearest_sources(
    index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITEBOT_ABSTAIN_THRESHOLD", "99")
    code, out, _ = ask("--index", str(index_dir), "When was the lighthouse built?")
    assert code == 0
    assert out.startswith("The articles don't answer that.\n\nNearest sources:\n")
    assert "[1] The Keeper of Halden Point — lighthouse.txt" in out
    code, out, _ = ask("--index", str(index_dir), "--json", "When was the lighthouse built?")
    answer = json.loads(out)
    assert answer["answered"] is False and answer["quotes"] == [] and answer["passages"]


def test_bad_question_is_one_line_on_stderr(index_dir: Path) -> None:
    code, out, err = ask("--index", str(index_dir), "   ")
    assert code == 1 and out == ""
    assert err.startswith("error: ") and "empty" in err


def test_missing_index_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index.cli, "embedder_factory", HashEmbedder)
    code, _, err = ask("--index", str(tmp_path / "nothing"), "When?")
    assert code == 1 and "citebot index build" in err


def test_index_search_is_hybrid(index_dir: Path) -> None:
    result = CliRunner().invoke(
        index_group, ["search", "granite quarried", "--index", str(index_dir), "--json", "--k", "2"]
    )
    assert result.exit_code == 0
    found = json.loads(result.stdout)
    assert found["query"] == "granite quarried"
    assert len(found["passages"]) == 2
    assert found["passages"][0]["title"] == "The Keeper of Halden Point"
    assert set(found["passages"][0]) == PASSAGE_KEYS
