import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import index.cli
from index.ask_cli import questions
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


BAD_LINES = {
    "a lone surrogate": "When did the ferry \udcedleave?".encode("utf-8", "surrogatepass"),
    "invalid UTF-8": b"When was the lighthouse \xff\xfe built?",
}


def forty_one_lines(bad: bytes) -> bytes:
    lines = [f"When was the lighthouse built? ({n})".encode() for n in range(1, 42)]
    lines[20] = bad
    return b"\n".join(lines) + b"\n"


@pytest.mark.parametrize("bad", list(BAD_LINES.values()), ids=list(BAD_LINES))
def test_an_undecodable_stdin_line_costs_one_error_record(index_dir: Path, bad: bytes) -> None:
    result = CliRunner().invoke(
        ask_command, ["--index", str(index_dir), "--json"], input=forty_one_lines(bad)
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 41 and result.exit_code == 1
    errors = [r for r in records if "error" in r]
    assert len(errors) == 1 and errors[0] is records[20]
    assert "line 21" in errors[0]["error"] and "UTF-8" in errors[0]["error"]
    assert "\\x" in errors[0]["question"], "the bad bytes are shown as escapes"
    assert all(set(r) == ANSWER_KEYS for r in records if r is not errors[0])
    assert records[40]["question"] == "When was the lighthouse built? (41)"


def test_an_undecodable_line_in_text_mode_is_one_line_on_stderr(index_dir: Path) -> None:
    result = CliRunner().invoke(
        ask_command, ["--index", str(index_dir)], input=forty_one_lines(BAD_LINES["invalid UTF-8"])
    )
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "line 21" in result.stderr
    assert result.stdout.count("Sources:") == 40
    assert "Traceback" not in result.output


def test_an_undecodable_question_argument_is_an_error_record(index_dir: Path) -> None:
    code, out, _ = ask("--index", str(index_dir), "--json", "When \udcff built?")
    assert code == 1
    record = json.loads(out)
    assert "UTF-8" in record["error"] and record["question"] == "When \\xff built?"


def test_a_question_starting_with_a_dash_goes_after_double_dash(index_dir: Path) -> None:
    code, out, _ = ask("--index", str(index_dir), "--json", "--", "-19 sailors: who rescued them?")
    assert code == 0
    assert json.loads(out)["question"] == "-19 sailors: who rescued them?"
    code, _, err = ask("--index", str(index_dir), "-19 sailors?")
    assert code == 2 and "No such option" in err
    help_text = CliRunner().invoke(ask_command, ["--help"]).stdout
    assert 'citebot ask -- "-' in help_text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b" ")), max_size=20))
def test_every_non_blank_stdin_line_is_one_question_or_one_error(lines: list[bytes]) -> None:
    found = list(questions(line + b"\n" for line in lines))
    expected: list[tuple[int, str | None]] = []
    for n, raw in enumerate(lines, 1):
        body = raw.rstrip(b"\r")
        body = body.removeprefix(b"\xef\xbb\xbf") if n == 1 else body
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            expected.append((n, None))
            continue
        if text.strip():
            expected.append((n, text))
    assert [(n, text) for n, text, _ in found] == expected
    for _, _, printable in found:
        printable.encode("utf-8")  # an error record can always be printed
