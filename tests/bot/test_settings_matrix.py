"""Each setting, given by the environment, `.env` or `citebot.toml`, reaches every command.

The settings are read once by the `citebot` group; each case observes what the command did
with them: which folders it read and wrote, how many quotes it gave, whether it abstained.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import bot.cli
import index.cli
from bot.cli import main
from bot.settings import Settings
from index.build import build_index
from index.engine import Engine
from tests.conftest import TEST_DATA
from tests.fakes import HashEmbedder

QUESTION = "What happened to the glacier?"
TOKEN = "matrix-token"
SOURCES = ("env", "dotenv", "toml")


class Case:
    """A working folder with a corpus and an index in non-default places, and the settings."""

    def __init__(self, root: Path, source: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.corpus = root / "my-corpus"
        self.index = root / "my-index"
        shutil.copytree(TEST_DATA / "corpus", self.corpus)
        settings = {
            "CITEBOT_CORPUS_DIR": (str(self.corpus), "citebot", "corpus_dir"),
            "CITEBOT_INDEX_DIR": (str(self.index), "citebot", "index_dir"),
            "CITEBOT_MAX_ARTICLE_BYTES": ("12345", "citebot", "max_article_bytes"),
            "DISCORD_TOKEN": (TOKEN, "citebot", "token"),
            "CITEBOT_ANSWER_MAX_QUOTES": ("1", "answer", "max_quotes"),
            "CITEBOT_ABSTAIN_THRESHOLD": ("-10", "abstain", "threshold"),
            "CITEBOT_QUOTE_FLOOR": ("0", "quote", "floor"),
        }
        monkeypatch.chdir(root)
        monkeypatch.delenv("CITEBOT_CORPUS_DIR")  # set by the test-wide fixture
        monkeypatch.delenv("CITEBOT_INDEX_DIR")
        if source == "env":
            for name, (value, _, _) in settings.items():
                monkeypatch.setenv(name, value)
        elif source == "dotenv":
            lines = [f"{name}={value}" for name, (value, _, _) in settings.items()]
            (root / ".env").write_text("\n".join(lines) + "\n")
        else:
            tables: dict[str, list[str]] = {}
            for value, table, key in settings.values():
                literal = value if value.lstrip("-").isdigit() else json.dumps(value)
                tables.setdefault(table, []).append(f"{key} = {literal}")
            (root / "citebot.toml").write_text(
                "".join(f"[{t}]\n" + "\n".join(keys) + "\n" for t, keys in tables.items())
            )

    def build(self) -> None:
        build_index(self.corpus, self.index, HashEmbedder())

    def invoke(self, *args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), input=stdin)


def quoted_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith('"') and line.endswith("]")]


def check_build(case: Case) -> None:
    result = case.invoke("index", "build", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["articles"] == 7
    assert (case.index / "CURRENT").is_file()


def check_stats(case: Case) -> None:
    case.build()
    result = case.invoke("index", "stats")
    assert result.exit_code == 0, result.output
    assert "articles:  7" in result.stdout


def check_search(case: Case) -> None:
    case.build()
    result = case.invoke("index", "search", "Orrin bridge", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["passages"][0]["path"] == "news/bridge.md"


def check_ask(case: Case) -> None:
    case.build()
    result = case.invoke("ask", "--json", QUESTION)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["answered"] is True and len(answer["quotes"]) == 1


def check_eval(case: Case) -> None:
    data = str(TEST_DATA / "squad_tiny.json")
    result = case.invoke("eval", data, "--holdout", "2", "--json")
    assert result.exit_code == 0, result.output
    # threshold -10: only the hard rules (a name no article holds, an absent amount) abstain
    assert json.loads(result.stdout)["abstained_unanswerable"] < 1.0


def check_chat(case: Case) -> None:
    case.build()
    result = case.invoke("chat", stdin=QUESTION + "\n")
    assert result.exit_code == 0, result.output
    assert len(quoted_lines(result.stdout)) == 1


def check_run(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = capture_serve(monkeypatch)
    result = case.invoke("run")
    assert result.exit_code == 0, result.output
    assert (case.index / "CURRENT").is_file() and "index ready: 7 articles" in result.output
    check_engine(seen)


def check_bot(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    case.build()
    seen = capture_serve(monkeypatch)
    result = case.invoke("bot")
    assert result.exit_code == 0, result.output
    check_engine(seen)


def capture_serve(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Stand in for the Discord connection: keep what the bot would have been given."""
    seen: dict[str, Any] = {}

    def serve(engine: Engine, settings: Settings) -> None:
        seen["token"] = settings.token
        seen["index_dir"] = engine.index_dir
        seen["max_article_bytes"] = engine.max_article_bytes
        seen["answer"] = engine.ask(QUESTION)
        engine.close()

    monkeypatch.setattr(bot.cli, "serve", serve)
    return seen


def check_engine(seen: dict[str, Any]) -> None:
    assert seen["token"] == TOKEN
    assert seen["index_dir"].resolve() == (Path.cwd() / "my-index").resolve()
    assert seen["max_article_bytes"] == 12345
    assert seen["answer"].answered and len(seen["answer"].quotes) == 1


CHECKS: dict[str, Callable[..., None]] = {
    "index build": check_build,
    "index stats": check_stats,
    "index search": check_search,
    "ask": check_ask,
    "eval": check_eval,
    "chat": check_chat,
    "run": check_run,
    "bot": check_bot,
}


@pytest.mark.parametrize("command", list(CHECKS))
@pytest.mark.parametrize("source", SOURCES)
def test_every_setting_reaches_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, command: str
) -> None:
    embedder = HashEmbedder()
    monkeypatch.setattr(index.cli, "embedder_factory", lambda: embedder)
    case = Case(tmp_path, source, monkeypatch)
    check = CHECKS[command]
    if command in ("run", "bot"):
        check(case, monkeypatch)
    else:
        check(case)


def test_without_the_settings_the_same_question_quotes_more_than_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The baseline that makes `max_quotes = 1` above an observation, not a default."""
    embedder = HashEmbedder()
    monkeypatch.setattr(index.cli, "embedder_factory", lambda: embedder)
    monkeypatch.chdir(tmp_path)
    shutil.copytree(TEST_DATA / "corpus", tmp_path / "c")
    build_index(tmp_path / "c", tmp_path / "i", embedder)
    monkeypatch.setenv("CITEBOT_ABSTAIN_THRESHOLD", "-10")
    monkeypatch.setenv("CITEBOT_QUOTE_FLOOR", "0")  # every later quote may pass
    result = CliRunner().invoke(main, ["ask", "--index", str(tmp_path / "i"), "--json", QUESTION])
    assert len(json.loads(result.stdout)["quotes"]) > 1


def test_the_group_reads_the_settings_once_for_a_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    loads = []
    original = Settings.load.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Settings], *args: Any, **kwargs: Any) -> Settings:
        loads.append(cls)
        return original(cls, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(Settings, "load", classmethod(counting))
    result = CliRunner().invoke(main, ["index", "stats"])
    assert result.exit_code == 1 and "citebot index build" in result.output
    assert loads == [Settings]
