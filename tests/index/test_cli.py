import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import index.cli
from index.cli import index_group
from tests.conftest import ROOT, TEST_DATA
from tests.fakes import HashEmbedder

BUILD_KEYS = {
    "added",
    "updated",
    "removed",
    "unchanged",
    "failed",
    "articles",
    "passages",
    "embedded",
    "seconds",
    "passages_per_second",
    "failures",
}
PASSAGE_KEYS = {"text", "article_id", "title", "path", "start", "end", "score"}


@pytest.fixture(autouse=True)
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = HashEmbedder()
    monkeypatch.setattr(index.cli, "embedder_factory", lambda: embedder)


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus"
    shutil.copytree(TEST_DATA / "corpus", corpus)
    return corpus, tmp_path / "idx"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(index_group, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_build_json_summary(dirs: tuple[Path, Path]) -> None:
    corpus, idx = dirs
    code, out, _ = run("build", "--corpus", str(corpus), "--index", str(idx), "--json")
    assert code == 0
    summary = json.loads(out)
    assert set(summary) == BUILD_KEYS
    assert summary["added"] == summary["articles"] == 7
    assert summary["embedded"] == summary["passages"] > 0
    assert {f["path"] for f in summary["failures"]} == {
        "news/briefs.jsonl:3",
        "news/briefs.jsonl:4",
    }
    assert all(set(f) == {"path", "reason"} for f in summary["failures"])
    code, out, _ = run("build", "--corpus", str(corpus), "--index", str(idx), "--json")
    assert json.loads(out)["embedded"] == 0
    code, out, _ = run("build", "--corpus", str(corpus), "--index", str(idx), "--rebuild", "--json")
    assert json.loads(out)["embedded"] == summary["passages"]


def test_build_prints_one_summary_line_and_skipped_files(dirs: tuple[Path, Path]) -> None:
    corpus, idx = dirs
    code, out, err = run("build", "--corpus", str(corpus), "--index", str(idx))
    assert code == 0
    assert len(out.strip().splitlines()) == 1 and "passages/s" in out and "7 added" in out
    assert "skipped news/briefs.jsonl:3: not valid JSON" in err
    assert "2 skipped;" in out
    code, out, err = run("build", "--corpus", str(corpus), "--index", str(idx))
    assert code == 0 and "7 unchanged" in out and "embedded 0 passages" in out
    assert "passages/s" not in out  # no rate of nothing


class _InterruptedEmbedder(HashEmbedder):
    """Ctrl-C arrives while the build embeds."""

    def embed(self, *args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt


def test_an_interrupted_build_is_one_line_and_leaves_the_index_serving(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, idx = dirs
    run("build", "--corpus", str(corpus), "--index", str(idx))
    (corpus / "new.txt").write_text("A new article about the harbour bridge.", encoding="utf-8")
    monkeypatch.setattr(index.cli, "embedder_factory", lambda: _InterruptedEmbedder())
    code, out, err = run("build", "--corpus", str(corpus), "--index", str(idx))
    assert code == 130 and out == ""
    assert err.startswith("interrupted: ") and len(err.strip().splitlines()) == 1
    code, out, _ = run("stats", "--index", str(idx))
    assert code == 0 and "articles:  7" in out


def test_defaults_come_from_the_environment(dirs: tuple[Path, Path]) -> None:
    corpus, _ = dirs
    shutil.copytree(corpus, os.environ["CITEBOT_CORPUS_DIR"])
    code, out, _ = run("build", "--json")
    assert code == 0 and json.loads(out)["articles"] == 7
    assert (Path(os.environ["CITEBOT_INDEX_DIR"]) / "CURRENT").is_file()


def test_stats(dirs: tuple[Path, Path]) -> None:
    corpus, idx = dirs
    run("build", "--corpus", str(corpus), "--index", str(idx))
    code, out, _ = run("stats", "--index", str(idx))
    assert code == 0
    fields = dict(line.split(":", 1) for line in out.strip().splitlines())
    assert fields["articles"].strip() == "7"
    assert int(fields["passages"]) > 0
    assert "test/hash-embedder" in fields["model"]
    assert fields["built"].strip().startswith("20")
    assert fields["size"].strip().endswith(("KB", "MB"))


def test_search_json(dirs: tuple[Path, Path]) -> None:
    corpus, idx = dirs
    run("build", "--corpus", str(corpus), "--index", str(idx))
    query = "The new suspension bridge over the Orrin river"
    code, out, _ = run("search", query, "--index", str(idx), "--k", "3", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["query"] == query and len(result["passages"]) == 3
    assert all(set(p) == PASSAGE_KEYS for p in result["passages"])
    top = result["passages"][0]
    assert (top["article_id"], top["path"]) == ("news/bridge.md", "news/bridge.md")
    text = (corpus / "news" / "bridge.md").read_text()
    assert top["text"] in text and top["end"] - top["start"] == len(top["text"])


def test_search_prints_passages_for_a_person(dirs: tuple[Path, Path]) -> None:
    corpus, idx = dirs
    run("build", "--corpus", str(corpus), "--index", str(idx))
    code, out, _ = run("search", "apple orchards of Wendel cider", "--index", str(idx))
    assert code == 0
    assert out.startswith("1. The apple orchards of Wendel")
    assert "news/orchard.md" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("stats",), "citebot index build"),
        (("search", "anything"), "citebot index build"),
        (("build", "--corpus", "/nonexistent/corpus"), "does not exist"),
    ],
)
def test_errors_are_one_line_and_exit_1(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    code, out, err = run(*args, "--index", str(tmp_path / "none"))
    assert code == 1
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert needle in err and "Traceback" not in err + out
    if needle == "citebot index build":
        assert f"`citebot index build --index {tmp_path / 'none'}`" in err


def test_a_mismatched_index_says_to_rebuild(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, idx = dirs
    run("build", "--corpus", str(corpus), "--index", str(idx))
    other = HashEmbedder(dimension=16, name="test/other")
    monkeypatch.setattr(index.cli, "embedder_factory", lambda: other)
    code, _, err = run("search", "bridge", "--index", str(idx))
    # The fix names the folder given, or it would rebuild the default index instead.
    assert code == 1 and f"`citebot index build --index {idx} --rebuild`" in err
    code, out, _ = run("stats", "--index", str(idx))
    assert code == 0 and "test/hash-embedder" in out, "stats reads the manifest, not the model"


def test_stats_loads_no_model(dirs: tuple[Path, Path]) -> None:
    corpus, idx = dirs
    run("build", "--corpus", str(corpus), "--index", str(idx))
    script = (
        "import sys\n"
        "from bot.cli import main\n"
        "try:\n"
        f"    main(['index', 'stats', '--index', {str(idx)!r}])\n"
        "except SystemExit as stop:\n"
        "    assert not stop.code, stop.code\n"
        "heavy = ('torch', 'sentence_transformers')\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "articles:  7" in done.stdout
    assert "LOADED []" in done.stdout
