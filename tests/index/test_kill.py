"""A build killed with SIGKILL at any moment leaves the previous index serving."""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.build import build_index
from index.store import PARTIAL_SUFFIX, VERSIONS, IndexStore, read_current
from tests.conftest import ROOT, TEST_DATA
from tests.fakes import HashEmbedder

EMBEDDER = HashEmbedder()


def start_worker(corpus: Path, index_dir: Path, delay: float) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.index.build_worker", str(corpus), str(index_dir), str(delay)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "start"
    return process


def kill(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    if process.stdout is not None:
        process.stdout.close()


def assert_serves(index_dir: Path, article_id: str) -> None:
    with IndexStore.open(index_dir, EMBEDDER.name, EMBEDDER.dimension) as store:
        article = store.article(article_id)
        assert article is not None
        hits = store.dense_search(EMBEDDER.embed([article.text])[0], 3)
        assert store.passages([hits[0][0]])[0].article_id == article_id


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus"
    shutil.copytree(TEST_DATA / "corpus", corpus)
    index_dir = tmp_path / "idx"
    build_index(corpus, index_dir, EMBEDDER)
    for i in range(12):
        (corpus / f"extra{i}.txt").write_text(
            " ".join(f"Extra article {i} sentence {j} about tides." for j in range(40)),
            encoding="utf-8",
        )
    return corpus, index_dir


def test_killed_while_embedding(built: tuple[Path, Path]) -> None:
    corpus, index_dir = built
    before = read_current(index_dir)
    process = start_worker(corpus, index_dir, delay=0.05)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("embedded"):
            break
    kill(process)
    assert process.returncode == -signal.SIGKILL
    assert read_current(index_dir) == before
    assert_serves(index_dir, "lighthouse.txt")
    report = build_index(corpus, index_dir, EMBEDDER)
    assert report.added == 12
    assert not [p for p in (index_dir / VERSIONS).iterdir() if p.name.endswith(PARTIAL_SUFFIX)]
    assert_serves(index_dir, "extra3.txt")


@pytest.mark.parametrize("after", [0.0, 0.015, 0.025, 0.04])
def test_killed_while_writing_the_new_version(built: tuple[Path, Path], after: float) -> None:
    corpus, index_dir = built
    before = read_current(index_dir)
    process = start_worker(corpus, index_dir, delay=0.0)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("stage writing 0"):
            break
    time.sleep(after)  # on this machine the version folder is written 10-40 ms after this
    kill(process)
    assert_serves(index_dir, "lighthouse.txt")
    if read_current(index_dir) != before:  # the write won the race against the kill
        assert_serves(index_dir, "extra3.txt")
    build_index(corpus, index_dir, EMBEDDER)
    assert_serves(index_dir, "extra3.txt")
    assert not [p for p in (index_dir / VERSIONS).iterdir() if p.name.endswith(PARTIAL_SUFFIX)]


@pytest.mark.parametrize("after", [0.0, 0.05, 0.1])
def test_killed_at_any_moment(built: tuple[Path, Path], after: float) -> None:
    corpus, index_dir = built
    before = read_current(index_dir)
    process = start_worker(corpus, index_dir, delay=0.0)
    time.sleep(after)
    kill(process)
    assert read_current(index_dir) is not None
    assert_serves(index_dir, "lighthouse.txt")
    if read_current(index_dir) != before:  # it finished before the kill
        assert_serves(index_dir, "extra3.txt")
    build_index(corpus, index_dir, EMBEDDER)
    assert_serves(index_dir, "extra3.txt")
    assert not [p for p in (index_dir / VERSIONS).iterdir() if p.name.endswith(PARTIAL_SUFFIX)]


def edit_one_article(corpus: Path, n: int) -> str:
    """Add a sentence to one article; returns the sentence."""
    path = corpus / "rainfall.txt"
    sentence = f"Edit {n}: the wettest month was November."
    path.write_text(path.read_text(encoding="utf-8") + f"\n{sentence}\n", encoding="utf-8")
    return sentence


def assert_whole(index_dir: Path) -> None:
    """The live version opens, and every passage is its article's text at its offsets."""
    with IndexStore.open(index_dir, EMBEDDER.name, EMBEDDER.dimension) as store:
        for info in store.articles():
            article = store.article(info.id)
            assert article is not None
            for passage in store.article_passages(info.id):
                assert article.text[passage.start : passage.end] == passage.text
        assert store.passage_count() == sum(a.passages for a in store.articles())


def test_killed_during_incremental_updates_at_random_points(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(TEST_DATA / "corpus", corpus)
    index_dir = tmp_path / "idx"
    build_index(corpus, index_dir, EMBEDDER)
    # How long writing an incremental version takes here, to spread the kills over it.
    edit_one_article(corpus, 0)
    process = start_worker(corpus, index_dir, delay=0.0)
    assert process.stdout is not None
    marks: dict[str, float] = {}
    for line in process.stdout:
        if line.startswith("stage writing 0"):
            marks["writing"] = time.perf_counter()
        if line.startswith("done"):
            marks["done"] = time.perf_counter()
    process.wait(timeout=60)
    process.stdout.close()
    window = max(marks["done"] - marks["writing"], 0.005)
    rng = random.Random(20)
    switched = 0
    for n in range(1, 21):
        before = read_current(index_dir)
        with IndexStore.open(index_dir, EMBEDDER.name, EMBEDDER.dimension) as store:
            old = store.article("rainfall.txt")
        text = edit_one_article(corpus, n)
        process = start_worker(corpus, index_dir, delay=0.0)
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("stage writing 0"):
                break
        time.sleep(rng.uniform(0.0, 1.3 * window))
        kill(process)
        assert_whole(index_dir)
        with IndexStore.open(index_dir, EMBEDDER.name, EMBEDDER.dimension) as store:
            live = store.article("rainfall.txt")
            assert live is not None and old is not None
            if read_current(index_dir) == before:
                assert live.text == old.text and text not in live.text  # untouched
            else:
                assert live.text.endswith(text)  # the new version went live whole
                switched += 1
        report = build_index(corpus, index_dir, EMBEDDER)  # the next build completes
        assert report.failed == 2
        assert_whole(index_dir)
        assert_serves(index_dir, "rainfall.txt")
        with IndexStore.open(index_dir, EMBEDDER.name, EMBEDDER.dimension) as store:
            current = store.article("rainfall.txt")
            assert current is not None and current.text.endswith(text)
        assert not [p for p in (index_dir / VERSIONS).iterdir() if p.name.endswith(PARTIAL_SUFFIX)]
    build_index(corpus, tmp_path / "fresh", EMBEDDER, rebuild=True)
    with (
        IndexStore.open(index_dir, EMBEDDER.name, EMBEDDER.dimension) as a,
        IndexStore.open(tmp_path / "fresh", EMBEDDER.name, EMBEDDER.dimension) as b,
    ):
        assert [x.id for x in a.articles()] == [x.id for x in b.articles()]
        for info in a.articles():
            texts_a = [p.text for p in a.article_passages(info.id)]
            assert texts_a == [p.text for p in b.article_passages(info.id)]
    print(f"{switched} of 20 kills came after the switch")
