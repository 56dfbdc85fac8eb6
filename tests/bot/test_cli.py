"""`citebot bot`, `chat` and the terminal loop: one clear line for each way to fail."""

from __future__ import annotations

import asyncio
import io
import os
import pty
import select
import shutil
import socket
import subprocess
import sys
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
from bot.terminal import PROMPT, chat
from index.build import build_index
from index.engine import Engine
from tests.conftest import ROOT, TEST_DATA
from tests.fake_discord.server import FakeDiscord
from tests.fakes import HashEmbedder


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


def chat_output(engine: Engine, lines: str) -> str:
    """What the terminal loop prints for these lines of stdin (it must end with code 0)."""
    out = io.StringIO()
    assert chat(engine, io.StringIO(lines), out) == 0
    return out.getvalue()


def test_the_terminal_loop_answers_each_line_until_eof(engine: Engine) -> None:
    text = chat_output(
        engine, "When was the Brightwater lighthouse built?\n\n?!\nWho won the 1999 cup final?\n"
    )
    assert '"The Brightwater lighthouse was built in 1874' in text and "[1]" in text
    assert "Sources:\n[1] The Brightwater Lighthouse — https://example.org/" in text
    assert "no words I can search for" in text
    assert "The articles don't answer that." in text


def test_an_undecodable_line_in_the_terminal_loop_is_one_line(engine: Engine) -> None:
    # Python reads undecodable stdin bytes as lone surrogates (surrogateescape).
    text = chat_output(
        engine, "Who won the \udcff\udcfe cup?\nWhen was the Brightwater lighthouse built?\n"
    )
    assert text.startswith("the question is not valid UTF-8 text\n")
    assert '"The Brightwater lighthouse was built in 1874' in text


def test_a_damaged_index_met_in_the_terminal_loop_names_the_command_that_fixes_it(
    tmp_path: Path,
) -> None:
    index_dir = tmp_path / "index"
    build_index(TEST_DATA / "corpus", index_dir, HashEmbedder())
    engine = Engine(index_dir, TEST_DATA / "corpus", embedder=HashEmbedder())
    engine.load()
    try:
        (database,) = (index_dir / "data").glob("db-*.sqlite")
        with database.open("r+b") as db:  # every page but the first overwritten
            db.seek(4096)
            db.write(b"\xaa" * (database.stat().st_size - 4096))
        out = io.StringIO()
        assert chat(engine, io.StringIO("When was the Brightwater lighthouse built?\n"), out) == 0
    finally:
        engine.close()
    text = out.getvalue()
    assert text.startswith("error: index ") and "`citebot index build --rebuild`" in text
    assert "/reindex" not in text  # a Discord command means nothing in the terminal


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


class _Terminal(io.StringIO):
    """Typed input at a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("word", ["quit", "exit", ":q", "  QUIT  ", "Exit", ":Q"])
def test_quit_words_end_the_loop_instead_of_being_searched(engine: Engine, word: str) -> None:
    for stdin in (io.StringIO(f"{word}\nWhen was the lighthouse built?\n"), _Terminal(word + "\n")):
        out = io.StringIO()
        assert chat(engine, stdin, out) == 0
        assert "Sources" not in out.getvalue() and "answer that" not in out.getvalue()


def test_ctrl_d_at_the_prompt_ends_on_a_new_line(engine: Engine) -> None:
    out = io.StringIO()
    assert chat(engine, _Terminal(""), out) == 0
    assert out.getvalue().endswith(PROMPT + "\n")


def test_the_terminal_loop_at_a_real_terminal(tmp_path: Path) -> None:
    """`citebot chat` on a pseudo-terminal: a question, then Ctrl-D or `quit`."""
    corpus = tmp_path / "corpus"
    shutil.copytree(TEST_DATA / "corpus", corpus)
    build_index(corpus, tmp_path / "index", HashEmbedder())
    script = (
        "import index.cli\n"
        "from tests.fakes import HashEmbedder\n"
        "index.cli.embedder_factory = HashEmbedder\n"
        "from bot.cli import main\n"
        "main(['chat'])\n"
    )
    for ending, expected_tail in ((b"\x04", PROMPT + "\r\n"), (b"quit\n", "quit\r\n")):
        output = run_on_pty(script, b"When was the lighthouse built?\n" + ending, tmp_path)
        assert "Sources:" in output
        assert output.endswith(expected_tail), output[-80:]


def run_on_pty(script: str, typed: bytes, folder: Path) -> str:
    """Run python -c `script` with a pseudo-terminal as its terminal; returns what it showed."""
    primary, secondary = pty.openpty()
    env = {**os.environ, "CITEBOT_INDEX_DIR": str(folder / "index"), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        cwd=folder,
        env=env,
        close_fds=True,
    )
    os.close(secondary)
    shown = b""
    sent = False
    while True:
        ready, _, _ = select.select([primary], [], [], 120)
        if not ready:  # a loop that never ends: fail instead of hanging
            process.kill()
            break
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed: the process has exited
            break
        if not chunk:
            break
        shown += chunk
        while not sent and PROMPT.encode() in shown:
            # Type the question, wait for its answer and the next prompt, then the ending.
            question, ending = typed.split(b"\n", 1)
            os.write(primary, question + b"\n")
            sent = True
            typed = ending
        if sent and typed and shown.count(PROMPT.encode()) >= 2:
            os.write(primary, typed)
            typed = b""
    os.close(primary)
    assert process.wait(60) == 0
    return shown.decode("utf-8", "replace")


def test_citebot_bot_without_a_network_is_one_line(tmp_path: Path) -> None:
    """Discord unreachable (a closed port on 127.0.0.1): one line, exit 1, no token shown."""
    corpus = tmp_path / "corpus"
    shutil.copytree(TEST_DATA / "corpus", corpus)
    build_index(corpus, tmp_path / "index", HashEmbedder())
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: every connection is refused
        port = closed.getsockname()[1]
        script = (
            "import discord.http, discord.gateway, yarl\n"
            f"discord.http.Route.BASE = 'http://127.0.0.1:{port}/api/v10'\n"
            "discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = "
            f"yarl.URL('ws://127.0.0.1:{port}/')\n"
            "import index.cli\n"
            "from tests.fakes import HashEmbedder\n"
            "index.cli.embedder_factory = HashEmbedder\n"
            "from bot.cli import main\n"
            "main(['bot'])\n"
        )
        env = {
            **os.environ,
            "DISCORD_TOKEN": "MTIz.no-network-token",
            "CITEBOT_INDEX_DIR": str(tmp_path / "index"),
            "PYTHONPATH": str(ROOT),
        }
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=300,
        )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: cannot reach Discord") and "network" in done.stderr
    assert "Traceback" not in done.stderr and "no-network-token" not in done.stderr + done.stdout


@pytest.mark.parametrize("command", [["bot"], ["run"], ["chat"], ["index", "stats"], ["ask", "x"]])
def test_a_bad_setting_stops_any_command_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    secret = "MTIzNDU2.pasted-in-the-wrong-place"
    monkeypatch.setenv("DISCORD_TOKEN", "some-token")
    monkeypatch.setenv(
        "CITEBOT_COOLDOWN_SECONDS" if command[0] != "ask" else "CITEBOT_ANSWER_DEPTH", secret
    )
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("error: CITEBOT_")
    assert "expected" in result.output
    assert secret not in result.output and "some-token" not in result.output


def test_an_unknown_embedder_is_one_line_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(TEST_DATA / "corpus", corpus)
    build_index(corpus, tmp_path / "index", HashEmbedder())
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("CITEBOT_EMBEDDER", "MTIzNDU2.not-an-embedder")
    result = CliRunner().invoke(main, ["index", "search", "lighthouse"])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert result.output.startswith("error: CITEBOT_EMBEDDER: expected")
    assert "not-an-embedder" not in result.output
