"""Discord's limits and mention rules as pure functions."""

from __future__ import annotations

import pytest

from tests.fake_discord.errors import DiscordHTTPError
from tests.fake_discord.mentions import Pings, resolve_pings
from tests.fake_discord.rules import body_errors, check_message, embed_size


def test_content_of_2000_passes_and_2001_is_refused() -> None:
    check_message({"content": "x" * 2000}, has_files=False)
    with pytest.raises(DiscordHTTPError) as refused:
        check_message({"content": "x" * 2001}, has_files=False)
    assert refused.value.code == 50035
    assert refused.value.errors == {
        "content": {
            "_errors": [
                {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}
            ]
        }
    }


def test_callback_errors_nest_under_data() -> None:
    with pytest.raises(DiscordHTTPError) as refused:
        check_message({"content": "x" * 2001}, has_files=False, nest="data")
    assert set(refused.value.errors or {}) == {"data"}


@pytest.mark.parametrize("body", [{}, {"content": ""}, {"content": None, "embeds": []}])
def test_empty_messages_are_refused_with_50006(body: dict) -> None:
    with pytest.raises(DiscordHTTPError) as refused:
        check_message(body, has_files=False)
    assert (refused.value.status, refused.value.code) == (400, 50006)


def test_a_file_alone_is_not_empty() -> None:
    check_message({}, has_files=True)


def test_embed_limits() -> None:
    assert "title" in body_errors({"embeds": [{"title": "t" * 257}]})["embeds"]["0"]
    assert "description" in body_errors({"embeds": [{"description": "d" * 4097}]})["embeds"]["0"]
    fields = [{"name": "n", "value": "v"}] * 26
    assert "fields" in body_errors({"embeds": [{"fields": fields}]})["embeds"]["0"]
    assert "embeds" in body_errors({"embeds": [{"title": "t"}] * 11})
    assert body_errors({"embeds": [{"description": "d" * 4000}]}) == {}


def test_embed_total_over_6000_is_refused() -> None:
    embeds = [{"description": "d" * 3000}, {"description": "d" * 3001}]
    assert sum(map(embed_size, embeds)) == 6001
    errors = body_errors({"embeds": embeds})
    assert errors["embeds"]["_errors"][0]["code"] == "MAX_EMBED_SIZE_EXCEEDED"


def test_without_allowed_mentions_everything_in_the_content_pings() -> None:
    pings = resolve_pings("hi <@1> <@&2> @everyone", None, is_reply=True)
    assert pings == Pings(frozenset({1}), frozenset({2}), everyone=True, replied_user=True)


def test_allowed_mentions_none_pings_nobody() -> None:
    allowed = {"parse": [], "replied_user": False}
    assert not resolve_pings("hi <@1> <@&2> @here", allowed, is_reply=True)


def test_allowed_mentions_lists_only_the_named_ids() -> None:
    allowed = {"parse": [], "users": ["1"]}
    assert resolve_pings("<@1> <@3>", allowed, is_reply=False).users == {1}


def test_ephemeral_messages_never_ping() -> None:
    assert not resolve_pings("<@1> @everyone", None, is_reply=False, ephemeral=True)
