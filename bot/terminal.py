"""A question loop in the terminal over the same engine, for trying citebot without Discord."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from bot.errors import describe
from bot.render import render_plain
from index.errors import CitebotError, QuestionError

if TYPE_CHECKING:
    from index.engine import Engine

PROMPT = "question> "
WELCOME = "Ask a question about the articles (quit, an empty line or Ctrl-D ends)."
QUIT_WORDS = frozenset({"quit", "exit", ":q"})


def chat(engine: Engine, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Answer questions read line by line until EOF, `quit`, an empty line or Ctrl-C; returns 0.

    At a terminal the loop ends on a fresh line, so the shell's prompt is not left on ours.
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    if interactive:
        print(WELCOME, file=stdout)
    while True:
        if interactive:
            print(PROMPT, end="", file=stdout, flush=True)
        try:
            line = stdin.readline()
        except KeyboardInterrupt:
            print(file=stdout)
            return 0
        if not line:
            if interactive:
                print(file=stdout)  # Ctrl-D leaves the cursor after our prompt
            return 0
        question = line.strip()
        if (interactive and not question) or question.casefold() in QUIT_WORDS:
            return 0
        if not question:
            continue
        try:
            answer = engine.ask(question)
        except KeyboardInterrupt:
            print(file=stdout)
            return 0
        except Exception as exc:
            text = describe(exc)
            if text is None:
                raise
            if isinstance(exc, CitebotError) and not isinstance(exc, QuestionError):
                # The index's own line ends in the command that fixes it; describe() speaks
                # of `/reindex`, which is Discord's.
                text = f"error: {exc}"
            print(text, file=stdout)
            continue
        print(render_plain(answer), file=stdout, end="\n\n", flush=True)
