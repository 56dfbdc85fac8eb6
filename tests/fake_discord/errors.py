"""Discord's error replies (status, JSON code, message) and the harness's own test-side errors."""

from __future__ import annotations

from typing import Any

# Discord's JSON error codes used by the fake.
UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
UNKNOWN_WEBHOOK = 10015
UNKNOWN_APPLICATION_COMMAND = 10063
UNKNOWN_INTERACTION = 10062
CANNOT_EDIT_OTHERS_MESSAGE = 50005
WRONG_CHANNEL_TYPE = 50024
EMPTY_MESSAGE = 50006
INVALID_WEBHOOK_TOKEN = 50027
INVALID_FORM_BODY = 50035
ALREADY_ACKNOWLEDGED = 40060
THREAD_ALREADY_CREATED = 160004


class DiscordHTTPError(Exception):
    """An error reply the fake sends back exactly as Discord shapes it."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} (code {code}): {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The JSON body Discord sends with this error."""
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def invalid_form_body(errors: dict[str, Any]) -> DiscordHTTPError:
    """400 / 50035 with Discord's nested `errors` tree."""
    return DiscordHTTPError(400, INVALID_FORM_BODY, "Invalid Form Body", errors)


def empty_message() -> DiscordHTTPError:
    return DiscordHTTPError(400, EMPTY_MESSAGE, "Cannot send an empty message")


def unknown_interaction() -> DiscordHTTPError:
    return DiscordHTTPError(404, UNKNOWN_INTERACTION, "Unknown interaction")


def already_acknowledged() -> DiscordHTTPError:
    return DiscordHTTPError(400, ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")


def unknown_webhook() -> DiscordHTTPError:
    return DiscordHTTPError(404, UNKNOWN_WEBHOOK, "Unknown Webhook")


def invalid_webhook_token() -> DiscordHTTPError:
    return DiscordHTTPError(401, INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")


def unknown_message() -> DiscordHTTPError:
    return DiscordHTTPError(404, UNKNOWN_MESSAGE, "Unknown Message")


def unknown_channel() -> DiscordHTTPError:
    return DiscordHTTPError(404, UNKNOWN_CHANNEL, "Unknown Channel")


def wrong_channel_type() -> DiscordHTTPError:
    return DiscordHTTPError(400, WRONG_CHANNEL_TYPE, "Cannot execute action on this channel type")


def thread_already_created() -> DiscordHTTPError:
    return DiscordHTTPError(
        400, THREAD_ALREADY_CREATED, "A thread has already been created for this message"
    )


def unauthorized() -> DiscordHTTPError:
    return DiscordHTTPError(401, 0, "401: Unauthorized")


def not_found() -> DiscordHTTPError:
    return DiscordHTTPError(404, 0, "404: Not Found")


class FakeDiscordError(Exception):
    """A test asked the fake for something a Discord user could not do."""


class CommandNotSynced(FakeDiscordError):
    """The command was never synced, so no Discord client would offer it."""


class CommandNotPermitted(FakeDiscordError):
    """The member lacks the command's default member permissions, so Discord hides it."""


class InvalidInvocation(FakeDiscordError):
    """Options or targets that Discord's client would not let a user submit."""
