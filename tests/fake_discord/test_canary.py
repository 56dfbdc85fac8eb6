"""The discord.py internals the fake relies on; an upgrade that moves one fails here by name."""

from __future__ import annotations

import inspect

import discord
import discord.gateway
import discord.http
import discord.state
import discord.webhook.async_
import yarl


def test_rest_base_url_is_a_class_attribute_of_route() -> None:
    assert isinstance(discord.http.Route.BASE, str)
    assert discord.http.Route.BASE.endswith(f"/api/v{discord.http.INTERNAL_API_VERSION}")
    assert discord.http.INTERNAL_API_VERSION == 10, "the fake serves /api/v10"


def test_webhooks_and_interactions_build_urls_from_the_same_route_class() -> None:
    assert discord.webhook.async_.Route is discord.http.Route


def test_gateway_url_is_a_class_attribute_of_the_websocket() -> None:
    assert isinstance(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY, yarl.URL)
    assert "gateway" in inspect.signature(discord.gateway.DiscordWebSocket.from_client).parameters


def test_the_client_resumes_on_resume_gateway_url_from_ready() -> None:
    source = inspect.getsource(discord.gateway.DiscordWebSocket.received_message)
    assert "resume_gateway_url" in source


def test_json_replies_are_recognised_by_exact_content_type() -> None:
    source = inspect.getsource(discord.http.json_or_text)
    assert "application/json" in source


def test_guild_ready_timeout_is_a_client_option() -> None:
    client = discord.Client(intents=discord.Intents.none(), guild_ready_timeout=0.1)
    assert client._connection.guild_ready_timeout == 0.1


def test_interaction_payload_fields_the_fake_sends_are_still_read() -> None:
    source = inspect.getsource(discord.Interaction._from_data)
    for key in ("attachment_size_limit", "application_id", "token", "version", "member"):
        assert f"'{key}'" in source, key


def test_interaction_callbacks_ask_for_the_callback_response() -> None:
    source = inspect.getsource(
        discord.webhook.async_.AsyncWebhookAdapter.create_interaction_response
    )
    assert "with_response" in source


def test_attachments_download_from_their_url_through_the_clients_session() -> None:
    source = inspect.getsource(discord.Attachment.read)
    assert "get_from_cdn(url)" in source
    assert "self.url" in source


def test_thread_create_is_read_with_the_fields_the_fake_sends() -> None:
    assert "newly_created" in inspect.getsource(discord.state.ConnectionState.parse_thread_create)
    source = inspect.getsource(discord.Thread._from_data)
    for key in ("parent_id", "owner_id", "message_count", "member_count", "thread_metadata"):
        assert f"'{key}'" in source, key
