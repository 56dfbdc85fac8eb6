"""The corruption matrix: every file of the live version and CURRENT, damaged six ways.

Each case must end in one line naming the problem and the command that fixes it (exit code 1,
no traceback, no answer served), a plain `citebot index build` must then re-embed everything
rather than trust the damaged vectors or rows, and the command the message names must fix it. The
files are found at run time (every file of the live version folder, every data file its manifest
lists, the database among them, and CURRENT), so the matrix holds for whatever files the store
writes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import index.cli
from bot.cli import main
from index.build import build_index
from index.engine import Engine
from index.errors import CitebotError
from index.store import CURRENT, VERSIONS, load_manifest, manifest_files, read_current
from tests.conftest import ROOT, TEST_DATA
from tests.fakes import HashEmbedder

EMBEDDER = HashEmbedder()
QUESTION = "How many sailors were rescued?"


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def empty(path: Path) -> None:
    path.write_bytes(b"")


def zero(path: Path) -> None:
    path.write_bytes(bytes(path.stat().st_size))


def flip(path: Path) -> None:
    """One bit flipped in the middle of the file: the quietest damage there is.

    In the database, the middle of a stored text instead: the middle of the file may be free
    space in a page, where a flipped bit changes nothing that is read (and nothing can see it).
    """
    data = bytearray(path.read_bytes())
    at = len(data) // 2
    if data.startswith(b"SQLite format 3\x00"):
        at = data.index(b"19 sailors during the winter") + 5
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def delete(path: Path) -> None:
    path.unlink()


def garbage(path: Path) -> None:
    path.write_bytes(b"\xff\xfe not what was written \x00\x81" * 3)


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncate": truncate,
    "empty": empty,
    "zero": zero,
    "flip": flip,
    "delete": delete,
    "garbage": garbage,
}


def live_files(index_dir: Path) -> list[Path]:
    """Every file of the live version's folder, every data file it uses, and CURRENT."""
    version = index_dir / VERSIONS / str(read_current(index_dir))
    own = sorted(p for p in version.rglob("*") if p.is_file() and not p.is_symlink())
    data = [index_dir / rel for rel in manifest_files(load_manifest(version))]
    assert own and len(data) >= 6, "the live version has too few files"
    return [*own, *data, index_dir / CURRENT]


def kind(path: Path) -> str:
    """A file's name without the version it belongs to (data files carry it)."""
    return re.sub(r"\d{8}T\d{6}-\d{6}-\d+", "<version>", path.name)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_one_line_with_fix(result: Result, what: str) -> str:
    """Exit code 1 by a clean exit, nothing on stdout, one `error:` line naming a build command."""
    assert isinstance(result.exception, SystemExit), f"{what}: {result.exception!r}"
    assert result.exit_code == 1, what
    assert result.stdout == "", f"{what} served: {result.stdout[:200]}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"{what}: {result.stderr}"
    assert lines[0].startswith("error: ") and "Traceback" not in lines[0], f"{what}: {lines[0]}"
    fix = re.findall(r"`(citebot index build[^`]*)`", lines[0])
    assert fix, f"{what}: no command to fix it in {lines[0]!r}"
    return fix[-1]


def assert_answers(index_dir: Path) -> None:
    result = invoke("index", "stats", "--index", str(index_dir))
    assert result.exit_code == 0, result.output
    assert "articles:  7" in result.stdout
    result = invoke("ask", "--index", str(index_dir), "--json", QUESTION)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["answered"] and "19 sailors" in answer["quotes"][0]["text"]


def assert_refused(corpus: Path, index_dir: Path, what: str, name: str) -> str:
    """Every way of opening the damaged index refuses with one line naming the damaged file;
    returns the command it names to fix it."""
    stats = invoke("index", "stats", "--index", str(index_dir))
    fix = assert_one_line_with_fix(stats, what)
    assert name in stats.stderr or (name == CURRENT and "no index in" in stats.stderr), (
        f"{what}: {stats.stderr}"
    )
    assert_one_line_with_fix(invoke("ask", "--index", str(index_dir), QUESTION), what)
    engine = Engine(index_dir, corpus, embedder=EMBEDDER)
    with pytest.raises(CitebotError, match="citebot index build"):
        engine.load()
    return fix


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("pristine")
    corpus = root / "corpus"
    shutil.copytree(TEST_DATA / "corpus", corpus)
    build_index(corpus, root / "idx", EMBEDDER)
    return corpus, root / "idx"


@pytest.fixture(autouse=True)
def _fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index.cli, "embedder_factory", lambda: EMBEDDER)
    monkeypatch.setenv("CITEBOT_ABSTAIN_THRESHOLD", "-10")  # always answer: a served answer shows


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_every_damaged_file_is_one_line_then_a_build_fixes_it(
    pristine: tuple[Path, Path], tmp_path: Path, how: str
) -> None:
    corpus, source = pristine
    for position in range(len(live_files(source))):
        index_dir = tmp_path / f"idx{position}"
        shutil.copytree(source, index_dir, symlinks=True)
        target = live_files(index_dir)[position]
        what = f"{how} {target.name}"
        DAMAGE[how](target)
        fix = assert_refused(corpus, index_dir, what, target.name)

        build = invoke("index", "build", "--corpus", str(corpus), "--index", str(index_dir))
        assert build.exit_code == 0, f"{what}: {build.output}"
        counts = re.search(r"(\d+) passages: .* embedded (\d+) passages", build.stdout)
        assert counts, f"{what}: {build.stdout}"
        assert counts[1] == counts[2], f"{what}: vectors reused: {build.stdout}"
        assert_answers(index_dir)

        again = live_files(index_dir)[position]  # the same file of the new version
        assert kind(again) == kind(target), f"{what}: now {again.name}"
        DAMAGE[how](again)
        assert_refused(corpus, index_dir, what, again.name)
        args = [*fix.split()[1:], "--corpus", str(corpus), "--index", str(index_dir)]
        result = invoke(*args)
        assert result.exit_code == 0, f"{what}: `{fix}` failed: {result.output}"
        assert_answers(index_dir)


# `citebot` in its own process, with the hash embedder put in at the CLI's seam.
CITEBOT = (
    "import sys, index.cli; from tests.fakes import HashEmbedder; "
    "index.cli.embedder_factory = HashEmbedder; from bot.cli import main; main()"
)


def citebot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CITEBOT, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_real_process_prints_one_line_and_no_traceback(
    pristine: tuple[Path, Path], tmp_path: Path
) -> None:
    """What a person sees: nothing from a library or the interpreter beyond the one line."""
    corpus, source = pristine
    index_dir = tmp_path / "idx"
    shutil.copytree(source, index_dir, symlinks=True)
    empty(next(p for p in live_files(index_dir) if p.suffix == ".npy"))
    result = citebot("ask", "--index", str(index_dir), QUESTION)
    assert (result.returncode, result.stdout) == (1, "")
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ") and "--rebuild`" in result.stderr
    garbage(index_dir / CURRENT)
    result = citebot(
        "index", "build", "--rebuild", "--corpus", str(corpus), "--index", str(index_dir)
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "7 articles" in result.stdout
