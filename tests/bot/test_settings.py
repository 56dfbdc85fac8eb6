"""Settings from the environment, a .env file and TOML; the token never shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cooldown import Cooldown
from bot.memory import AnswerMemory
from bot.settings import Settings, SettingsError
from index.types import Answer

TOKEN = "MTIzNDU2.secret-token-value"


def test_environment_values_are_parsed(tmp_path: Path) -> None:
    env = {
        "DISCORD_TOKEN": TOKEN,
        "CITEBOT_QUESTION_CHANNELS": "111, 222 333",
        "CITEBOT_ADMIN_ROLE": "Librarian",
        "CITEBOT_COOLDOWN_SECONDS": "2.5",
        "CITEBOT_INDEX_DIR": str(tmp_path / "i"),
    }
    settings = Settings.load(env, env_file=tmp_path / "none.env", toml_file=None)
    assert settings.token == TOKEN
    assert settings.question_channels == {111, 222, 333}
    assert settings.admin_role == "Librarian" and settings.cooldown_seconds == 2.5
    assert settings.index_dir == tmp_path / "i"


def test_the_token_never_appears_in_repr_or_str() -> None:
    settings = Settings(token=TOKEN)
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)
    assert "token='***'" in repr(settings)
    assert "token=None" in repr(Settings())


def test_environment_beats_dotenv_which_beats_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("CITEBOT_ADMIN_ROLE=FromDotenv\nCITEBOT_COOLDOWN_SECONDS=7\n")
    (tmp_path / "citebot.toml").write_text(
        '[citebot]\nadmin_role = "FromToml"\ncooldown_seconds = 9\nquestion_channels = [5, 6]\n'
    )
    monkeypatch.chdir(tmp_path)
    settings = Settings.load({"CITEBOT_COOLDOWN_SECONDS": "1"})
    assert settings.cooldown_seconds == 1.0
    assert settings.admin_role == "FromDotenv"
    assert settings.question_channels == {5, 6}


def test_bad_values_are_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="CITEBOT_COOLDOWN_SECONDS"):
        Settings.load({"CITEBOT_COOLDOWN_SECONDS": "soon"}, env_file=tmp_path / "x")
    (tmp_path / "c.toml").write_text("typo_setting = 1\n")
    with pytest.raises(SettingsError, match="typo_setting"):
        Settings.load({}, env_file=tmp_path / "x", toml_file=tmp_path / "c.toml")


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
