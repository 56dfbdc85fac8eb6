"""What a build shows while it embeds: plain lines off a terminal, and the progress callback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import index.build
from index.build import build_index
from index.types import BuildProgress
from tests.fakes import HashEmbedder


def write_corpus(folder: Path, articles: int) -> Path:
    folder.mkdir()
    for n in range(articles):
        sentences = " ".join(f"Fact {k} of story {n} is about topic {k * n}." for k in range(12))
        (folder / f"story-{n:03d}.txt").write_text(f"Story {n}\n\n{sentences}\n", encoding="utf-8")
    return folder


def test_plain_progress_lines_when_not_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index.build, "PLAIN_MIN_TOTAL", 1)
    corpus = write_corpus(tmp_path / "corpus", 30)
    seen: list[BuildProgress] = []
    build_index(corpus, tmp_path / "idx", HashEmbedder(), progress=seen.append)
    err = capsys.readouterr().err
    lines = re.findall(
        r"^embedding (\d+)/(\d+) texts \((\d+)%\), [\d.]+ texts/s, \d+ s elapsed, ETA \d+ s$",
        err,
        re.M,
    )
    assert len(lines) >= 2 and "\r" not in err  # no bar drawn off a terminal
    done = [int(d) for d, _, _ in lines]
    assert done == sorted(done) and lines[-1][0] == lines[-1][1] and lines[-1][2] == "100"
    # One line per tenth of the work at most (plus the final one), not one per batch.
    assert len(lines) <= 11 < len([p for p in seen if p.stage == "embedding"])
    embedding = [p for p in seen if p.stage == "embedding"]
    assert embedding[-1].done == embedding[-1].total == int(lines[-1][1])
    assert seen[0].stage == "reading" and seen[-1].stage == "writing"


def test_a_small_build_prints_no_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_index(write_corpus(tmp_path / "corpus", 2), tmp_path / "idx", HashEmbedder())
    assert "embedding" not in capsys.readouterr().err
