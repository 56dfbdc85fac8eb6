"""A corpus of hostile files: links out, loops, FIFOs, devices, sockets, alias bombs, deep nesting.

Each read runs in a child process with a timeout and a memory guard, so a regression (a FIFO
that blocks, an alias bomb that grows) fails the test instead of hanging the suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.index.hostile import (
    EXPECTED_ARTICLES,
    EXPECTED_FAILURES,
    GOOD_RECORDS,
    OUTSIDE_MARKER,
)

TIMEOUT = 300  # generous: a healthy run takes a few seconds even on a busy machine


def run_hostile(command: str, folder: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [sys.executable, "-m", "tests.index.hostile", command, str(folder)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{command}` over the hostile corpus did not finish in {TIMEOUT} s")


def expected_failures(folder: Path) -> dict[str, str]:
    expected = dict(EXPECTED_FAILURES)
    if (folder / "corpus" / "null.txt").exists():
        expected["null.txt"] = "character device"
    return expected


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("hostile")
    result = run_hostile("read", folder)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    found = json.loads(result.stdout)
    return {
        "articles": found["articles"],
        "failures": {path: reason for path, reason in found["failures"]},
        "failure_list": found["failures"],
        "expected": expected_failures(folder),
    }


def test_every_hostile_file_is_one_failure_and_the_good_ones_load(hostile: dict) -> None:
    assert sorted(hostile["articles"]) == sorted(EXPECTED_ARTICLES)
    assert sorted(path for path, _ in hostile["failure_list"]) == sorted(hostile["expected"])


@pytest.mark.parametrize("path", [*sorted(EXPECTED_FAILURES), "null.txt"])
def test_each_hostile_file_names_its_reason(hostile: dict, path: str) -> None:
    if path not in hostile["expected"]:
        pytest.skip("creating a device node needs privileges")
    reason = hostile["failures"][path]
    assert hostile["expected"][path] in reason
    assert "\n" not in reason and len(reason) <= 300


def test_nothing_outside_the_corpus_is_read(hostile: dict) -> None:
    texts = "\n".join(hostile["articles"].values())
    assert OUTSIDE_MARKER not in texts
    assert "root:" not in texts and "/bin/" not in texts


def test_a_link_inside_the_corpus_is_followed(hostile: dict) -> None:
    assert hostile["articles"]["notes.txt"] == "Draft notes kept in a hidden folder."


def test_every_good_jsonl_record_is_kept_beside_the_bad_ones(hostile: dict) -> None:
    for record in GOOD_RECORDS.values():
        assert hostile["articles"][f"mixed.jsonl#{record['id']}"] == record["text"]


def test_deep_markdown_is_an_article(hostile: dict) -> None:
    text = hostile["articles"]["deep_body.md"]
    assert "A quote 5,000 levels deep." in text and text.endswith("The end.")


def test_a_build_over_the_hostile_corpus_ends_with_one_line_per_failure(tmp_path: Path) -> None:
    result = run_hostile("build", tmp_path)
    peak = int(result.stdout.strip().rsplit("peak_rss_mb=", 1)[1])
    print(f"peak memory of a build over the hostile corpus: {peak} MB")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    expected = expected_failures(tmp_path)
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == len(expected), result.stderr
    assert result.stderr.count("\n") == len(skipped), result.stderr
    summary = result.stdout.splitlines()[0]
    assert f"{len(expected)} skipped" in summary  # the word of the lines above it
    assert f"{len(EXPECTED_ARTICLES)} articles" in summary
    for path in (tmp_path / "index").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert OUTSIDE_MARKER.encode() not in data and b"root:x:0:0" not in data
    assert peak <= 1024
