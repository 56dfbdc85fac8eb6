"""citebot's settings, read once from the environment, a `.env` file and a TOML file.

Precedence, per setting: the environment, then `.env`, then TOML (`citebot.toml`, or the file
named by $CITEBOT_CONFIG). Each field names its environment variable in its metadata; the TOML
key is the field name, at the top level or under `[citebot]`. The answer engine's settings are
derived from `AnswerConfig`'s dataclass fields (see `AnswerConfig.from_env`): environment
CITEBOT_ANSWER_<FIELD>, CITEBOT_QUOTE_<FIELD>, CITEBOT_ABSTAIN_<FIELD>; TOML tables
`[answer]`, `[quote]`, `[abstain]`.

An error names the setting and what was expected, never the value given (a secret pasted into
the wrong setting must not be printed).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from dotenv import dotenv_values

from index.answer import AnswerConfig
from index.errors import ConfigError
from index.readers import MAX_ARTICLE_BYTES

DEFAULT_CORPUS_DIR = "corpus"
DEFAULT_INDEX_DIR = ".citebot/index"
DEFAULT_TOML = "citebot.toml"
TOML_SECTION = "citebot"
# Tables of a TOML file that hold the answer engine's settings rather than citebot's own.
ANSWER_TABLES = frozenset(
    {"answer"}
    | {
        f.name
        for f in dataclasses.fields(AnswerConfig)
        if f.default_factory is not dataclasses.MISSING
    }
)


class SettingsError(ConfigError):
    """A setting that cannot be understood, named so a person can fix it."""


Converter = Callable[[Any], Any]


def setting(
    env: str, convert: Converter, expected: str, default: Any, *, aliases: tuple[str, ...] = ()
) -> Any:
    """A settings field: its environment variable, how to read it, and what it should hold."""
    return field(
        default=default,
        metadata={"env": env, "convert": convert, "expected": expected, "aliases": aliases},
    )


def text_or_none(value: Any) -> str | None:
    if not isinstance(value, str):
        raise TypeError("not text")
    return value.strip() or None


def path(value: Any) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise TypeError("not a path")
    return Path(value)


def whole_number(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("a boolean")
    number = int(value)
    if number < 0:
        raise ValueError("negative")
    return number


def seconds(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a boolean")
    number = float(value)
    if not number >= 0 or number == float("inf"):
        raise ValueError("negative or not finite")
    return number


def optional_id(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise TypeError("a boolean")
    return int(value)


def ids(value: Any) -> frozenset[int]:
    """Ids from a list or a comma/space separated string."""
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    elif isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list | tuple | set | frozenset):
        raise TypeError("not a list")
    if any(isinstance(v, bool) for v in value):
        raise TypeError("a boolean")
    return frozenset(int(v) for v in value)


@dataclass(frozen=True)
class Settings:
    """What every citebot command needs: folders, the embedder, limits and answer settings."""

    index_dir: Path = setting("CITEBOT_INDEX_DIR", path, "a folder", Path(DEFAULT_INDEX_DIR))
    corpus_dir: Path = setting("CITEBOT_CORPUS_DIR", path, "a folder", Path(DEFAULT_CORPUS_DIR))
    embedder: str | None = setting("CITEBOT_EMBEDDER", text_or_none, "an embedder name", None)
    max_article_bytes: int = setting(
        "CITEBOT_MAX_ARTICLE_BYTES",
        whole_number,
        "a whole number of bytes",
        MAX_ARTICLE_BYTES,
        aliases=("CITEBOT_MAX_UPLOAD_BYTES", "max_upload_bytes"),
    )
    answer: AnswerConfig = field(default_factory=AnswerConfig)

    @property
    def max_upload_bytes(self) -> int:
        """The largest article an upload may be: the same limit as any article."""
        return self.max_article_bytes

    def __repr__(self) -> str:
        shown = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("secret"):
                value = "***" if value else None
            shown.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    __str__ = __repr__

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        env_file: Path | None = None,
        toml_file: Path | None = None,
    ) -> Self:
        """Settings from the environment, then `.env`, then TOML (the first that sets one wins).

        Raises SettingsError for a missing named file, a bad file, an unknown key or a value
        that does not convert.
        """
        environ = os.environ if environ is None else environ
        if env_file is not None and not env_file.is_file():
            raise SettingsError(f"settings file {env_file} does not exist")
        dotenv = {k: v for k, v in dotenv_values(env_file or Path(".env")).items() if v}
        variables = {**dotenv, **{k: v for k, v in environ.items() if v}}
        named = toml_file or (
            Path(variables["CITEBOT_CONFIG"]) if "CITEBOT_CONFIG" in variables else None
        )
        toml_path = named or Path(DEFAULT_TOML)
        if toml_path.is_file():
            scalars, tables = _read_toml(toml_path)
        elif named is not None:
            raise SettingsError(f"settings file {named} does not exist")
        else:
            scalars, tables = {}, {}
        return cls._build(variables, scalars, tables, toml_path)

    @classmethod
    def _build(
        cls,
        variables: Mapping[str, str],
        scalars: Mapping[str, Any],
        tables: Mapping[str, Any],
        toml_path: Path,
    ) -> Self:
        known = {f.name for f in dataclasses.fields(cls)}
        accepted = known | {a for f in dataclasses.fields(cls) for a in _aliases(f, toml=True)}
        unknown = set(scalars) - accepted
        if unknown:
            raise SettingsError(f"{toml_path}: unknown setting(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if "env" not in f.metadata:
                continue
            names = (f.metadata["env"], *_aliases(f, toml=False))
            keys = (f.name, *_aliases(f, toml=True))
            env_name = next((n for n in names if n in variables), None)
            toml_key = next((k for k in keys if k in scalars), None)
            if env_name is not None:
                raw, where = variables[env_name], env_name
            elif toml_key is not None:
                raw, where = scalars[toml_key], f"`{toml_key}` in {toml_path}"
            else:
                continue
            try:
                values[f.name] = f.metadata["convert"](raw)
            except (TypeError, ValueError):
                raise SettingsError(
                    f"{where}: expected {f.metadata['expected']}"
                    + (f" ({f.metadata['env']})" if where != f.metadata["env"] else "")
                ) from None
        try:
            values["answer"] = AnswerConfig.from_env(variables, tables=tables)
        except ConfigError as exc:
            raise SettingsError(str(exc)) from None
        return cls(**values)


def _aliases(f: dataclasses.Field[Any], *, toml: bool) -> tuple[str, ...]:
    """Older names still accepted: environment variables (upper case) or TOML keys."""
    return tuple(a for a in f.metadata.get("aliases", ()) if a.islower() == toml)


def _read_toml(toml_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """citebot's own keys (top level or under [citebot]) and the answer engine's tables."""
    try:
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read settings file {toml_path}: {exc}") from None
    section = data.get(TOML_SECTION, data)
    if not isinstance(section, dict):
        raise SettingsError(f"{toml_path}: expected a [{TOML_SECTION}] table")
    tables = {k: v for k, v in data.items() if isinstance(v, dict) and k != TOML_SECTION}
    tables.update({k: v for k, v in section.items() if isinstance(v, dict)})
    scalars = {k: v for k, v in section.items() if not isinstance(v, dict)}
    unknown = set(tables) - ANSWER_TABLES
    if unknown:
        raise SettingsError(f"{toml_path}: unknown table(s): {', '.join(sorted(unknown))}")
    return scalars, tables
