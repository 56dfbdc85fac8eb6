"""A corpus of hostile files, and a build over it in a child process that reports its peak memory.

`python -m tests.index.hostile read DIR` makes the corpus in DIR and prints what read_corpus
found as JSON; `python -m tests.index.hostile build DIR` makes it, runs `index build` over it
(fake embedder) and prints the build's own output, then `peak_rss_mb=N` as the last line.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"
OUTSIDE_MARKER = "SECRET-OUTSIDE-MARKER"
GOOD_TEXT = "A good article about the lighthouse at Halden Point, which reads fine."

# Records of mixed.jsonl: good ones are kept, each bad one is one failure "mixed.jsonl:N".
GOOD_RECORDS = {
    1: {"id": "g1", "title": "First good", "text": "The first good record."},
    5: {"id": "g2", "title": "Second good", "text": "The second good record."},
    10: {"id": "g3", "title": "Third good", "text": 'Brackets [[[ and a quote " in text.'},
    13: {"id": "g4", "title": "Fourth good", "text": "The last good record, after the rest."},
}
BAD_RECORDS = {
    2: '{"id": "big", "n": ' + "9" * 5000 + ', "text": "A record with a huge number."}',
    3: '{"id": "deep", "text": "Deep.", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
    4: '{"id": "sur", "text": "A lone surrogate \\ud800 here."}',
    6: '{"id": "broken", "text": ',
    7: "[1, 2, 3]",
    8: '{"id": "list", "text": ["not", "text"]}',
    9: '{"id": "tl", "title": ["a", "list"], "text": "Fine text, bad title."}',
    11: b'{"id": "bytes", "text": "\xff\xfe not UTF-8"}',
    12: '{"id": "t2", "title": "' + "t" * 5000 + '", "text": "A title far too long."}',
}
JSONL_REASONS = {
    2: "number is too long",
    3: "levels deep",
    4: "lone surrogate",
    6: "not valid JSON",
    7: "JSON object",
    8: "'text'",
    9: "'title' must be text",
    11: "not valid UTF-8",
    12: "'title' is 5,000 characters",
}

# Every file that must be skipped, and a word of the reason its one line gives.
EXPECTED_FAILURES = {
    "passwd.txt": "outside the corpus",
    "secret.md": "outside the corpus",
    "zero.txt": "outside the corpus",
    "etc": "link to a folder",
    "loop.txt": "loop",
    "ping.txt": "loop",
    "pong.txt": "loop",
    "dangling.txt": "missing file",
    "pipe.txt": "FIFO",
    "sock.txt": "socket",
    "alias_bomb.md": "alias",
    "alias_title.md": "alias",
    "deep_front.md": "nested more than",
    "deep.html": "no article text",
    "huge.txt": "the limit is 2,097,152",
    "huge.jsonl": "the limit is 209,715,200",
    "long_line.jsonl:1": "line is longer than",
    **{f"mixed.jsonl:{n}": reason for n, reason in JSONL_REASONS.items()},
}
EXPECTED_ARTICLES = {
    "good.txt",
    "notes.txt",
    "deep_body.md",
    "long_line.jsonl#after",
    *(f"mixed.jsonl#{r['id']}" for r in GOOD_RECORDS.values()),
}


def make_hostile_corpus(folder: Path) -> tuple[dict[str, str], set[str]]:
    """Fill `folder/corpus` with hostile files; returns the failures and articles to expect."""
    corpus = folder / "corpus"
    outside = folder / "outside"
    corpus.mkdir(parents=True)
    outside.mkdir()
    failures, articles = dict(EXPECTED_FAILURES), set(EXPECTED_ARTICLES)
    (outside / "secret.md").write_text(f"# Secret\n\n{OUTSIDE_MARKER} must never be indexed.\n")
    (corpus / "good.txt").write_text(GOOD_TEXT)
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "secret.md").symlink_to(outside / "secret.md")
    (corpus / "zero.txt").symlink_to("/dev/zero")
    (corpus / "etc").symlink_to("/etc", target_is_directory=True)
    (corpus / "loop.txt").symlink_to("loop.txt")
    (corpus / "ping.txt").symlink_to("pong.txt")
    (corpus / "pong.txt").symlink_to("ping.txt")
    (corpus / "dangling.txt").symlink_to("missing.txt")
    # A link inside the corpus is followed: here to a file in a hidden (unread) folder.
    (corpus / ".drafts").mkdir()
    (corpus / ".drafts" / "notes.txt").write_text("Draft notes kept in a hidden folder.")
    (corpus / "notes.txt").symlink_to(Path(".drafts") / "notes.txt")
    os.mkfifo(corpus / "pipe.txt")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(corpus / "sock.txt"))
    try:  # a real device node needs privileges; /dev/zero behind a link is tested either way
        os.mknod(corpus / "null.txt", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        failures["null.txt"] = "character device"
    except (PermissionError, OSError):
        pass
    for name in ("alias_bomb.md", "alias_title.md", "deep_front.md"):
        shutil.copy(BAD / name, corpus / name)
    quotes = "> " * 5000
    bullets = "".join("  " * i + "- item\n" for i in range(0, 5000, 50))
    (corpus / "deep_body.md").write_text(
        f"# Deep markdown\n\n{quotes}A quote 5,000 levels deep.\n\n{bullets}\nThe end.\n"
    )
    depth = 100_000
    (corpus / "deep.html").write_text(
        "<html><body>" + "<div>" * depth + "<p>Deep.</p>" + "</div>" * depth + "</body></html>"
    )
    lines: list[bytes] = []
    for n in range(1, max(GOOD_RECORDS | BAD_RECORDS) + 1):
        line = GOOD_RECORDS.get(n) or BAD_RECORDS[n]
        if isinstance(line, dict):
            lines.append(json.dumps(line).encode())
        elif isinstance(line, str):
            lines.append(line.encode())
        else:
            lines.append(line)
    (corpus / "mixed.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    # Sparse files: gigabytes to the size check, nothing on disk; refused before any read.
    for name, size in (("huge.txt", 3 * 1024**3), ("huge.jsonl", 300 * 1024**2)):
        with open(corpus / name, "wb") as handle:
            handle.truncate(size)
    with open(corpus / "long_line.jsonl", "wb") as handle:
        handle.write(b'{"text": "' + b"x" * (9 * 1024**2) + b'"}\n')
        handle.write(b'{"id": "after", "text": "The line after a very long one."}\n')
    return failures, articles


@pytest.fixture
def memory_cap() -> Iterator[None]:
    """Cap the test process's address space at its current size plus 1.5 GB for one test.

    A reader that regressed (an alias bomb expanded, a device read to the end) then fails
    with MemoryError instead of taking the machine; the cap is lifted after the test.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/status") as status:
        size_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    cap = size_kb * 1024 + 3 * 1024**3 // 2
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _limit_memory() -> None:
    """Guard: a child that runs away fails with MemoryError instead of taking the machine."""
    limit = 4 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _read(folder: Path) -> None:
    from index.readers import read_corpus

    make_hostile_corpus(folder)
    articles, failures = read_corpus(folder / "corpus")
    json.dump(
        {
            "articles": {a.id: a.text for a in articles},
            "failures": [[f.path, f.reason] for f in failures],
        },
        sys.stdout,
    )


def _peak_rss_kb() -> int:
    """This process's own peak resident memory: VmHWM belongs to the memory map made by exec.

    `getrusage(RUSAGE_SELF).ru_maxrss` survives exec on Linux, so a child forked from a large
    test runner would report the runner's size instead of its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _build(folder: Path) -> None:
    import index.cli
    from tests.fakes import HashEmbedder

    make_hostile_corpus(folder)
    embedder = HashEmbedder()
    index.cli.embedder_factory = lambda: embedder
    code = 0
    try:
        index.cli.index_group.main(
            ["build", "--corpus", str(folder / "corpus"), "--index", str(folder / "index")],
            standalone_mode=False,
        )
    except SystemExit as exc:  # pragma: no cover - a failed build
        code = int(exc.code or 0)
    sys.stdout.flush()
    sys.stderr.flush()
    peak_kb = _peak_rss_kb()
    print(f"peak_rss_mb={peak_kb / 1024:.0f}", flush=True)
    sys.exit(code)


if __name__ == "__main__":
    _limit_memory()
    command, target = sys.argv[1], Path(sys.argv[2])
    {"read": _read, "build": _build}[command](target)
