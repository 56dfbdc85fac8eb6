"""`citebot`: the one command; `bot`, `chat`, `run` here, the index's commands mounted."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click
import discord

from bot.settings import Settings, SettingsError
from index.cli import ask_command, eval_command, index_group

if TYPE_CHECKING:
    from index.engine import Engine

log = logging.getLogger("bot.cli")

INTENT_HELP = (
    "error: Discord refused the Message Content intent. Enable it in the Developer Portal: "
    "your application → Bot → Privileged Gateway Intents → Message Content Intent."
)
TOKEN_HELP = (
    "error: Discord rejected DISCORD_TOKEN. Copy the bot's token again from the Developer "
    "Portal (your application → Bot → Reset Token)."
)
NO_TOKEN = "error: DISCORD_TOKEN is not set; put the bot's token in the environment or .env."


def fail(line: str) -> NoReturn:
    """One clear line on stderr, exit code 1."""
    click.echo(line, err=True)
    sys.exit(1)


def load_settings(env_file: Path | None, config: Path | None) -> Settings:
    try:
        return Settings.load(env_file=env_file, toml_file=config)
    except SettingsError as exc:
        fail(f"error: {exc}")


def make_engine(settings: Settings) -> Engine:
    from index.engine import Engine
    from index.errors import CitebotError

    try:
        return Engine(settings.index_dir, settings.corpus_dir)
    except CitebotError as exc:
        fail(f"error: {exc}")


def open_engine(settings: Settings) -> Engine:
    """The engine with its index loaded, or one line saying how to build the index."""
    from index.errors import CitebotError, IndexNotBuiltError

    engine = make_engine(settings)
    try:
        engine.load()
    except IndexNotBuiltError:
        fail(f"error: no index in {settings.index_dir}; build it first with `citebot index build`.")
    except CitebotError as exc:
        fail(f"error: {exc}")
    return engine


def serve(engine: Engine, settings: Settings) -> None:
    """Run the Discord bot until stopped; known failures end in one line."""
    from bot.client import build_bot

    if not settings.token:
        fail(NO_TOKEN)
    if not logging.getLogger().handlers:
        discord.utils.setup_logging(level=logging.INFO)
    bot = build_bot(engine, settings)

    async def run() -> None:
        async with bot:
            await bot.start(settings.token or "")

    try:
        asyncio.run(run())
    except discord.LoginFailure:
        fail(TOKEN_HELP)
    except discord.PrivilegedIntentsRequired:
        fail(INTENT_HELP)
    except KeyboardInterrupt:
        pass
    finally:
        engine.close()


_settings_options = [
    click.option(
        "--env-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="A .env file to read settings from [default: .env if present].",
    ),
    click.option(
        "--config",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="A TOML settings file [default: $CITEBOT_CONFIG or citebot.toml if present].",
    ),
]


def settings_options(function):  # type: ignore[no-untyped-def]
    for option in reversed(_settings_options):
        function = option(function)
    return function


@click.group()
def main() -> None:
    """citebot answers questions by quoting articles word for word, with citations."""


@main.command("bot")
@settings_options
def bot_command(env_file: Path | None, config: Path | None) -> None:
    """Run the Discord bot (needs DISCORD_TOKEN and a built index)."""
    settings = load_settings(env_file, config)
    if not settings.token:
        fail(NO_TOKEN)
    serve(open_engine(settings), settings)


@main.command("chat")
@settings_options
def chat_command(env_file: Path | None, config: Path | None) -> None:
    """Ask questions in the terminal, answered from the built index."""
    from bot.terminal import chat

    engine = open_engine(load_settings(env_file, config))
    try:
        sys.exit(chat(engine))
    finally:
        engine.close()


@main.command("run")
@settings_options
def run_command(env_file: Path | None, config: Path | None) -> None:
    """Build or update the index, then start the bot (with DISCORD_TOKEN) or the terminal loop."""
    from bot.terminal import chat
    from index.errors import CitebotError

    settings = load_settings(env_file, config)
    engine = make_engine(settings)
    click.echo(f"Indexing {settings.corpus_dir} into {settings.index_dir} …", err=True)
    try:
        report = engine.reindex()
    except CitebotError as exc:
        fail(f"error: {exc}")
    for failure in report.failures:
        click.echo(f"skipped {failure.path}: {failure.reason}", err=True)
    click.echo(
        f"index ready: {report.articles} articles, {report.passages} passages "
        f"({report.embedded} embedded in {report.seconds:.1f} s)",
        err=True,
    )
    if settings.token:
        serve(engine, settings)
        return
    click.echo("DISCORD_TOKEN is not set: answering in the terminal instead.", err=True)
    try:
        sys.exit(chat(engine))
    finally:
        engine.close()


# The index's own commands: `citebot index build/stats/search`, `citebot ask`, `citebot eval`.
main.add_command(index_group)
main.add_command(ask_command)
main.add_command(eval_command)
