"""Words for an admin about a rebuild: its progress and its outcome. Pure functions."""

from __future__ import annotations

from bot.render import escape, shorten
from index.types import BuildProgress, BuildReport

STAGES = {"reading": "Reading articles", "embedding": "Embedding passages", "writing": "Writing"}
MAX_FAILURES_SHOWN = 5


def progress_line(progress: BuildProgress | None, elapsed: float, intro: str = "Reindexing") -> str:
    """`Reindexing… Embedding passages 120/450 (27%) · 12 s`."""
    if progress is None:
        return f"{intro}… starting · {elapsed:.0f} s"
    stage = STAGES.get(progress.stage, progress.stage)
    count = ""
    if progress.total and progress.stage == "embedding":
        percent = 100 * progress.done / progress.total
        count = f" {progress.done}/{progress.total} ({percent:.0f}%)"
    return f"{intro}… {stage}{count} · {elapsed:.0f} s"


def report_text(report: BuildReport, intro: str = "Reindexed") -> str:
    """The counts an admin wants after a rebuild, and the files it skipped."""
    lines = [
        f"{intro} in {report.seconds:.1f} s: {report.added} added, {report.updated} updated, "
        f"{report.removed} removed, {report.failed} skipped ({report.unchanged} unchanged).",
        f"Now answering from {report.articles} articles, {report.passages} passages.",
    ]
    for failure in report.failures[:MAX_FAILURES_SHOWN]:
        path, reason = shorten(failure.path, 120), shorten(failure.reason, 200)
        lines.append(f"- skipped {escape(path)}: {escape(reason)}")
    if len(report.failures) > MAX_FAILURES_SHOWN:
        lines.append(f"- and {len(report.failures) - MAX_FAILURES_SHOWN} more skipped files")
    return "\n".join(lines)


def failure_text(reason: str, intro: str = "Reindex failed") -> str:
    """A failed rebuild: the old index keeps serving, and why it failed."""
    return (
        f"{intro}; I'm still answering from the previous index.\n"
        f"Reason: {escape(shorten(reason, 1500))}"
    )


def save_failure_text(reason: str) -> str:
    """An uploaded article that could not be saved: nothing was added or reindexed."""
    return f"I couldn't save that file into the corpus: {reason}. Nothing was added."
