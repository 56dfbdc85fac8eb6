"""The input/output loop of `citebot ask`: one question or one per stdin line, one answer each.

Stdin is read as bytes and decoded line by line, so one undecodable line costs one error
record, never the batch.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import BinaryIO

import click

from index.answer_output import answer_json, answer_text
from index.engine import Engine
from index.errors import QuestionError
from index.frontmatter import has_surrogate


def _report(question: str, error: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"question": question, "error": error}, ensure_ascii=False))
    else:
        click.echo(f"error: {error}", err=True)


def _answer_one(engine: Engine, question: str, as_json: bool) -> bool:
    """Print one answer (a JSON line or text); a rejected question prints its error instead."""
    try:
        answer = engine.ask(question)
    except QuestionError as exc:
        _report(question, str(exc), as_json)
        return False
    if as_json:
        click.echo(json.dumps(answer_json(answer), ensure_ascii=False))
    else:
        click.echo(answer_text(answer))
    return True


def _printable(raw: bytes) -> str:
    """Undecodable bytes shown as escapes, so the error record itself can always be printed."""
    return raw.decode("utf-8", "backslashreplace")


def questions(lines: Iterable[bytes]) -> Iterable[tuple[int, str | None, str]]:
    """(line number, the question or None when undecodable, printable text) per non-blank line."""
    for number, raw in enumerate(lines, 1):
        raw = raw.rstrip(b"\r\n")
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark is not part of it
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None, _printable(raw)
            continue
        if text.strip():
            yield number, text, text


def run_ask(
    engine: Engine, question: str | None, as_json: bool, stdin: BinaryIO | None = None
) -> int:
    """Answer the question, or each non-blank stdin line; exit code 1 if any was rejected."""
    if question is not None:
        if has_surrogate(question):
            printable = _printable(question.encode("utf-8", "surrogateescape"))
            _report(printable, "the question is not valid UTF-8 text", as_json)
            return 1
        return 0 if _answer_one(engine, question, as_json) else 1
    ok = True
    first = True
    for number, text, printable in questions(stdin or sys.stdin.buffer):
        if not as_json and not first:
            click.echo("")
        first = False
        if text is None:
            _report(printable, f"line {number} is not valid UTF-8 text", as_json)
            ok = False
            continue
        ok = _answer_one(engine, text, as_json) and ok
    return 0 if ok else 1
