"""A small SVG writer for the views NetViz draws itself (layered, neuron).

Units are points, as in Graphviz's SVG: the root says ``width="{w}pt"`` with a
``viewBox`` in the same units, so a converter given a DPI scales it exactly as ``dot``
scales its PNGs. All user text goes through ``text()``/``attr()``, which escape it
for XML and replace characters XML cannot hold.
"""

from __future__ import annotations

import html
import re
from typing import Iterable, Optional

from netviz_lsp.render.escape import REPLACEMENT, _control, _xml_char, visible_text

FONT = "Helvetica, Arial, 'Liberation Sans', sans-serif"
MONO_FONT = "'DejaVu Sans Mono', Menlo, Consolas, monospace"

# Average advance of a glyph, as a fraction of the font size; Helvetica/Liberation
# Sans average about 0.55 em over names such as "conv2d_1", digits 0.556 em.
_ADVANCE = 0.56
_MONO_ADVANCE = 0.61


def text_width(text: str, size: float, mono: bool = False) -> float:
    """An estimate of ``text``'s drawn width at ``size`` points, for layout."""
    return len(text) * size * (_MONO_ADVANCE if mono else _ADVANCE)


_ATTR_SPECIAL = re.compile("[&<>\"'\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""What ``attr`` rewrites; the rest passes through (one regex pass, as ``escape.esc_string``)."""


def _attr_special(match: "re.Match[str]") -> str:
    ch = match.group()
    code = ord(ch)
    if not _xml_char(code):
        return REPLACEMENT
    if _control(code):
        return f"&#{code};"
    return html.escape(ch, quote=True)


def attr(value: object) -> str:
    """``value`` as the content of a double-quoted XML attribute, exact after parsing.

    Controls go as character references (a raw tab or newline would be normalised to
    a space by the parser); characters XML cannot hold become U+FFFD.
    """
    return _ATTR_SPECIAL.sub(_attr_special, str(value))


def content(text: str, multiline: bool = False) -> str:
    """``text`` as element content: markup escaped, controls (but newlines if ``multiline``) as U+FFFD."""
    if multiline:
        return "\n".join(html.escape(visible_text(line), quote=False) for line in text.split("\n"))
    return html.escape(visible_text(text), quote=False)


def num(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def points(pairs: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{num(x)},{num(y)}" for x, y in pairs)


class Svg:
    """Collects elements, then ``finish()`` returns the document as bytes (no XML prolog)."""

    def __init__(self, width: float, height: float, title: Optional[str] = None, css_class: str = "netviz"):
        self.width, self.height = width, height
        self._parts: list[str] = []
        self._title = title
        self._class = css_class

    def raw(self, markup: str) -> None:
        """Append markup that the caller has escaped."""
        self._parts.append(markup)

    def open_group(self, id: Optional[str] = None, css_class: Optional[str] = None,
                   title: Optional[str] = None, **attrs: object) -> None:
        extra = "".join(f' {k.replace("_", "-")}="{attr(v)}"' for k, v in attrs.items() if v is not None)
        ident = f' id="{attr(id)}"' if id is not None else ""
        cls = f' class="{attr(css_class)}"' if css_class else ""
        self._parts.append(f"<g{ident}{cls}{extra}>")
        if title is not None:
            self._parts.append(f"<title>{content(title, multiline=True)}</title>")

    def close_group(self) -> None:
        self._parts.append("</g>")

    def element(self, tag: str, **attrs: object) -> None:
        rendered = "".join(
            f' {k.rstrip("_").replace("_", "-")}="{attr(v if not isinstance(v, float) else num(v))}"'
            for k, v in attrs.items() if v is not None
        )
        self._parts.append(f"<{tag}{rendered}/>")

    def rect(self, x: float, y: float, w: float, h: float, **attrs: object) -> None:
        self.element("rect", x=float(x), y=float(y), width=float(w), height=float(h), **attrs)

    def circle(self, cx: float, cy: float, r: float, **attrs: object) -> None:
        self.element("circle", cx=float(cx), cy=float(cy), r=float(r), **attrs)

    def line(self, x1: float, y1: float, x2: float, y2: float, **attrs: object) -> None:
        self.element("line", x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2), **attrs)

    def polygon(self, pairs: Iterable[tuple[float, float]], **attrs: object) -> None:
        self.element("polygon", points=points(pairs), **attrs)

    def path(self, d: str, **attrs: object) -> None:
        self.element("path", d=d, **attrs)

    def text(self, x: float, y: float, words: str, size: float = 10, fill: str = "#1f2328",
             anchor: str = "start", weight: Optional[str] = None, mono: bool = False,
             css_class: Optional[str] = None, **attrs: object) -> None:
        """One line of text with its baseline at ``y``; empty text draws nothing."""
        if not words:
            return
        extra = "".join(f' {k.replace("_", "-")}="{attr(v)}"' for k, v in attrs.items() if v is not None)
        weight_attr = f' font-weight="{weight}"' if weight else ""
        cls = f' class="{attr(css_class)}"' if css_class else ""
        family = MONO_FONT if mono else FONT
        self._parts.append(
            f'<text x="{num(x)}" y="{num(y)}" font-family="{attr(family)}" font-size="{num(size)}" '
            f'fill="{fill}" text-anchor="{anchor}"{weight_attr}{cls}{extra}>{content(words)}</text>'
        )

    def finish(self) -> bytes:
        w, h = num(self.width), num(self.height)
        title = f"<title>{content(self._title)}</title>" if self._title else ""
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="{attr(self._class)}" '
            f'width="{w}pt" height="{h}pt" viewBox="0 0 {w} {h}">{title}'
            f'<rect class="background" x="0" y="0" width="{w}" height="{h}" fill="white"/>'
        )
        return (head + "".join(self._parts) + "</svg>\n").encode("utf-8")
