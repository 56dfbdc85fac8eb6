"""`citebot index build|stats|search`: the admin's commands to build and inspect the index."""

from __future__ import annotations

import dataclasses
import json
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from index.errors import CitebotError
from index.settings import Settings
from index.types import BuildReport

if TYPE_CHECKING:
    from index.embed import Embedder
    from index.engine import Engine

# Tests point this at a fake embedder; otherwise the engine makes the one the settings name.
embedder_factory: Callable[[], Embedder] | None = None


class SettingsSource:
    """The settings of one `citebot` invocation, read once on first use by any command."""

    def __init__(
        self,
        kind: type[Settings] = Settings,
        env_file: Path | None = None,
        toml_file: Path | None = None,
    ) -> None:
        self.kind = kind
        self.env_file = env_file
        self.toml_file = toml_file
        self._settings: Settings | None = None

    def get(self) -> Settings:
        if self._settings is None:
            self._settings = self.kind.load(env_file=self.env_file, toml_file=self.toml_file)
        return self._settings


def current_settings() -> Settings:
    """The settings the `citebot` group loaded, or loaded here when run on their own."""
    return click.get_current_context().ensure_object(SettingsSource).get()


def make_engine(settings: Settings) -> Engine:
    """The engine every command uses; the model loads only when something is embedded."""
    from index.engine import Engine

    return Engine(
        settings.index_dir,
        settings.corpus_dir,
        embedder=embedder_factory() if embedder_factory is not None else None,
        embedder_name=settings.embedder,
        config=settings.answer,
        max_article_bytes=settings.max_article_bytes,
    )


@contextmanager
def user_errors(index_dir: Path | None = None) -> Iterator[None]:
    """Turn citebot's own errors into one line on stderr and exit code 1.

    With `--index DIR` given, the fix a line ends in names that folder, so that following it
    rebuilds this index and not the default one.
    """
    try:
        yield
    except CitebotError as exc:
        line = str(exc)
        if index_dir is not None:
            given = f"--index {shlex.quote(str(index_dir))}"
            line = line.replace("`citebot index build", f"`citebot index build {given}")
        click.echo(f"error: {line}", err=True)
        sys.exit(1)


@contextmanager
def engine_from_settings(**folders: Path | None) -> Iterator[Engine]:
    """The engine over the settings' folders (`--index`, `--corpus` win), closed at the end."""
    with user_errors(folders.get("index_dir")):
        settings = current_settings()
        given: dict[str, Any] = {k: v for k, v in folders.items() if v is not None}
        engine = make_engine(dataclasses.replace(settings, **given))
    try:
        yield engine
    finally:
        engine.close()


def _index_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--index",
        "index_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Index folder [default: the index_dir setting, .citebot/index].",
    )(function)


ASK_EPILOG = """\b
Without QUESTION, each line of stdin is a question (UTF-8); a line that cannot be decoded
is reported as an error (a JSON record with "error", or a line on stderr) and the rest are
answered. The exit code is 1 if any question was rejected.

\b
A question that starts with "-" goes after "--", which ends the options:
  citebot ask -- "-40 degrees: where was that measured?"
"""


@click.group("index")
def index_group() -> None:
    """Build and inspect the index of the corpus."""


@index_group.command("build")
@click.option(
    "--corpus",
    "corpus_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of articles [default: the corpus_dir setting, corpus/].",
)
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--rebuild", is_flag=True, help="Re-embed every article, reusing no vectors.")
def build_command(
    corpus_dir: Path | None, index_dir: Path | None, as_json: bool, rebuild: bool
) -> None:
    """Index the corpus, re-embedding only the articles that changed."""
    with engine_from_settings(index_dir=index_dir, corpus_dir=corpus_dir) as engine, user_errors():
        report = reindex_or_stop(engine, rebuild)
    print_build_report(report, as_json)


BUILD_INTERRUPTED = (
    "interrupted: the index is as the last complete build left it; run the build again to finish"
)


def reindex_or_stop(engine: Engine, rebuild: bool = False) -> BuildReport:
    """The build's report; Ctrl-C ends it with one line (exit code 130), not "Aborted!"."""
    try:
        return engine.reindex(rebuild=rebuild)
    except KeyboardInterrupt:
        if sys.stderr.isatty():
            click.echo(err=True)  # off the progress bar's line
        click.echo(BUILD_INTERRUPTED, err=True)
        sys.exit(130)


def print_build_report(report: BuildReport, as_json: bool) -> None:
    """Skipped files on stderr, then the one-line summary (or JSON) on stdout."""
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
        return
    for failure in report.failures:
        click.echo(f"skipped {failure.path}: {failure.reason}", err=True)
    from index.build import summary_line

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
    with engine_from_settings(index_dir=index_dir) as engine, user_errors(index_dir):
        stats = engine.stats()
    click.echo(f"articles:  {stats.articles}")
    click.echo(f"passages:  {stats.passages}")
    click.echo(f"sentences: {stats.sentences}")
    click.echo(f"model:     {stats.model} ({stats.dimension} dims)")
    click.echo(f"built:     {stats.built_at}")
    click.echo(f"version:   {stats.version}")
    click.echo(f"dense:     {stats.dense}")
    click.echo(f"size:      {_human_size(stats.size_bytes)}")


@index_group.command("verify")
@_index_option
def verify_command(index_dir: Path | None) -> None:
    """Check every file of the index: hashes against its manifest, the database by SQLite."""
    from index.engine import verify_index

    with engine_from_settings(index_dir=index_dir) as engine, user_errors(index_dir):
        report = verify_index(engine.index_dir)
    click.echo(
        f"index {report.version}: {report.files} files, {_human_size(report.size_bytes)} "
        f"checked in {report.seconds:.2f} s; no damage found"
    )


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
    from index.answer_output import passage_json

    with engine_from_settings(index_dir=index_dir) as engine, user_errors(index_dir):
        results = [passage_json(p) for p in engine.search(query, k)]
    print_search_results(query, results, as_json)


@click.command("ask", epilog=ASK_EPILOG)
@click.argument("question", required=False)
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per question.")
def ask_command(question: str | None, index_dir: Path | None, as_json: bool) -> None:
    """Answer QUESTION with quotes from the articles; without it, one question per stdin line."""
    from index.ask_cli import run_ask

    with engine_from_settings(index_dir=index_dir) as engine, user_errors(index_dir):
        engine.load()
        code = run_ask(engine, question, as_json)
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
@click.option(
    "--folds",
    is_flag=True,
    help="XQuAD: answerable, missing-fact, off-topic, off-corpus and news figures by article fold.",
)
def eval_command(data: Path, holdout: int | None, as_json: bool, folds: bool) -> None:
    """Measure answers on a SQuAD-format DATA file (indexed in a temporary folder)."""
    from index.evaluate import evaluate, format_report

    with engine_from_settings() as engine, user_errors():
        if folds:
            from index.calibrate import eval_folds

            click.echo(eval_folds(data, engine.embedder, engine.config, as_json))
            return
        figures = evaluate(data, engine.embedder, holdout=holdout, config=engine.config)
    click.echo(json.dumps(figures) if as_json else format_report(figures))
