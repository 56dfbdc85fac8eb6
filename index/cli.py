"""`citebot index build|stats|search`: the admin's commands to build and inspect the index."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from index.answer import AnswerConfig, Answerer
from index.answer_output import passage_json
from index.build import build_index, summary_line
from index.config import default_corpus_dir, default_index_dir
from index.embed import Embedder, default_embedder
from index.errors import CitebotError
from index.store import IndexStore
from index.types import BuildReport

# Tests point this at a fake embedder; the product always uses the packaged model.
embedder_factory: Callable[[], Embedder] = default_embedder


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn citebot's own errors into one line on stderr and exit code 1."""
    try:
        yield
    except CitebotError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def _index_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--index",
        "index_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Index folder [default: $CITEBOT_INDEX_DIR or .citebot/index].",
    )(function)


@click.group("index")
def index_group() -> None:
    """Build and inspect the index of the corpus."""


@index_group.command("build")
@click.option(
    "--corpus",
    "corpus_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of articles [default: $CITEBOT_CORPUS_DIR or corpus/].",
)
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--rebuild", is_flag=True, help="Re-embed every article, reusing no vectors.")
def build_command(
    corpus_dir: Path | None, index_dir: Path | None, as_json: bool, rebuild: bool
) -> None:
    """Index the corpus, re-embedding only the articles that changed."""
    with user_errors():
        report = build_index(
            corpus_dir or default_corpus_dir(),
            index_dir or default_index_dir(),
            embedder_factory(),
            rebuild=rebuild,
        )
    print_build_report(report, as_json)


def print_build_report(report: BuildReport, as_json: bool) -> None:
    """Skipped files on stderr, then the one-line summary (or JSON) on stdout."""
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
        return
    for failure in report.failures:
        click.echo(f"skipped {failure.path}: {failure.reason}", err=True)
    click.echo(summary_line(report))


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


@index_group.command("stats")
@_index_option
def stats_command(index_dir: Path | None) -> None:
    """Print the index's articles, passages, model, build time and size on disk."""
    embedder = embedder_factory()
    with (
        user_errors(),
        IndexStore.open(
            index_dir or default_index_dir(), embedder.name, embedder.dimension
        ) as store,
    ):
        counts = store.manifest.get("counts", {})
        click.echo(f"articles:  {store.article_count()}")
        click.echo(f"passages:  {store.passage_count()}")
        click.echo(f"sentences: {counts.get('sentences', '?')}")
        click.echo(f"model:     {store.manifest['model']} ({store.manifest['dimension']} dims)")
        click.echo(f"built:     {store.manifest.get('built_at', '?')}")
        click.echo(f"version:   {store.version}")
        click.echo(f"size:      {_human_size(store.size_bytes())}")


@index_group.command("verify")
@_index_option
def verify_command(index_dir: Path | None) -> None:
    """Check every file of the index: hashes against its manifest, the database by SQLite."""
    embedder = embedder_factory()
    started = time.perf_counter()
    with (
        user_errors(),
        IndexStore.open(
            index_dir or default_index_dir(),
            embedder.name,
            embedder.dimension,
            full_check=True,
            db_check="all",
        ) as store,
    ):
        files = len(store.data_files()) + 1  # and the manifest
        size = _human_size(store.size_bytes())
    seconds = time.perf_counter() - started
    click.echo(
        f"index {store.version}: {files} files, {size} checked in {seconds:.2f} s; no damage found"
    )


def search_results(
    store: IndexStore, embedder: Embedder, query: str, k: int
) -> list[dict[str, Any]]:
    """The k best passages by hybrid retrieval, as the JSON records `search` prints."""
    answerer = Answerer(store, embedder, AnswerConfig.from_env())
    return [passage_json(p) for p in answerer.search(query, k)]


def print_search_results(query: str, results: list[dict[str, Any]], as_json: bool) -> None:
    """Either one JSON object, or a numbered block per passage for a person."""
    if as_json:
        click.echo(json.dumps({"query": query, "passages": results}, ensure_ascii=False))
        return
    if not results:
        click.echo("no passages")
    for rank, hit in enumerate(results, 1):
        click.echo(f"{rank}. {hit['title']}  [{hit['score']:.3f}]")
        click.echo(f"   {hit['path']}  {hit['start']}-{hit['end']}")
        click.echo(f"   {hit['text']}\n")


@index_group.command("search")
@click.argument("query")
@_index_option
@click.option("--k", "k", type=click.IntRange(1, 1000), default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def search_command(query: str, index_dir: Path | None, k: int, as_json: bool) -> None:
    """Print the passages closest to QUERY."""
    embedder = embedder_factory()
    with (
        user_errors(),
        IndexStore.open(
            index_dir or default_index_dir(), embedder.name, embedder.dimension
        ) as store,
    ):
        results = search_results(store, embedder, query, k)
    print_search_results(query, results, as_json)


@click.command("ask")
@click.argument("question", required=False)
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per question.")
def ask_command(question: str | None, index_dir: Path | None, as_json: bool) -> None:
    """Answer QUESTION with quotes from the articles; without it, one question per stdin line."""
    from index.ask_cli import run_ask

    with user_errors():
        code = run_ask(question, index_dir or default_index_dir(), embedder_factory(), as_json)
    sys.exit(code)


@click.command("eval")
@click.argument("data", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--holdout",
    type=click.IntRange(2, None),
    default=None,
    help="Leave every N-th article out of the index; its questions must be abstained.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def eval_command(data: Path, holdout: int | None, as_json: bool) -> None:
    """Measure answers on a SQuAD-format DATA file (indexed in a temporary folder)."""
    from index.evaluate import evaluate, format_report

    with user_errors():
        figures = evaluate(
            data, embedder_factory(), holdout=holdout, config=AnswerConfig.from_env()
        )
    click.echo(json.dumps(figures) if as_json else format_report(figures))
