"""Markdown for hovers: escaping user text and drawing tables.

Layer names are user text: Keras accepts ``<img src=x onerror=alert(1)>`` or ``a|b`` as a
name, and a hover must show such a name literally, never as HTML or as a broken table.
Every piece of user text goes through ``escape``; our own text (shapes, counts) is
written in code spans or as plain digits.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that
# can start emphasis, links, code, tables, headings or lists.
_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+\-!|~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def escape(text: object) -> str:
    """``text`` as literal Markdown: no HTML, no emphasis, safe inside a table cell."""
    value = _CONTROL.sub(" ", str(text))
    value = _SPECIAL.sub(r"\\\1", value)
    # Entities last, so their own & and ; are not escaped again.
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    """A code span for our own text (shapes); backticks never occur in it, but be safe."""
    return "`" + str(text).replace("`", "'") + "`"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], align: str = "") -> str:
    """A GitHub-flavoured Markdown table; ``align`` has one of l/r per column (default l)."""
    align = align.ljust(len(header), "l")
    rule = ["--:" if a == "r" else "---" for a in align]
    lines = [_row(header), _row(rule)]
    lines.extend(_row(row) for row in rows)
    return "\n".join(lines)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def count(n: int) -> str:
    """An exact parameter count with thousands separators: ``63,021,004``."""
    return f"{n:,}"
