"""Pytest fixtures that run the real discord.py client against FakeDiscord on loopback.

`fake_discord` (async, per test) starts a FakeDiscord on an ephemeral 127.0.0.1 port and
points discord.py at it (`discord.http.Route.BASE`, `DiscordWebSocket.DEFAULT_GATEWAY`; both
restored after the test). Options, set before starting the bot: `interaction_deadline`
(3.0 s, Discord's), `token_lifetime` (900 s), `privileged_intents` (those enabled "in the
portal": members, presences, message_content; asking for another closes with 4014).
Without the message-content intent the bot gets `content == ""` unless it is mentioned.

The handle (docstrings in server.py, interactions.py, models.py):
- world: `guild`, `channel` (#general), `other_channel`, `admin_role` (Administrator +
  Manage Server), `member_role`, `bot_role` (the bot's managed role, tagged with its id:
  discord.py's `guild.self_role`), `admin` and `member` (Members), `bot_user`,
  `application_id`, `token`; `add_member(name, roles=[...])`, `add_channel`, `add_guild`;
  `attachment(filename, data, content_type=)` -> Attachment, a file for an attachment
  option (its `url` is served by the fake; the filename is sent as given, path tricks too).
- threads: `await create_thread(message_or_channel, name, owner=)` -> Channel (type 11,
  `parent_id`, `owner_id`): from a message it takes the message's id; in a channel it
  leaves a THREAD_CREATED notice (type 18, content = name). Inject into and read from it
  like a channel; `threads(channel)`. The bot may start threads too (REST routes).
- DMs: `dm_channel(member)` -> a DM channel (type 1, no guild) to inject into and read from.
- drive: `await inject_message(channel, content, author=, mentions_bot=, reply_to=)`,
  `await delete_message(message)` (MESSAGE_DELETE; a later reply to it is refused with
  400/50035 unless its reference says `fail_if_not_exists: false`, as on Discord),
  `await invoke_slash("name [sub]", {"opt": value}, member=, channel=)`,
  `await invoke_context_menu(name, message_or_member, member=)`,
  `await click_button(message, custom_id, member=)`, `await choose(message, id, values)`,
  `await submit_modal(interaction, {input_id: text})`,
  `await autocomplete(name, {"opt": "partial"}, focused="opt")`. A never-synced command raises
  CommandNotSynced; a member lacking its default permissions, CommandNotPermitted
  (`check_permissions=False` = an admin's override); bad options, InvalidInvocation.
- an Interaction: `await wait_for_callback()`, `await wait_for_reply(predicate)`,
  `original`, `followups`, `replies`, `ephemeral`, `deferred`, `callback_type`, `modal`,
  `autocomplete_choices`,
  `refusals` / `await wait_for_refusal()` (Discord's errors to the bot: 10062 after the
  deadline, 40060, 50027, 50035...). As on Discord, the first followup after a thinking
  defer fills the original message (it is `original`, not in `followups`); once that
  thinking message was deleted, a followup is a new message, and `@original` edits get
  10008 Unknown Message.
- await (each returns the next match not returned before; TimeoutError lists recent
  calls): `wait_for_call(method, "/channels/{channel_id}/messages", timeout=)`,
  `wait_for_message(channel, predicate, timeout)` (the bot's visible messages),
  `wait_for_sync()`, `wait_for_gateway(op=, event=)`, `wait_for_resumed()`,
  `wait_until(predicate, timeout, what)`.
- read back: `messages(channel)`, `bot_messages(channel)`, `message(id)` -> Message with
  `content`, `embeds`, `components`, `buttons`, `attachments`, `flags`, `ephemeral`,
  `loading`, `edited`, `versions`, `deleted`, `text` (content + embed text) and `pings`
  (falsy when nobody is notified; worst case, ignoring the author's permissions);
  `calls` / `calls_to(method, route)` -> Call with `json`, `allowed_mentions`, `status`,
  `response`; `commands(guild=None)`; `sessions`; `gateway_log`; `downloads` (the
  attachments fetched from the fake's CDN).
- faults and time: `fail_next("POST /channels/{channel_id}/messages", status=429,
  retry_after=0.05)`, `await drop_gateway()`, `await request_reconnect()`,
  `await invalidate_session()`, `advance_time(seconds)` (deadlines pass instantly).

`start_bot` (async factory, per test): `await start_bot(bot, wait_for_sync=False)` logs the
client in with the fake's token, connects it, returns once `on_ready` fired (build the bot
with `guild_ready_timeout=0.1`) and, if asked, a command sync was made; the bot is closed
after the test. `start_bot.errors` collects exceptions discord.py logged from handlers.

    async def test_ask(fake_discord, start_bot):
        await start_bot(build_bot(guild_ready_timeout=0.1), wait_for_sync=True)
        interaction = await fake_discord.invoke_slash("ask", {"question": "Who?"})
        reply = await interaction.wait_for_reply()
        assert "[1]" in reply.content and not reply.pings
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import discord
import discord.gateway
import discord.http
import pytest
import pytest_asyncio
import yarl

from tests.fake_discord.server import FakeDiscord


@pytest_asyncio.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A running FakeDiscord that discord.py talks to for the duration of one test."""
    fake = FakeDiscord()
    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url)
    )
    try:
        yield fake
    finally:
        await fake.close()


class _ErrorLog(logging.Handler):
    def __init__(self, sink: list[BaseException]) -> None:
        super().__init__(logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.sink.append(record.exc_info[1])


class BotStarter:
    """Starts clients against the fake and closes them at teardown."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.errors: list[BaseException] = []
        self._running: list[tuple[discord.Client, asyncio.Task[None]]] = []
        self._log_handler = _ErrorLog(self.errors)
        logging.getLogger("discord").addHandler(self._log_handler)

    async def __call__(
        self, bot: discord.Client, *, wait_for_sync: bool = False, timeout: float = 20.0
    ) -> discord.Client:
        """Log in, connect, and return once `on_ready` fired (and a sync, if asked)."""
        await bot.login(self.fake.token)
        task = asyncio.create_task(bot.connect(reconnect=True), name="discord-client")
        self._running.append((bot, task))
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if task in done:
                task.result()
            raise TimeoutError(f"the bot was not ready within {timeout}s")
        if wait_for_sync:
            await self.fake.wait_for_sync(timeout)
        return bot

    async def close_all(self) -> None:
        logging.getLogger("discord").removeHandler(self._log_handler)
        for bot, task in reversed(self._running):
            await bot.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, 5.0)


@pytest_asyncio.fixture
async def start_bot(fake_discord: FakeDiscord) -> AsyncIterator[BotStarter]:
    """`await start_bot(bot)`: run a discord.Client / commands.Bot against `fake_discord`."""
    starter = BotStarter(fake_discord)
    try:
        yield starter
    finally:
        await starter.close_all()
