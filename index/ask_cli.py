"""The input/output loop of `citebot ask`: one question or one per stdin line, one answer each."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

import click

from index.answer import AnswerConfig, Answerer
from index.answer_output import answer_json, answer_text
from index.embed import Embedder
from index.errors import QuestionError
from index.store import IndexStore


def _answer_one(answerer: Answerer, question: str, as_json: bool) -> bool:
    """Print one answer (a JSON line or text); a rejected question prints its error instead."""
    try:
        answer = answerer.ask(question)
    except QuestionError as exc:
        if as_json:
            click.echo(json.dumps({"question": question, "error": str(exc)}, ensure_ascii=False))
        else:
            click.echo(f"error: {exc}", err=True)
        return False
    if as_json:
        click.echo(json.dumps(answer_json(answer), ensure_ascii=False))
    else:
        click.echo(answer_text(answer))
    return True


def run_ask(
    question: str | None,
    index_dir: Path,
    embedder: Embedder,
    as_json: bool,
    stdin: TextIO | None = None,
) -> int:
    """Answer the question, or each non-blank stdin line; exit code 1 if any was rejected."""
    store = IndexStore.open(index_dir, embedder.name, embedder.dimension)
    answerer = Answerer(store, embedder, AnswerConfig.from_env())
    ok = True
    try:
        if question is not None:
            return 0 if _answer_one(answerer, question, as_json) else 1
        first = True
        for line in stdin or sys.stdin:
            if not line.strip():
                continue
            if not as_json and not first:
                click.echo("")
            first = False
            ok = _answer_one(answerer, line.rstrip("\n"), as_json) and ok
    finally:
        answerer.close()
    return 0 if ok else 1
