"""The answers file: answers, latest per channel and thread topics survive a restart, bounded."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from bot.memory import FILE_NAME, AnswerMemory
from tests.bot.answers import answer_with, quote_containing

KEEPER = quote_containing("lighthouse.md", "last keeper")


def test_an_answer_read_back_after_a_restart_is_the_same_answer(tmp_path: Path) -> None:
    path = tmp_path / "index" / FILE_NAME
    answer = answer_with("Who was the last keeper?", KEEPER)
    memory = AnswerMemory(path)
    memory.remember(10, 99, answer)
    memory.note_thread(500, "Who was the last keeper?")
    memory.close()

    again = AnswerMemory(path)
    assert again.answer(10) == answer
    assert again.latest(99) == answer and again.latest(98) is None
    assert again.thread_question(500) == "Who was the last keeper?"
    assert again.thread_question(10) == answer.question, "a thread started from the answer"
    again.close()


def test_the_file_is_created_readable_by_all_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        memory = AnswerMemory(tmp_path / FILE_NAME)
    finally:
        os.umask(old)
    memory.close()
    assert stat.S_IMODE((tmp_path / FILE_NAME).stat().st_mode) == 0o644


def test_only_the_newest_answers_are_kept(tmp_path: Path) -> None:
    memory = AnswerMemory(tmp_path / FILE_NAME, capacity=5)
    for i in range(20):
        memory.remember(100 + i, 1, answer_with(f"q{i}", KEEPER))
        memory.note_thread(1000 + i, f"t{i}")
    kept = [i for i in range(20) if memory.answer(100 + i) is not None]
    assert kept == list(range(15, 20))
    assert memory.thread_question(1000) is None and memory.thread_question(1019) == "t19"
    size = (tmp_path / FILE_NAME).stat().st_size
    for i in range(20, 200):
        memory.remember(100 + i, 1, answer_with(f"q{i}", KEEPER))
    assert (tmp_path / FILE_NAME).stat().st_size <= 2 * size + 64 * 1024, "bounded on disk"
    memory.close()


def test_an_unusable_file_falls_back_to_memory(tmp_path: Path) -> None:
    broken = tmp_path / FILE_NAME
    broken.write_bytes(b"this is not a database" * 100)
    memory = AnswerMemory(broken)
    answer = answer_with("q", KEEPER)
    memory.remember(1, 2, answer)
    assert memory.answer(1) == answer and memory.path is None
    assert broken.read_bytes().startswith(b"this is not"), "the file is left as it was"


def test_many_threads_may_remember_and_read_at_once(tmp_path: Path) -> None:
    memory = AnswerMemory(tmp_path / FILE_NAME)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(25):
                message = worker * 1000 + i
                memory.remember(message, worker, answer_with(f"q{message}", KEEPER))
                found = memory.answer(message)
                assert found is not None and found.question == f"q{message}"
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(memory.latest(w) is not None for w in range(8))
    memory.close()
