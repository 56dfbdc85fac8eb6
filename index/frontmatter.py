"""A leading `---` YAML block of an article, parsed with limits an uploaded file cannot beat.

Only the block's shape is parsed (YAML nodes, never Python objects): aliases are refused, so
an alias bomb costs nothing; the block, its nesting and every field have a size limit; and the
metadata fields must be plain scalars. The raw text of each scalar is kept (`title: 1984` is the
title "1984", `title: yes` is "yes"), so no YAML type coercion changes what an article says.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from index.errors import BadArticleError

# A front-matter block longer than this is refused: metadata is a few lines, never an article.
MAX_FRONT_MATTER_CHARS = 64 * 1024
# Nesting of lists and mappings in the block (the fields themselves are flat).
MAX_FRONT_MATTER_DEPTH = 16
# Characters allowed in each metadata field; longer is refused, not cut, so nothing is altered.
FIELD_LIMITS = {
    "title": 1000,
    "url": 2048,
    "published": 100,
    "author": 500,
    "source": 500,
}
FIELDS = tuple(FIELD_LIMITS)
# Tags a plain YAML scalar resolves to; an explicit `!!binary` or custom tag is not metadata.
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")
)
_NULL = "tag:yaml.org,2002:null"
_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)


class FrontMatterError(BadArticleError):
    """A front-matter block that is broken, too big, too deep, uses aliases or has bad fields."""


class _LimitedLoader(yaml.SafeLoader):
    """Composes YAML nodes, refusing aliases and nesting deeper than MAX_FRONT_MATTER_DEPTH."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise FrontMatterError(
                f"front matter uses the YAML alias *{event.anchor} at line "
                f"{event.start_mark.line + 2}; aliases are not accepted"
            )
        self._depth += 1
        try:
            if self._depth > MAX_FRONT_MATTER_DEPTH:
                mark = self.peek_event().start_mark
                raise FrontMatterError(
                    f"front matter is nested more than {MAX_FRONT_MATTER_DEPTH} levels deep "
                    f"(line {mark.line + 2})"
                )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


def split_front_matter(text: str) -> tuple[dict[str, str], str] | None:
    """The metadata fields and the body after a leading `---` block; None when there is none.

    `text` has LF line ends. Returns only the known fields (title, url, published, author,
    source) that have a value, each as its raw scalar text. Raises FrontMatterError.
    """
    if not text.startswith("---\n") and text.strip() != "---":
        return None
    end = _END.search(text, 4, 4 + MAX_FRONT_MATTER_CHARS + 5)
    if end is None:
        if len(text) > 4 + MAX_FRONT_MATTER_CHARS:
            raise FrontMatterError(
                f"front matter is longer than {MAX_FRONT_MATTER_CHARS:,} characters "
                "(or never ends with '---')"
            )
        raise FrontMatterError("front matter starts with '---' but never ends")
    block = text[4 : end.start()]
    return parse_front_matter(block), text[end.end() :]


def parse_front_matter(block: str) -> dict[str, str]:
    """The known fields of a YAML front-matter block (without its `---` lines), as raw text."""
    if len(block) > MAX_FRONT_MATTER_CHARS:
        raise FrontMatterError(
            f"front matter is {len(block):,} characters; the limit is {MAX_FRONT_MATTER_CHARS:,}"
        )
    loader: _LimitedLoader | None = None
    try:
        loader = _LimitedLoader(block)
        root = loader.get_single_node()
    except FrontMatterError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise FrontMatterError(f"broken YAML front matter{where}") from exc
    except RecursionError as exc:  # cannot happen under the depth limit; kept as a last guard
        raise FrontMatterError("front matter is nested too deeply") from exc
    finally:
        if loader is not None:
            loader.dispose()
    if root is None or (isinstance(root, ScalarNode) and root.tag == _NULL):
        return {}
    if not isinstance(root, MappingNode):
        raise FrontMatterError("front matter is not a mapping of fields")
    fields: dict[str, str] = {}
    for key_node, value_node in root.value:
        if not isinstance(key_node, ScalarNode) or key_node.value not in FIELD_LIMITS:
            continue
        name = key_node.value
        if not isinstance(value_node, ScalarNode) or value_node.tag not in _PLAIN_TAGS:
            raise FrontMatterError(
                f"front matter field {name!r} must be plain text, "
                "not a list, a mapping or a tagged value"
            )
        if value_node.tag == _NULL:
            fields.pop(name, None)
            continue
        value = value_node.value
        if has_surrogate(value):
            raise FrontMatterError(f"front matter field {name!r} has an invalid \\u escape")
        if len(value) > FIELD_LIMITS[name]:
            raise FrontMatterError(
                f"front matter field {name!r} is {len(value):,} characters; "
                f"the limit is {FIELD_LIMITS[name]:,}"
            )
        fields[name] = value
    return fields


def has_surrogate(text: str) -> bool:
    """Whether the text holds a lone surrogate (a `\\ud800` escape), which UTF-8 cannot store."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
