"""Lexical search and phrase checks on an index past its posting budgets.

The budgets only bite on indexes of tens of thousands of passages; here they are lowered so
that small test corpora are past them, and the results are checked against the exact ones.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

import index.answer
import index.store
from index.answer import Answerer
from index.build import build_index
from index.store import IndexStore
from tests.fakes import HashEmbedder
from tests.index.answer_helpers import build_test_index, open_answerer

EMBEDDER = HashEmbedder()
ARTICLES = 40
BEACONS = 5  # articles that name a beacon; every article names the harbour


def harbour_notes(folder: Path) -> Path:
    """Forty short articles, each its own passage, holding "harbour" a varying number of
    times; the best-scoring ones come first, so they are the passages added first."""
    folder.mkdir()
    for n in range(ARTICLES):
        tides = " ".join(["harbour"] * (1 + (ARTICLES - n) // 8))
        beacon = " A beacon was lit." if n % (ARTICLES // BEACONS) == 0 else ""
        text = f"Harbour notes {n}\n\nThe {tides} flooded at dawn.{beacon} The mill kept working."
        (folder / f"note{n:02d}.txt").write_text(text + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_test_index(tmp_path_factory.mktemp("large"), EMBEDDER)


@pytest.fixture(scope="module")
def notes_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("notes")
    build_index(harbour_notes(tmp / "corpus"), tmp / "index", EMBEDDER)
    return tmp / "index"


@pytest.fixture
def store(index_dir: Path) -> Iterator[IndexStore]:
    opened = IndexStore.open(index_dir, EMBEDDER.name, EMBEDDER.dimension)
    yield opened
    opened.close()


@pytest.fixture
def notes(notes_dir: Path) -> Iterator[IndexStore]:
    opened = IndexStore.open(notes_dir, EMBEDDER.name, EMBEDDER.dimension)
    assert opened.passage_count() == ARTICLES
    yield opened
    opened.close()


@pytest.fixture
def answerer(index_dir: Path) -> Iterator[Answerer]:
    opened = open_answerer(index_dir, EMBEDDER)
    yield opened
    opened.close()


def every_hit(store: IndexStore, match: str) -> list[tuple[int, float]]:
    return store.lexical_search(match, 10_000)


@pytest.mark.parametrize(
    ("match", "found"),
    [
        ('"halden point"', True),
        ('"point halden"', False),  # both words are there, never in this order
        ('"lighthouse"', True),
        ('"zzzunknown"', False),
        ('"the" OR "zzzunknown"', True),
    ],
)
def test_lexical_any_is_whether_a_ranked_search_finds_anything(
    store: IndexStore, match: str, found: bool
) -> None:
    assert store.lexical_any(match) is found
    assert bool(store.lexical_search(match, 1)) is found


def test_lexical_any_refuses_a_malformed_expression(store: IndexStore) -> None:
    with pytest.raises(sqlite3.OperationalError):
        store.lexical_any('"unterminated')


def test_a_word_past_the_budget_is_ranked_among_the_passages_last_added(
    notes: IndexStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = every_hit(notes, '"harbour"')
    budget = 10
    assert len(full) == ARTICLES
    monkeypatch.setattr(index.store, "LEXICAL_POSTINGS", budget)
    assert notes.lexical_search('"harbour"', 5) == full[:5]  # a small index ranks them all
    monkeypatch.setattr(index.store, "LARGE_INDEX", 1)
    last_added = sorted(full, key=lambda hit: -hit[0])[:budget]
    got = notes.lexical_search('"harbour"', 50)
    assert sorted(got) == sorted(last_added)  # with the scores of the full ranking
    assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
    assert full[0] not in got
    assert notes.lexical_search('"harbour"', 3) == got[:3]


def test_the_budget_keeps_the_rarest_word_before_it_windows_it(
    notes: IndexStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    both = '"harbour" OR "beacon"'
    beacons = every_hit(notes, '"beacon"')
    assert len(beacons) == BEACONS
    monkeypatch.setattr(index.store, "LARGE_INDEX", 1)
    monkeypatch.setattr(index.store, "LEXICAL_POSTINGS", BEACONS)
    assert notes.lexical_search(both, 50) == beacons  # within the budget: exact
    monkeypatch.setattr(index.store, "LEXICAL_POSTINGS", BEACONS - 1)
    got = notes.lexical_search(both, 50)
    last_added = sorted(beacons, key=lambda hit: -hit[0])[: BEACONS - 1]
    assert sorted(got) == sorted(last_added)


QUESTION = "When was the lighthouse at Point Halden built?"


def test_a_phrase_in_no_passage_is_unknown_at_any_budget_it_fits(
    answerer: Answerer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert answerer._unknown_phrase(QUESTION) == 1.0
    assert answerer._unknown_phrase("When was the lighthouse at Halden Point built?") == 0.0
    monkeypatch.setattr(index.answer, "PHRASE_POSTINGS", 1)
    assert answerer._passage_total > 1
    assert min(answerer.store.doc_freq(["point", "halden"]).values()) == 1
    assert answerer._unknown_phrase(QUESTION) == 1.0  # its rarest word is within the budget
    assert answerer._unknown_phrase("Where is Point Zzyzx?") == 1.0


def test_a_phrase_of_words_past_the_budget_counts_as_found(
    answerer: Answerer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index.answer, "PHRASE_POSTINGS", 0)
    assert answerer._unknown_phrase(QUESTION) == 0.0
    assert answerer._unknown_phrase("Where is Point Zzyzx?") == 1.0  # a word no passage holds
    evidence = answerer.gather(QUESTION)
    assert evidence.facts.phrase == 0.0 and evidence.sentences
