"""The bot's settings, read from the environment, an optional `.env` file and a TOML file."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from index.config import DEFAULT_CORPUS_DIR, DEFAULT_INDEX_DIR

DEFAULT_TOML = "citebot.toml"

# Environment variable for each setting; a TOML file uses the field names as keys.
ENV_NAMES = {
    "token": "DISCORD_TOKEN",
    "question_channels": "CITEBOT_QUESTION_CHANNELS",
    "admin_role": "CITEBOT_ADMIN_ROLE",
    "index_dir": "CITEBOT_INDEX_DIR",
    "corpus_dir": "CITEBOT_CORPUS_DIR",
    "cooldown_seconds": "CITEBOT_COOLDOWN_SECONDS",
    "max_upload_bytes": "CITEBOT_MAX_UPLOAD_BYTES",
    "guild_id": "CITEBOT_GUILD_ID",
    "progress_interval": "CITEBOT_PROGRESS_INTERVAL",
}


class SettingsError(ValueError):
    """A setting that cannot be understood, named so a person can fix it."""


@dataclass(frozen=True)
class Settings:
    """Everything the bot needs besides the engine; the token never appears in its repr."""

    token: str | None = field(default=None, repr=False)
    question_channels: frozenset[int] = frozenset()
    admin_role: str | None = None  # a role id or a role name
    index_dir: Path = Path(DEFAULT_INDEX_DIR)
    corpus_dir: Path = Path(DEFAULT_CORPUS_DIR)
    cooldown_seconds: float = 5.0
    max_upload_bytes: int = 2 * 1024 * 1024
    guild_id: int | None = None  # sync commands to this guild only (instant), else globally
    progress_interval: float = 2.0  # seconds between edits of the /reindex progress message

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name != "token"
        )
        token = "'***'" if self.token else "None"
        return f"Settings(token={token}, {shown})"

    __str__ = __repr__

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        env_file: Path | None = None,
        toml_file: Path | None = None,
    ) -> Settings:
        """Settings from the environment, then `.env`, then TOML (first found wins)."""
        environ = os.environ if environ is None else environ
        toml_path = toml_file or Path(environ.get("CITEBOT_CONFIG") or DEFAULT_TOML)
        raw: dict[str, Any] = {}
        if toml_path.is_file():
            raw.update(_read_toml(toml_path))
        elif toml_file is not None:
            raise SettingsError(f"settings file {toml_file} does not exist")
        env_path = env_file or Path(".env")
        dotenv = {k: v for k, v in dotenv_values(env_path).items() if v is not None}
        for name, env_name in ENV_NAMES.items():
            for source in (environ, dotenv):
                value = source.get(env_name)
                if value not in (None, ""):
                    raw[name] = value
                    break
        return cls.from_mapping(raw)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Settings:
        """Settings from plain values (strings from the environment, or TOML types)."""
        unknown = set(raw) - set(ENV_NAMES)
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, value in raw.items():
            try:
                values[name] = _CONVERTERS[name](value)
            except (TypeError, ValueError) as exc:
                raise SettingsError(f"{ENV_NAMES[name]}: cannot read {value!r} ({exc})") from None
        return cls(**values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc}") from None
    section = data.get("citebot", data)
    if not isinstance(section, dict):
        raise SettingsError(f"{path}: expected a [citebot] table")
    return dict(section)


def _ids(value: Any) -> frozenset[int]:
    """Channel ids from a list or a comma/space separated string."""
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if isinstance(value, int):
        value = [value]
    return frozenset(int(v) for v in value)


def _optional_int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _positive(kind: type) -> Any:
    def convert(value: Any) -> Any:
        number = kind(value)
        if number < 0:
            raise ValueError("must not be negative")
        return number

    return convert


_CONVERTERS: dict[str, Any] = {
    "token": lambda v: str(v).strip() or None,
    "question_channels": _ids,
    "admin_role": lambda v: str(v).strip() or None,
    "index_dir": Path,
    "corpus_dir": Path,
    "cooldown_seconds": _positive(float),
    "max_upload_bytes": _positive(int),
    "guild_id": _optional_int,
    "progress_interval": _positive(float),
}
