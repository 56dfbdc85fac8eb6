"""`citebot bot`, `chat` and the terminal loop: one clear line for each way to fail."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import discord.gateway
import discord.http
import pytest
import yarl
from click.testing import CliRunner

from bot.cli import INTENT_HELP, NO_TOKEN, TOKEN_HELP, main, serve
from bot.settings import Settings
from bot.terminal import chat
from index.engine import Engine
from tests.fake_discord.server import FakeDiscord


@pytest.fixture(autouse=True)
def _no_settings_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty folder, so no .env or citebot.toml of the checkout is read."""
    monkeypatch.chdir(tmp_path)


@contextmanager
def fake_in_thread(monkeypatch: pytest.MonkeyPatch, **options: object) -> Iterator[FakeDiscord]:
    """A FakeDiscord on its own loop, so code that calls asyncio.run can talk to it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = FakeDiscord(**options)  # type: ignore[arg-type]
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(5)
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url)
    )
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def test_a_bad_token_stops_the_bot_with_one_line(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_in_thread(monkeypatch), pytest.raises(SystemExit) as stop:
        serve(engine, Settings(token="not-the-token"))
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert TOKEN_HELP in err and "not-the-token" not in err


def test_a_missing_message_content_intent_stops_the_bot_with_one_line(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_in_thread(monkeypatch, privileged_intents=()) as fake, pytest.raises(SystemExit):
        serve(engine, Settings(token=fake.token))
    err = capsys.readouterr().err
    assert INTENT_HELP in err and "Developer Portal" in err
    assert fake.token not in err


def test_citebot_bot_without_a_token_says_what_to_set(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["bot"])
    assert result.exit_code == 1
    assert result.output.strip() == NO_TOKEN


def test_the_terminal_loop_answers_each_line_until_eof(engine: Engine) -> None:
    questions = io.StringIO(
        "When was the Brightwater lighthouse built?\n\n?!\nWho won the 1999 cup final?\n"
    )
    out = io.StringIO()
    assert chat(engine, questions, out) == 0
    text = out.getvalue()
    assert '"The Brightwater lighthouse was built in 1874' in text and "[1]" in text
    assert "Sources:\n[1] The Brightwater Lighthouse — https://example.org/" in text
    assert "no words I can search for" in text
    assert "The articles don't answer that." in text


class _Interrupted(io.StringIO):
    def readline(self, *args: object) -> str:
        raise KeyboardInterrupt


def test_the_terminal_loop_ends_quietly_on_ctrl_c(engine: Engine) -> None:
    out = io.StringIO()
    assert chat(engine, _Interrupted(), out) == 0


def test_citebot_bot_without_an_index_says_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "some-token")
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(tmp_path / "nothing-here"))
    result = CliRunner().invoke(main, ["bot"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"error: no index in {tmp_path / 'nothing-here'}; "
        "build it first with `citebot index build`."
    )
    assert "some-token" not in result.output


def test_citebot_run_without_a_token_builds_the_index_then_answers_in_the_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, corpus_copy: Path, minilm: object
) -> None:
    monkeypatch.setenv("CITEBOT_CORPUS_DIR", str(corpus_copy))
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(tmp_path / "index"))
    result = CliRunner().invoke(
        main,
        ["run"],
        input="When was the Brightwater lighthouse built?\n",
    )
    assert result.exit_code == 0, result.output
    assert "index ready: 14 articles" in result.output
    assert "DISCORD_TOKEN is not set" in result.output
    assert '"The Brightwater lighthouse was built in 1874' in result.output
