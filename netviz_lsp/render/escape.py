r"""Making user text safe inside DOT: layer names, classes, ids and shapes.

Keras accepts any layer name (``<img src=x onerror=alert(1)>`` included), and the
text travels through three parsers before it is drawn, each with its own escapes:

1. DOT's lexer. In a quoted string ``\"`` is a quote and ``\\`` stays two
   backslashes, so a value whose backslash runs all have even length can be quoted
   by escaping its quotes alone.
2. Graphviz's escString expansion, applied to ``id``, ``tooltip`` and (in dot 2.43)
   the text of HTML-like labels: ``\N`` becomes the node name, ``\G`` the graph
   name, ``\\`` one backslash. Doubling every backslash keeps the text literal.
3. The SVG writer, which copies ``&name;`` and ``&#NN;`` through as entities. A
   name such as ``a&b;`` would otherwise come out as an undefined entity and break
   the SVG, so ``&`` is written ``&amp;`` up front, which the writer passes through.
   It also writes the second of two spaces as U+00A0, so that one goes as ``&#32;``.

Characters XML cannot carry (most C0 controls, lone surrogates, U+FFFE/U+FFFF)
become U+FFFD everywhere. In ids, tabs, newlines and C1 controls survive as
character references; in drawn text all controls show as U+FFFD, so a name cannot
start a new line in its box.
"""

from __future__ import annotations

import html
import re

REPLACEMENT = "\ufffd"

_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}


def _xml_char(code: int) -> bool:
    """Whether XML 1.0 can hold the character at all, even as a reference."""
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _control(code: int) -> bool:
    return code < 0x20 or 0x7F <= code <= 0x9F


_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""Controls and the characters XML cannot hold at all (what ``_control``/``_xml_char`` reject)."""


def visible_text(text: str) -> str:
    """``text`` with every control or XML-illegal character replaced by U+FFFD."""
    return _INVISIBLE.sub(REPLACEMENT, text)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def html_text(text: str) -> str:
    """Text for an HTML-like label cell: markup-escaped, controls neutralised, literal backslashes."""
    escaped = html.escape(visible_text(text), quote=True)
    # dot 2.43's HTML lexer rejects text such as "]" or "]]" before a tag; as a
    # character reference it is plain text.
    escaped = escaped.replace("]", "&#93;")
    return escaped.replace("\\", "\\\\")  # step 2 in the module docstring


_ESC_SPECIAL = re.compile("(?<= ) |[\\\\&\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""What ``esc_string`` rewrites; everything else passes through (a regex, not a per-character
loop: a 1,000-layer graph has a few hundred thousand characters of ids and tooltips)."""


def _esc_special(match: "re.Match[str]") -> str:
    ch = match.group()
    if ch == " ":
        return "&#32;"  # the SVG writer turns the second of two spaces into U+00A0
    if ch == "\\":
        return "\\\\"
    if ch == "&":
        return "&amp;"
    code = ord(ch)
    if not _xml_char(code):
        return REPLACEMENT
    return f"&#{code};"  # raw, the writer would drop or normalise them


def esc_string(text: str) -> str:
    """The value of an ``id`` attribute (or node name) that Graphviz's SVG shows as exactly ``text``.

    Exact for every string XML can carry; only U+FFFD-replaced characters differ.
    Node names are not escString-expanded, so an SVG ``<title>`` shows backslashes
    doubled; ids, which clients use, are exact.
    """
    return _ESC_SPECIAL.sub(_esc_special, text)


def tooltip_text(text: str) -> str:
    """The value of a ``tooltip`` attribute showing ``text``: newlines kept, other controls as U+FFFD.

    dot 2.43 expands tooltips twice, so doubling backslashes is not enough there;
    they are shown as U+2216 (a look-alike) instead, which is stable across versions.
    """
    lines = (visible_text(line) for line in text.replace("\\", "\u2216").split("\n"))
    # visible_text: dot 2.43 decodes character references in tooltips and writes C1
    # controls back as invalid UTF-8.
    return esc_string("\n".join(lines))


def dot_quote(value: str) -> str:
    """``value`` as a DOT identifier: bare when it is a plain name, else a quoted string.

    ``value`` must come from ``esc_string`` (or hold no backslash), whose backslash
    runs are all even, so escaping quotes is all the lexer needs.
    """
    if _ID.match(value) and value.lower() not in _KEYWORDS:
        return value
    return '"' + value.replace('"', '\\"') + '"'
