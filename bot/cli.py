"""`citebot`: the one command; `bot`, `chat`, `run` here, the index's commands mounted.

The group reads the settings once (environment, `.env`, TOML) and hands them to every
command, the index's own included, through the click context.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import aiohttp
import click
import discord

from bot.settings import Settings
from index.cli import (
    SettingsSource,
    ask_command,
    current_settings,
    eval_command,
    index_group,
    make_engine,
    reindex_or_stop,
    user_errors,
)

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
NETWORK_HELP = (
    "error: cannot reach Discord ({reason}); check this machine's network connection "
    "and DNS, then start citebot again."
)
DISCORD_DOWN = (
    "error: Discord answered with an error ({reason}) while citebot was starting; "
    "try again in a few minutes."
)


def fail(line: str) -> NoReturn:
    """One clear line on stderr, exit code 1."""
    click.echo(line, err=True)
    sys.exit(1)


def load_settings() -> Settings:
    """The settings the `citebot` group read, or one line naming the bad setting."""
    with user_errors():
        settings = current_settings()
    if not isinstance(settings, Settings):  # pragma: no cover - the group loads bot settings
        fail("error: citebot's settings were not loaded")
    return settings


def open_engine(settings: Settings) -> Engine:
    """The engine with its index loaded, or one line saying how to build the index."""
    from index.errors import IndexNotBuiltError

    with user_errors():
        engine = make_engine(settings)
        try:
            engine.load()
        except IndexNotBuiltError:
            fail(
                f"error: no index in {settings.index_dir}; "
                "build it first with `citebot index build`."
            )
    return engine


def serve(engine: Engine, settings: Settings) -> None:
    """Run the Discord bot until stopped; known failures end in one line."""
    from bot.client import build_bot

    if not settings.token:
        fail(NO_TOKEN)
    if not logging.getLogger().handlers:
        # citebot's own lines at INFO; discord.py only when something is wrong, so that a
        # failed start is the one line below.
        discord.utils.setup_logging(level=logging.INFO)
        logging.getLogger("discord").setLevel(logging.WARNING)
    # citebot never joins voice channels: no warning that voice libraries are missing.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
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
    except (aiohttp.ClientConnectionError, discord.GatewayNotFound, OSError, TimeoutError) as exc:
        fail(NETWORK_HELP.format(reason=_reason(exc)))
    except discord.HTTPException as exc:
        fail(DISCORD_DOWN.format(reason=f"HTTP {exc.status}"))
    except KeyboardInterrupt:
        pass
    finally:
        engine.close()


@click.group()
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A .env file to read settings from [default: .env if present].",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A TOML settings file [default: $CITEBOT_CONFIG or citebot.toml if present].",
)
@click.pass_context
def main(ctx: click.Context, env_file: Path | None, config: Path | None) -> None:
    """citebot answers questions by quoting articles word for word, with citations."""
    ctx.obj = SettingsSource(Settings, env_file, config)


def _reason(exc: BaseException) -> str:
    """What went wrong, without any text a server sent back (it may echo a request)."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "the name discord.com could not be resolved"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"no connection to {exc.host}:{exc.port}"
    if isinstance(exc, discord.GatewayNotFound):
        return "the gateway could not be found"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return type(exc).__name__


@main.command("bot")
def bot_command() -> None:
    """Run the Discord bot (needs DISCORD_TOKEN and a built index)."""
    settings = load_settings()
    if not settings.token:
        fail(NO_TOKEN)
    serve(open_engine(settings), settings)


@main.command("chat")
def chat_command() -> None:
    """Ask questions in the terminal, answered from the built index."""
    from bot.terminal import chat

    engine = open_engine(load_settings())
    try:
        sys.exit(chat(engine))
    finally:
        engine.close()


@main.command("run")
def run_command() -> None:
    """Build or update the index, then start the bot (with DISCORD_TOKEN) or the terminal loop."""
    from bot.terminal import chat

    settings = load_settings()
    with user_errors():
        engine = make_engine(settings)
    click.echo(f"Indexing {settings.corpus_dir} into {settings.index_dir} …", err=True)
    with user_errors():
        report = reindex_or_stop(engine)
    for failure in report.failures:
        click.echo(f"skipped {failure.path}: {failure.reason}", err=True)
    with user_errors():
        engine.load()
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
