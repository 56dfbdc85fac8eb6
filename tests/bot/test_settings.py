"""Settings from the environment, a .env file and TOML, in one object; the token never shows."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.cooldown import Cooldown
from bot.memory import AnswerMemory
from bot.settings import Settings, SettingsError
from index.answer import AnswerConfig, _override
from index.readers import MAX_ARTICLE_BYTES
from index.types import Answer

TOKEN = "MTIzNDU2.secret-token-value"


@pytest.fixture
def no_env_file(tmp_path: Path) -> Path:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    return empty


def test_environment_values_are_parsed(tmp_path: Path, no_env_file: Path) -> None:
    env = {
        "DISCORD_TOKEN": TOKEN,
        "CITEBOT_QUESTION_CHANNELS": "111, 222 333",
        "CITEBOT_ADMIN_ROLE": "Librarian",
        "CITEBOT_COOLDOWN_SECONDS": "2.5",
        "CITEBOT_INDEX_DIR": str(tmp_path / "i"),
        "CITEBOT_EMBEDDER": "some-model",
        "CITEBOT_MAX_ARTICLE_BYTES": "1000",
        "CITEBOT_ANSWER_MAX_QUOTES": "1",
        "CITEBOT_ABSTAIN_THRESHOLD": "1.25",
    }
    settings = Settings.load(env, env_file=no_env_file, toml_file=None)
    assert settings.token == TOKEN
    assert settings.question_channels == {111, 222, 333}
    assert settings.admin_role == "Librarian" and settings.cooldown_seconds == 2.5
    assert settings.index_dir == tmp_path / "i"
    assert settings.embedder == "some-model" and settings.max_article_bytes == 1000
    assert settings.answer.max_quotes == 1 and settings.answer.abstain.threshold == 1.25
    assert settings.answer.depth == AnswerConfig().depth


def test_defaults(no_env_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.load({}, env_file=no_env_file)
    assert settings.index_dir == Path(".citebot/index") and settings.corpus_dir == Path("corpus")
    assert settings.embedder is None and settings.max_article_bytes == MAX_ARTICLE_BYTES
    assert settings.answer == AnswerConfig() and settings.token is None


def test_the_token_never_appears_in_repr_or_str() -> None:
    settings = Settings(token=TOKEN)
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)
    assert "token='***'" in repr(settings)
    assert "token=None" in repr(Settings())


def test_environment_beats_dotenv_which_beats_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "CITEBOT_ADMIN_ROLE=FromDotenv\nCITEBOT_COOLDOWN_SECONDS=7\nCITEBOT_ANSWER_DEPTH=20\n"
    )
    (tmp_path / "citebot.toml").write_text(
        '[citebot]\nadmin_role = "FromToml"\ncooldown_seconds = 9\nquestion_channels = [5, 6]\n'
        "[answer]\ndepth = 30\nmax_quotes = 2\n[quote]\nfloor = 0.25\n"
    )
    monkeypatch.chdir(tmp_path)
    settings = Settings.load({"CITEBOT_COOLDOWN_SECONDS": "1"})
    assert settings.cooldown_seconds == 1.0
    assert settings.admin_role == "FromDotenv"
    assert settings.question_channels == {5, 6}
    assert settings.answer.depth == 20 and settings.answer.max_quotes == 2
    assert settings.answer.quote.floor == 0.25


def test_the_old_upload_limit_name_is_still_read(no_env_file: Path) -> None:
    settings = Settings.load({"CITEBOT_MAX_UPLOAD_BYTES": "4096"}, env_file=no_env_file)
    assert settings.max_article_bytes == settings.max_upload_bytes == 4096
    newer = {"CITEBOT_MAX_UPLOAD_BYTES": "4096", "CITEBOT_MAX_ARTICLE_BYTES": "10"}
    assert Settings.load(newer, env_file=no_env_file).max_article_bytes == 10


@pytest.mark.parametrize(
    ("variable", "expected"),
    [
        ("CITEBOT_COOLDOWN_SECONDS", "a number of seconds"),
        ("CITEBOT_QUESTION_CHANNELS", "channel ids"),
        ("CITEBOT_MAX_ARTICLE_BYTES", "a whole number of bytes"),
        ("CITEBOT_GUILD_ID", "a server id"),
        ("CITEBOT_ANSWER_MAX_QUOTES", "a whole number"),
        ("CITEBOT_QUOTE_FLOOR", "a number"),
    ],
)
@pytest.mark.parametrize("source", ["env", "dotenv", "toml"])
def test_a_bad_value_is_named_with_what_was_expected_and_never_echoed(
    tmp_path: Path, variable: str, expected: str, source: str
) -> None:
    env_file = tmp_path / "s.env"
    env_file.write_text("")
    toml_file = None
    environ: dict[str, str] = {}
    if source == "env":
        environ[variable] = TOKEN
    elif source == "dotenv":
        env_file.write_text(f"{variable}={TOKEN}\n")
    else:
        table, key = _toml_place(variable)
        toml_file = tmp_path / "c.toml"
        toml_file.write_text(f'[{table}]\n{key} = "{TOKEN}"\n')
    with pytest.raises(SettingsError) as error:
        Settings.load(environ, env_file=env_file, toml_file=toml_file)
    message = str(error.value)
    assert variable in message and expected in message
    assert TOKEN not in message and "MTIzNDU2" not in message


def _toml_place(variable: str) -> tuple[str, str]:
    for prefix, table in (("CITEBOT_ANSWER_", "answer"), ("CITEBOT_QUOTE_", "quote")):
        if variable.startswith(prefix):
            return table, variable.removeprefix(prefix).lower()
    names = {f.metadata.get("env"): f.name for f in dataclasses.fields(Settings)}
    return "citebot", names[variable]


def test_unknown_keys_and_tables_are_named(tmp_path: Path, no_env_file: Path) -> None:
    (tmp_path / "c.toml").write_text("typo_setting = 1\n")
    with pytest.raises(SettingsError, match="typo_setting"):
        Settings.load({}, env_file=no_env_file, toml_file=tmp_path / "c.toml")
    (tmp_path / "c.toml").write_text("[answer]\nmax_quote = 1\n")
    with pytest.raises(SettingsError, match=r"\[answer\].*max_quote"):
        Settings.load({}, env_file=no_env_file, toml_file=tmp_path / "c.toml")
    (tmp_path / "c.toml").write_text("[answers]\nmax_quotes = 1\n")
    with pytest.raises(SettingsError, match="answers"):
        Settings.load({}, env_file=no_env_file, toml_file=tmp_path / "c.toml")


def test_a_named_settings_file_that_is_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        Settings.load({}, env_file=tmp_path / "missing.env")
    with pytest.raises(SettingsError, match="does not exist"):
        Settings.load({}, env_file=None, toml_file=tmp_path / "missing.toml")
    with pytest.raises(SettingsError, match=r"missing\.toml does not exist"):
        Settings.load({"CITEBOT_CONFIG": str(tmp_path / "missing.toml")})


def test_citebot_config_names_the_toml_file(tmp_path: Path, no_env_file: Path) -> None:
    (tmp_path / "elsewhere.toml").write_text('corpus_dir = "from-elsewhere"\n')
    environ = {"CITEBOT_CONFIG": str(tmp_path / "elsewhere.toml")}
    assert Settings.load(environ, env_file=no_env_file).corpus_dir == Path("from-elsewhere")


@dataclass(frozen=True)
class _Deeper:
    margin: float = 0.5


@dataclass(frozen=True)
class _Weights:
    strict: bool = False
    names: tuple[str, ...] = ("a",)
    deeper: _Deeper = field(default_factory=_Deeper)


@dataclass(frozen=True)
class _Config:
    depth: int = 5
    label: str | None = None
    weights: _Weights = field(default_factory=_Weights)


def test_answer_settings_follow_the_dataclass_fields_whatever_they_are() -> None:
    env = {
        "CITEBOT_ANSWER_DEPTH": "9",
        "CITEBOT_ANSWER_LABEL": "x",
        "CITEBOT_WEIGHTS_STRICT": "true",
        "CITEBOT_WEIGHTS_DEEPER_MARGIN": "0.75",
    }
    tables = {"weights": {"names": ["b", "c"], "deeper": {"margin": 0.1}}}
    config = _override(_Config(), env, "CITEBOT_ANSWER_", "answer", {}, "CITEBOT_", tables)
    assert config == _Config(9, "x", _Weights(True, ("b", "c"), _Deeper(0.75)))
    config = _override(_Config(), {}, "CITEBOT_ANSWER_", "answer", {}, "CITEBOT_", tables)
    assert config.weights.deeper.margin == 0.1


def test_cooldown_is_per_user_on_its_clock() -> None:
    now = [100.0]
    cooldown = Cooldown(5, clock=lambda: now[0])
    assert cooldown.retry_after(1) == 0 and cooldown.retry_after(2) == 0
    now[0] += 2
    assert cooldown.retry_after(1) == pytest.approx(3)
    now[0] += 3
    assert cooldown.retry_after(1) == 0
    cooldown.reset(1)
    assert cooldown.retry_after(1) == 0


def test_memory_is_bounded_and_knows_threads_started_from_answers() -> None:
    memory = AnswerMemory(capacity=2)
    answers = [Answer(f"q{i}", False, (), ()) for i in range(3)]
    for i, answer in enumerate(answers):
        memory.remember(10 + i, 99, answer)
    assert memory.answer(10) is None and memory.answer(12) == answers[2]
    assert memory.latest(99) == answers[2]
    assert memory.thread_question(11) == "q1", "a thread started from an answer shares its id"
    memory.note_thread(500, "first")
    memory.note_thread(500, "second")
    assert memory.thread_question(500) == "first"
