"""The engine under load: questions in flight never fail while reindexes swap the index."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from pathlib import Path

from index.engine import Engine
from tests.conftest import TEST_DATA
from tests.fakes import HashEmbedder

ASKERS = 8
REINDEXES = 100
MARKER = re.compile(r"\bedition(\d+)\b")
QUESTION = "Which edition does the harbour beacon notice carry?"


def beacon_text(edition: int) -> str:
    """An article in which every sentence names its edition, so a mix would show."""
    return "\n\n".join(
        f"The harbour beacon notice carries edition{edition} in paragraph {n}. "
        f"Sailors read edition{edition} of the beacon notice before they leave harbour."
        for n in range(3)
    )


def make_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    corpus.mkdir()
    for name in ("lighthouse.txt", "rainfall.txt"):
        shutil.copy(TEST_DATA / "corpus" / name, corpus / name)
    (corpus / "beacon.txt").write_text(beacon_text(0), encoding="utf-8")
    return corpus


def editions(texts: list[str]) -> set[str]:
    return {m for t in texts for m in MARKER.findall(t)}


def test_questions_never_fail_and_never_mix_indexes_during_100_reindexes(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    engine = Engine(tmp_path / "index", corpus, embedder=HashEmbedder())
    engine.reindex()
    stop = threading.Event()
    lock = threading.Lock()
    failures: list[BaseException] = []
    seen: list[set[str]] = []
    answered_once = [threading.Event() for _ in range(ASKERS)]

    def asker(n: int) -> None:
        while not stop.is_set():
            try:
                answer = engine.ask(QUESTION)
            except BaseException as exc:
                with lock:
                    failures.append(exc)
                answered_once[n].set()
                continue
            texts = [q.text for q in answer.quotes] + [p.text for p in answer.passages]
            with lock:
                seen.append(editions(texts))
            answered_once[n].set()

    threads = [threading.Thread(target=asker, args=(n,), daemon=True) for n in range(ASKERS)]
    for thread in threads:
        thread.start()
    try:
        for event in answered_once:
            assert event.wait(60), "an asker never got an answer"
        written = {"0"}
        for i in range(REINDEXES):
            before = engine.version
            if i % 2:
                (corpus / "beacon.txt").write_text(beacon_text(i), encoding="utf-8")
                written.add(str(i))
                engine.reindex()
                assert engine.version != before
            else:
                engine.reindex()
                assert engine.version == before, "a no-change reindex must not swap"
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert not failures, f"{len(failures)} questions failed, first: {failures[0]!r}"
    assert len(seen) >= ASKERS
    assert all(len(marks) == 1 for marks in seen), "an answer mixed two indexes"
    assert set().union(*seen) <= written
    assert len(set().union(*seen)) > 1, "no answer came from a rebuilt index"
    engine.close()


class GatedEmbedder(HashEmbedder):
    """Blocks inside embedding a question until released, to hold a question in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = threading.Event()
        self.release = threading.Event()

    def embed(self, texts, **kwargs):  # type: ignore[no-untyped-def]
        if list(texts) and texts[0].startswith("Which edition") and not self.release.is_set():
            self.inside.set()
            assert self.release.wait(60)
        return super().embed(texts, **kwargs)


def open_files_under(folder: Path) -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder.resolve())):
            found.append(target)
    return found


def test_a_replaced_index_stays_open_for_the_question_using_it_then_closes(
    tmp_path: Path,
) -> None:
    corpus = make_corpus(tmp_path)
    embedder = GatedEmbedder()
    engine = Engine(tmp_path / "index", corpus, embedder=embedder)
    engine.reindex()
    engine.load()
    old = engine.version
    assert old is not None
    manifest = json.loads((tmp_path / "index" / "versions" / old / "manifest.json").read_text())
    old_database = tmp_path / "index" / manifest["database"]  # a full rebuild writes a new one
    result: dict[str, object] = {}

    def ask() -> None:
        try:
            result["answer"] = engine.ask(QUESTION)
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=ask)
    thread.start()
    assert embedder.inside.wait(60)
    (corpus / "beacon.txt").write_text(beacon_text(1), encoding="utf-8")
    engine.reindex(rebuild=True)
    assert engine.version != old
    assert open_files_under(old_database), "the old index closed under a question in flight"
    embedder.release.set()
    thread.join(60)
    assert "error" not in result, result.get("error")
    answer = result["answer"]
    texts = [p.text for p in answer.passages]  # type: ignore[attr-defined]
    assert editions(texts) == {"0"}, "the question is answered from the index it started with"
    assert open_files_under(old_database) == [], "the old index stays open after its last question"
    assert editions([p.text for p in engine.ask(QUESTION).passages]) == {"1"}
    engine.close()


def test_concurrent_first_questions_load_the_index_once(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    builder = Engine(tmp_path / "index", corpus, embedder=HashEmbedder())
    builder.reindex()
    builder.close()
    engine = Engine(tmp_path / "index", corpus, embedder=HashEmbedder())
    start = threading.Barrier(ASKERS)
    errors: list[BaseException] = []

    def ask() -> None:
        start.wait(60)
        try:
            engine.ask(QUESTION)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(ASKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    version = engine.version
    assert version is not None
    folder = tmp_path / "index" / "versions" / version
    concurrent = len(open_files_under(folder))
    engine.close()
    assert open_files_under(folder) == []
    single = Engine(tmp_path / "index", corpus, embedder=HashEmbedder())
    single.ask(QUESTION)
    assert concurrent == len(open_files_under(folder)), "the index was opened more than once"
    single.close()
    assert open_files_under(folder) == []
