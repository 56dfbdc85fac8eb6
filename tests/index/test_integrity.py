"""The index checks itself, builds from any state of its folder, leaves no leftovers, and
writes files no one else can change."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import index.cli
from index import integrity
from index.build import build_index
from index.errors import ConfigError, IndexCorruptError, IndexMismatchError
from index.store import (
    CURRENT,
    DATA,
    MANIFEST,
    PARTIAL_SUFFIX,
    VERSIONS,
    IndexStore,
    load_manifest,
    manifest_files,
    read_current,
)
from index.store_writer import clean_partial_versions
from tests.conftest import TEST_DATA
from tests.fakes import HashEmbedder

EMBEDDER = HashEmbedder()


@pytest.fixture(autouse=True)
def _fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index.cli, "embedder_factory", lambda: EMBEDDER)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(TEST_DATA / "corpus", target)
    return target


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("pristine") / "idx"
    build_index(TEST_DATA / "corpus", index_dir, EMBEDDER)
    return index_dir


@pytest.fixture
def built(pristine: Path, tmp_path: Path) -> Path:
    """A fresh copy of an index of the test corpus (copied: a build costs more)."""
    shutil.copytree(pristine, tmp_path / "idx", symlinks=True)
    return tmp_path / "idx"


def live(index_dir: Path) -> Path:
    return index_dir / VERSIONS / str(read_current(index_dir))


def used_files(index_dir: Path) -> list[Path]:
    """The data files the live version reads, the database first."""
    return [index_dir / rel for rel in manifest_files(load_manifest(live(index_dir)))]


def passage_vectors(index_dir: Path) -> Path:
    return next(p for p in used_files(index_dir) if p.suffix == ".f32")


def database(index_dir: Path) -> Path:
    return used_files(index_dir)[0]


def open_store(index_dir: Path, full_check: bool | None = None) -> IndexStore:
    return IndexStore.open(index_dir, EMBEDDER.name, EMBEDDER.dimension, full_check=full_check)


def flip_bit(path: Path, at: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2 if at is None else at] ^= 0x01
    path.write_bytes(bytes(data))


def edit_manifest(version: Path, reseal: bool, **fields: object) -> None:
    manifest = json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    manifest.update(fields)
    if reseal:
        names = manifest[integrity.CHECKSUMS]["files"]
        manifest = integrity.seal(manifest, version.parent.parent, names)
    (version / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


# Checksums


def test_the_manifest_records_every_file_the_version_reads_but_the_database(
    built: Path,
) -> None:
    version = live(built)
    manifest = json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    files = manifest[integrity.CHECKSUMS]["files"]
    on_disk = {f"{DATA}/{p.name}" for p in (built / DATA).iterdir()}
    assert set(files) == on_disk - {manifest["database"]}
    assert len(files) >= 5  # passage and sentence vectors and ids, the dense index
    for name, entry in files.items():
        assert entry["size"] == (built / name).stat().st_size
        assert entry["hash"] == integrity.file_digest(built / name)


def test_an_incremental_build_seals_its_new_files_and_carries_the_reused_ones(
    corpus: Path, built: Path
) -> None:
    before = load_manifest(live(built))[integrity.CHECKSUMS]["files"]
    (corpus / "lighthouse.txt").write_text("A new lighthouse article.", encoding="utf-8")
    report = build_index(corpus, built, EMBEDDER)
    assert report.updated == 1 and report.embedded < report.passages
    after = load_manifest(live(built))[integrity.CHECKSUMS]["files"]
    new = set(after) - set(before)
    assert new and all(before[name] == after[name] for name in set(after) & set(before))
    for name, entry in after.items():
        assert entry["hash"] == integrity.file_digest(built / name)
    with open_store(built, full_check=True) as store:
        assert store.article("lighthouse.txt") is not None


def test_a_flipped_bit_in_the_vectors_is_not_reused_and_not_left_live(
    corpus: Path, built: Path, caplog: pytest.LogCaptureFixture
) -> None:
    damaged = live(built)
    target = passage_vectors(built)
    flip_bit(target)  # a float in the middle: the file still loads
    with pytest.raises(IndexCorruptError, match=rf"{target.name} does not match"):
        open_store(built)
    embedder = HashEmbedder()
    report = build_index(corpus, built, embedder)
    assert report.unchanged == 0 and report.embedded == report.passages
    # The build names the damage and says what it does about it; it does not ask for the
    # rebuild it is already doing.
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert target.name in warning and warning.endswith("embedding every article afresh")
    assert "--rebuild" not in warning
    assert live(built) != damaged
    with open_store(built, full_check=True) as store:
        assert store.article_count() == 7


def test_an_edited_manifest_is_caught_by_its_own_checksum(built: Path) -> None:
    edit_manifest(live(built), reseal=False, dimension=65)
    with pytest.raises(IndexCorruptError, match=r"manifest.json does not match its checksum"):
        open_store(built)


@pytest.mark.parametrize(
    ("field", "value"),
    [("dimension", "abc"), ("dimension", True), ("model", 7), ("counts", {"passages": "x"})],
)
def test_manifest_fields_of_the_wrong_type_are_one_line(
    built: Path, field: str, value: object
) -> None:
    edit_manifest(live(built), reseal=True, **{field: value})
    with pytest.raises(IndexCorruptError, match=f'"{field}" is .*--rebuild') as caught:
        open_store(built)
    assert "\n" not in str(caught.value)


def test_a_manifest_listing_a_path_outside_the_version_is_refused(built: Path) -> None:
    version = live(built)
    manifest = json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    manifest[integrity.CHECKSUMS]["files"]["../../CURRENT"] = {"size": 1, "hash": "0"}
    manifest[integrity.MANIFEST_CHECKSUM] = integrity.manifest_digest(manifest)
    (version / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="bad entry"):
        open_store(built)


def test_an_index_without_checksums_asks_for_a_rebuild(corpus: Path, built: Path) -> None:
    version = live(built)
    manifest = json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    del manifest[integrity.CHECKSUMS], manifest[integrity.MANIFEST_CHECKSUM]
    (version / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match=r"without checksums.*--rebuild"):
        open_store(built)
    report = build_index(corpus, built, EMBEDDER)
    assert report.embedded == report.passages
    open_store(built).close()


def test_above_the_budget_open_checks_sizes_and_the_build_still_hashes(
    corpus: Path, built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(integrity, "FULL_CHECK_ON_OPEN_BYTES", 0)
    target = passage_vectors(built)
    flip_bit(target)
    open_store(built).close()  # the known limit of a sizes-only check on open
    with pytest.raises(IndexCorruptError, match="does not match its checksum"):
        open_store(built, full_check=True)
    code = CliRunner().invoke(index.cli.index_group, ["verify", "--index", str(built)])
    assert code.exit_code == 1 and f"{target.name} does not match" in code.stderr
    report = build_index(corpus, built, EMBEDDER)
    assert report.embedded == report.passages
    truncated = passage_vectors(built)
    truncated.write_bytes(truncated.read_bytes()[:-4])
    with pytest.raises(IndexCorruptError, match=rf"{truncated.name} is .* bytes"):
        open_store(built)


# The database: it changes in place, so SQLite's own checks and the rows' offsets guard it


def phrase_offsets(path: Path, phrase: bytes) -> list[int]:
    data, found, at = path.read_bytes(), [], 0
    while (at := data.find(phrase, at)) >= 0:
        found.append(at)
        at += 1
    return found


def test_a_flipped_bit_in_any_copy_of_a_stored_text_is_refused_and_not_reused(
    pristine: Path, corpus: Path, tmp_path: Path
) -> None:
    """The article row, the passage row and the full-text index's copy: each is caught by the
    rows check or FTS5's integrity-check, and a build starts a fresh database."""
    phrase = b"quarried on the island"
    offsets = phrase_offsets(database(pristine), phrase)
    assert len(offsets) >= 3, offsets
    for n, at in enumerate(offsets):
        index_dir = tmp_path / f"idx{n}"
        shutil.copytree(pristine, index_dir, symlinks=True)
        old_db = database(index_dir)
        flip_bit(old_db, at + 3)  # "q" + 3 = "r" -> "s": the page still parses
        with pytest.raises(IndexCorruptError, match=rf"{old_db.name}.*--rebuild") as caught:
            open_store(index_dir)
        assert "\n" not in str(caught.value)
        report = build_index(corpus, index_dir, EMBEDDER)
        assert report.unchanged == 0 and report.embedded == report.passages, n
        assert database(index_dir) != old_db
        with open_store(index_dir, full_check=True) as store:
            article = store.article("lighthouse.txt")
            assert article is not None and phrase.decode() in article.text


@pytest.mark.parametrize(
    "damage",
    [
        "DROP TABLE sentences",
        "DELETE FROM state",
        "UPDATE state SET value = '../../x' WHERE key = 'version'",
        'UPDATE sentences SET "end" = 10000000 WHERE id = 3',
        "UPDATE passages SET text = 'x' || text WHERE id = 2",
    ],
)
def test_a_database_that_parses_but_is_wrong_is_one_line(built: Path, damage: str) -> None:
    db = sqlite3.connect(database(built))
    db.execute(damage)
    db.commit()
    db.close()
    with pytest.raises(IndexCorruptError, match=r"--rebuild`$") as caught:
        open_store(built)
    assert "\n" not in str(caught.value)


def break_btree(path: Path, table: str) -> None:
    """Spoil the page type of a table's root page: SQLite can no longer read the table."""
    db = sqlite3.connect(path)
    root = int(
        db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    )
    page_size = int(db.execute("PRAGMA page_size").fetchone()[0])
    db.close()
    flip_bit(path, (root - 1) * page_size + (100 if root == 1 else 0))


def _edit_a_passage(index_dir: Path) -> None:
    db = sqlite3.connect(database(index_dir))
    db.execute("UPDATE passages SET text = 'x' || text WHERE id = 2")
    db.commit()
    db.close()


def test_above_its_budget_open_checks_the_schema_and_a_build_still_checks_all(
    corpus: Path, built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(integrity, "FULL_DB_CHECK_ON_OPEN_BYTES", 0)
    _edit_a_passage(built)
    open_store(built).close()  # the known limit of the cheap check on open
    code = CliRunner().invoke(index.cli.index_group, ["verify", "--index", str(built)])
    assert code.exit_code == 1 and "differs from its article" in code.stderr
    report = build_index(corpus, built, EMBEDDER)
    assert report.embedded == report.passages
    open_store(built, full_check=True).close()


def test_above_the_build_budget_a_build_still_runs_quick_check(
    corpus: Path, built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(integrity, "FULL_DB_CHECK_ON_OPEN_BYTES", 0)
    monkeypatch.setattr(integrity, "FULL_DB_CHECK_ON_BUILD_BYTES", 0)
    _edit_a_passage(built)
    report = build_index(corpus, built, EMBEDDER)  # rows that parse are the known limit
    assert report.embedded == 0
    code = CliRunner().invoke(index.cli.index_group, ["verify", "--index", str(built)])
    assert code.exit_code == 1 and "differs from its article" in code.stderr
    break_btree(database(built), "articles")  # quick_check sees it
    with pytest.raises(IndexCorruptError, match="malformed"):
        open_store(built, full_check=True)
    report = build_index(corpus, built, EMBEDDER)
    assert report.embedded == report.passages
    open_store(built, full_check=True).close()


def test_damage_met_while_serving_is_one_line(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the open budget a damaged page is found only when a query reads it."""
    monkeypatch.setattr(integrity, "FULL_DB_CHECK_ON_OPEN_BYTES", 0)
    break_btree(database(built), "articles")  # opening reads the state and counts, not this
    with (
        open_store(built) as store,
        pytest.raises(IndexCorruptError, match=r"malformed; rebuild it with") as caught,
    ):
        for article in store.articles():
            store.article(article.id)
            store.article_passages(article.id)
            store.article_sentences(article.id)
    assert "\n" not in str(caught.value)


# Data files no version needs


def test_a_build_keeps_only_the_data_files_of_the_live_version_and_the_one_it_replaced(
    corpus: Path, built: Path
) -> None:
    old = open_store(built)  # a server still answering from the first version
    question = old.passage_vectors([0])
    (built / DATA / "stray.bin").write_bytes(b"x")
    (built / DATA / "stray-folder").mkdir()
    for n in range(3):
        (corpus / "lighthouse.txt").write_text(f"Lighthouse, edition {n}.", encoding="utf-8")
        build_index(corpus, built, EMBEDDER)
    versions = sorted(p.name for p in (built / VERSIONS).iterdir())
    assert len(versions) == 2 and versions[-1] == read_current(built)
    used = {
        rel for name in versions for rel in manifest_files(load_manifest(built / VERSIONS / name))
    }
    on_disk = {f"{DATA}/{p.name}" for p in (built / DATA).iterdir()}
    assert on_disk - used <= {f"{rel}-wal" for rel in used} | {f"{rel}-shm" for rel in used}
    assert used <= on_disk
    # The first version's files are gone from the folder; the store that has them open reads on.
    assert old.article("lighthouse.txt") is not None
    assert old.dense_search(question[0], 3)[0][0] == 0
    old.close()
    with open_store(built, full_check=True) as store:
        article = store.article("lighthouse.txt")
        assert article is not None and "edition 2" in article.text


def test_verify_reads_every_file_and_says_so(built: Path) -> None:
    result = CliRunner().invoke(index.cli.index_group, ["verify", "--index", str(built)])
    assert result.exit_code == 0, result.output
    files = len(used_files(built)) + 1  # and the manifest
    assert f"{files} files" in result.stdout and "no damage found" in result.stdout


# CURRENT and the state of the index folder


@pytest.mark.parametrize(
    "raw", [b"", b"\n", b"\xff\xfe\x00", b"../../etc", b"a/b", b"x" * 5000, b"\x00" * 29]
)
def test_a_damaged_current_is_one_line_when_opening(built: Path, raw: bytes) -> None:
    (built / CURRENT).write_bytes(raw)
    with pytest.raises(IndexCorruptError, match=r"CURRENT is .*--rebuild") as caught:
        open_store(built)
    assert "\n" not in str(caught.value)
    assert read_current(built) is None  # a build starts afresh from it


def _garbage_current(index_dir: Path) -> None:
    (index_dir / CURRENT).write_bytes(b"\xff\xfe garbage \x00")


def _current_is_a_folder(index_dir: Path) -> None:
    (index_dir / CURRENT).unlink()
    (index_dir / CURRENT).mkdir()
    (index_dir / CURRENT / "x").write_text("x")


def _current_names_a_missing_version(index_dir: Path) -> None:
    (index_dir / CURRENT).write_text("20991231T000000-000000-1\n")


def _no_versions_folder(index_dir: Path) -> None:
    shutil.rmtree(index_dir / VERSIONS)


def _versions_is_a_file(index_dir: Path) -> None:
    shutil.rmtree(index_dir / VERSIONS)
    (index_dir / VERSIONS).write_text("not a folder")


def _stray_files(index_dir: Path) -> None:
    (index_dir / "notes.txt").write_text("stray")
    (index_dir / VERSIONS / "stray.bin").write_bytes(b"\x00\x01")
    (index_dir / VERSIONS / ("x" + PARTIAL_SUFFIX)).write_bytes(b"half")
    (index_dir / (CURRENT + ".tmp")).mkdir()
    os.symlink("/nonexistent", index_dir / VERSIONS / "dangling")


def _everything_but_the_lock_gone(index_dir: Path) -> None:
    for child in index_dir.iterdir():
        if child.name != "build.lock":
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def _garbage_database(index_dir: Path) -> None:
    database(index_dir).write_bytes(b"\xff\xfe garbage \x00" * 100)


def _data_files_missing(index_dir: Path) -> None:
    for path in used_files(index_dir)[1:]:
        path.unlink()


def _data_is_a_file(index_dir: Path) -> None:
    shutil.rmtree(index_dir / DATA)
    (index_dir / DATA).write_text("not a folder")


def _stray_data(index_dir: Path) -> None:
    (index_dir / DATA / "db-x.sqlite").mkdir()
    (index_dir / DATA / "notes.txt").write_text("stray")
    os.symlink("/nonexistent", index_dir / DATA / "dangling")


def _lock_is_a_folder(index_dir: Path) -> None:
    (index_dir / "build.lock").unlink()
    (index_dir / "build.lock").mkdir()


STATES = [
    _lock_is_a_folder,
    _garbage_current,
    _current_is_a_folder,
    _current_names_a_missing_version,
    _no_versions_folder,
    _versions_is_a_file,
    _stray_files,
    _everything_but_the_lock_gone,
    _garbage_database,
    _data_files_missing,
    _data_is_a_file,
    _stray_data,
]


@pytest.mark.parametrize("state", STATES, ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("rebuild", [True, False], ids=["rebuild", "build"])
def test_a_build_works_from_any_state_of_the_index_folder(
    corpus: Path, built: Path, state: object, rebuild: bool
) -> None:
    state(built)  # type: ignore[operator]
    report = build_index(corpus, built, EMBEDDER, rebuild=rebuild)
    assert report.articles == 7
    with open_store(built, full_check=True) as store:
        assert store.article("lighthouse.txt") is not None


def test_an_index_path_that_is_a_file_is_refused_and_left_alone(
    corpus: Path, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("mine")
    with pytest.raises(ConfigError, match="is not a folder"):
        build_index(corpus, path, EMBEDDER)
    assert path.read_text() == "mine"


# Leftovers


def test_a_build_with_nothing_to_do_still_clears_leftovers(corpus: Path, built: Path) -> None:
    """What a kill just past the switch leaves: older versions, one never switched, a partial."""
    versions = built / VERSIONS
    live_name = str(read_current(built))
    for name in ("20000101T000000-000000-1", "20000102T000000-000000-1", "29991231T0-0-1"):
        shutil.copytree(versions / live_name, versions / name, symlinks=True)
    (versions / ("29991231T1-0-1" + PARTIAL_SUFFIX)).mkdir()
    (built / (CURRENT + ".tmp")).write_text("29991231T0-0-1\n")
    calls = EMBEDDER.calls
    report = build_index(corpus, built, EMBEDDER)
    assert report.embedded == 0 and EMBEDDER.calls == calls
    assert read_current(built) == live_name
    assert sorted(p.name for p in versions.iterdir()) == ["20000102T000000-000000-1", live_name]
    assert not (built / (CURRENT + ".tmp")).exists()


def test_with_no_readable_live_version_no_complete_version_is_removed(built: Path) -> None:
    versions = built / VERSIONS
    shutil.copytree(live(built), versions / "20000101T000000-000000-1", symlinks=True)
    (built / CURRENT).write_bytes(b"\xff")
    data = sorted((built / DATA).iterdir())
    assert clean_partial_versions(built) == []
    assert len(list(versions.iterdir())) == 2 and sorted((built / DATA).iterdir()) == data


# File modes


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def modes_under(root: Path) -> dict[str, int]:
    """Modes of every file and folder; symlinks have none of their own on Linux."""
    paths = [p for p in [root, *root.rglob("*")] if not p.is_symlink()]
    return {str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode) for p in paths}


@pytest.mark.parametrize(
    ("mask", "file_mode", "dir_mode"),
    [(0o000, 0o644, 0o755), (0o077, 0o600, 0o700)],
    ids=["umask-000", "umask-077"],
)
def test_everything_a_build_writes_has_sane_modes_whatever_the_umask(
    corpus: Path, tmp_path: Path, umask: None, mask: int, file_mode: int, dir_mode: int
) -> None:
    os.umask(mask)
    index_dir = tmp_path / "new" / "idx"
    build_index(corpus, index_dir, EMBEDDER)
    (corpus / "lighthouse.txt").write_text("A new lighthouse article.", encoding="utf-8")
    build_index(corpus, index_dir, EMBEDDER)
    build_index(corpus, index_dir, EMBEDDER)
    with open_store(index_dir):  # a reader: SQLite's -wal and -shm files beside the database
        modes = modes_under(tmp_path / "new")
    assert len(modes) > 10
    assert any(name.endswith("-wal") for name in modes) and any(n.endswith("-shm") for n in modes)
    for name, mode in modes.items():
        expected = dir_mode if (tmp_path / "new" / name).is_dir() else file_mode
        assert mode == expected, f"{name} is {mode:o}, expected {expected:o}"


def test_the_file_helpers_keep_sane_modes_under_umask_zero(tmp_path: Path, umask: None) -> None:
    os.umask(0)
    folder = tmp_path / "a" / "b"
    integrity.make_dirs(folder)
    target = folder / "article.md"
    integrity.write_bytes_atomic(target, b"# Title\n\ntext")
    target.chmod(0o666)
    integrity.write_bytes_atomic(target, b"# Title\n\nnew text")  # replaced, not reused
    assert target.read_bytes() == b"# Title\n\nnew text"
    assert modes_under(tmp_path / "a") == {".": 0o755, "b": 0o755, "b/article.md": 0o644}
    private = tmp_path / "p"
    integrity.make_dirs(private, private=True)
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    with pytest.raises(FileExistsError):
        integrity.make_dirs(private, private=True)
