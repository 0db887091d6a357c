"""What the self-drawn views (layered, neuron) share: graph preparation, colours, curves, title, legend."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable, Optional

from netviz_lsp.graph import Layer, ModelGraph, format_count
from netviz_lsp.render import style
from netviz_lsp.render.dot import make_tooltip
from netviz_lsp.render.nesting import DrawPlan
from netviz_lsp.render.views.svg import FONT, Svg, attr, content, num, text_width

Point = tuple[float, float]

MARGIN = 16.0
TITLE_SIZE = 13.0
SMALL = 8.0
TEXT = style.TEXT
MUTED = style.MUTED
EDGE = "#8b95a3"
INPUT_ID = "__input__"


# --- graph preparation ----------------------------------------------------------------


def with_input_layer(graph: ModelGraph) -> ModelGraph:
    """Add the ``InputLayer`` a Sequential hides, so the input is drawn as a layer too.

    Only when the model has one input and no top-level ``InputLayer``; it feeds every
    top-level layer that no edge enters.
    """
    top = [layer for layer in graph.layers if layer.parent is None]
    if len(graph.inputs) != 1 or any(layer.class_name == "InputLayer" for layer in top) or not top:
        return graph
    entered = {dst for _, dst in graph.edges}
    heads = [layer.id for layer in top if layer.id not in entered]
    ids = {layer.id for layer in graph.layers}
    input_id = INPUT_ID
    while input_id in ids:
        input_id += "_"
    first = top[0]
    source = Layer(id=input_id, name="input", class_name="InputLayer", line=first.line, call_lines=[],
                   output_shape=graph.inputs[0], params=0, trainable=False, dtype=first.dtype)
    edges = [[input_id, head] for head in heads] + [list(e) for e in graph.edges]
    return dataclasses.replace(graph, layers=[source, *graph.layers], edges=edges)


def without_classes(graph: ModelGraph, classes: tuple[str, ...]) -> ModelGraph:
    """``graph`` without top-level layers of ``classes``; each one's inputs are joined to its outputs."""
    if not classes:
        return graph
    dropped = {layer.id for layer in graph.layers if layer.class_name in classes and not layer.is_model
               and layer.parent is None}
    if not dropped:
        return graph
    sources: dict[str, list[str]] = {}
    targets: dict[str, list[str]] = {}
    for src, dst in graph.edges:
        sources.setdefault(dst, []).append(src)
        targets.setdefault(src, []).append(dst)

    def live(layer_id: str, step: dict[str, list[str]], seen: set[str]) -> list[str]:
        if layer_id not in dropped:
            return [layer_id]
        if layer_id in seen:
            return []
        seen.add(layer_id)
        return [end for nxt in step.get(layer_id, []) for end in live(nxt, step, seen)]

    edges: list[list[str]] = []
    for src, dst in graph.edges:
        for a in live(src, sources, set()):
            for b in live(dst, targets, set()):
                if a != b and [a, b] not in edges:
                    edges.append([a, b])
    layers = [layer for layer in graph.layers if layer.id not in dropped]
    return dataclasses.replace(graph, layers=layers, edges=edges)


def drawn_layers(plan: DrawPlan) -> list[Layer]:
    """Every layer the plan draws as a shape (not as a group), in graph order."""
    out: list[Layer] = []

    def walk(layers: list[Layer]) -> None:
        for layer in layers:
            if plan.is_cluster(layer.id):
                walk(plan.members[layer.id])
            else:
                out.append(layer)

    walk(plan.top)
    return out


def group_parents(plan: DrawPlan) -> dict[str, Optional[str]]:
    """Expanded model id -> the expanded model it sits in (``None`` at the top)."""
    parents: dict[str, Optional[str]] = {}

    def walk(layers: list[Layer], parent: Optional[str]) -> None:
        for layer in layers:
            if plan.is_cluster(layer.id):
                parents[layer.id] = parent
                walk(plan.members[layer.id], layer.id)

    walk(plan.top, None)
    return parents


def member_group(plan: DrawPlan) -> dict[str, Optional[str]]:
    """Drawn layer id -> the expanded model whose frame holds it (``None`` at the top)."""
    where: dict[str, Optional[str]] = {layer.id: None for layer in plan.top}
    for group, members in plan.members.items():
        for layer in members:
            where[layer.id] = group
    return where


# --- colours ---------------------------------------------------------------------------


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def mix(a: str, b: str, t: float) -> str:
    """The colour ``t`` of the way from ``a`` to ``b`` (both ``#rrggbb``)."""
    ra, ga, ba = _rgb(a)
    rb, gb, bb = _rgb(b)
    return "#%02x%02x%02x" % tuple(round(x + (y - x) * t) for x, y in ((ra, rb), (ga, gb), (ba, bb)))


@dataclass(frozen=True)
class Shades:
    """A solid shape's colours: front face, top face (lit), side face (shaded), outline."""

    front: str
    top: str
    side: str
    stroke: str


def class_shades(layers: list[Layer]) -> dict[str, Shades]:
    """Class name -> shades, from its category's colours; classes sharing a category get distinct tones."""
    seen_in_category: dict[str, int] = {}
    shades: dict[str, Shades] = {}
    for layer in layers:
        if layer.class_name in shades:
            continue
        category = style.layer_category(layer.class_name, layer.is_model)
        colors = style.colors(category)
        nth = seen_in_category.get(category, 0)
        seen_in_category[category] = nth + 1
        base = mix(colors.fill, colors.border, 0.62)
        tone = (0.0, 0.35, -0.35, 0.6, -0.55)[nth % 5]
        if tone > 0:
            base = mix(base, colors.accent, tone)
        elif tone < 0:
            base = mix(base, "#ffffff", -tone)
        shades[layer.class_name] = Shades(
            front=base, top=mix(base, "#ffffff", 0.38), side=mix(base, "#000000", 0.14),
            stroke=mix(colors.border, "#000000", 0.35),
        )
    return shades


# --- curves and arrows -------------------------------------------------------------------


Rect = tuple[float, float, float, float]


def next_on_row(tail: Rect, head: Rect, others: list[Rect]) -> bool:
    """Whether ``head`` is the next shape right of ``tail`` on its row (joined straight, not by a curve).

    Same row: they overlap vertically by half the smaller one. Next: no other shape of
    that row has its centre between them.
    """
    tx, ty, tw, th = tail
    hx, hy, hw, hh = head
    left, right = tx + tw, hx
    if right <= left:
        return False
    low, high = max(ty, hy), min(ty + th, hy + hh)
    if high - low < 0.5 * min(th, hh):
        return False
    return not any(left < ox + ow / 2 < right and oy < high and oy + oh > low
                   for ox, oy, ow, oh in others if (ox, oy, ow, oh) not in (tail, head))


def curve_path(points: list[Point]) -> str:
    """An SVG path through ``dot``'s cubic spline control points."""
    if not points:
        return ""
    d = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    rest = points[1:]
    while len(rest) >= 3:
        (x1, y1), (x2, y2), (x3, y3) = rest[:3]
        d.append(f"C{x1:.1f},{y1:.1f} {x2:.1f},{y2:.1f} {x3:.1f},{y3:.1f}")
        rest = rest[3:]
    for x, y in rest:
        d.append(f"L{x:.1f},{y:.1f}")
    return " ".join(d)


def arrowhead(svg: Svg, tip: Point, before: Point, color: str, size: float = 6.0) -> None:
    """A filled arrowhead at ``tip`` pointing away from ``before``."""
    angle = math.atan2(tip[1] - before[1], tip[0] - before[0])
    left = (tip[0] - size * math.cos(angle - 0.4), tip[1] - size * math.sin(angle - 0.4))
    right = (tip[0] - size * math.cos(angle + 0.4), tip[1] - size * math.sin(angle + 0.4))
    svg.polygon([tip, left, right], fill=color, stroke="none")


def draw_curve(svg: Svg, points: list[Point], color: str = EDGE, width: float = 1.2,
               arrow: bool = True, css_class: str = "edge", ends: Optional[tuple[str, str]] = None,
               clip: Optional[tuple[Rect, Rect]] = None) -> None:
    """``dot``'s curve with an arrowhead; ``ends`` (tail and head layer ids) go into ``data-tail``/``data-head``.

    ``dot`` ends a curve at the border of the whole item, caption included; with
    ``clip`` (the tail's and head's drawn shapes) straight stubs carry it on to them.
    """
    if len(points) < 2:
        return
    d = curve_path(points)
    first, last = points[0], points[-1]
    if clip is not None:
        start, end = boundary_point(first, clip[0]), boundary_point(last, clip[1])
        if start is not None:
            d = f"M{start[0]:.1f},{start[1]:.1f} L" + d[1:]
        if end is not None:
            d += f" L{end[0]:.1f},{end[1]:.1f}"
            last, points = end, [*points, end]
    tail, head = ends if ends else (None, None)
    svg.path(d, fill="none", stroke=color, stroke_width=width, class_=css_class, data_tail=tail, data_head=head)
    if arrow:
        before = next((p for p in reversed(points[:-1]) if p != last), points[0])
        arrowhead(svg, last, before, color)


def boundary_point(point: Point, rect: Rect) -> Optional[Point]:
    """Where the line from ``point`` to ``rect``'s centre enters ``rect``; ``None`` when it is inside or on it."""
    x, y, w, h = rect
    px, py = point
    if x - 0.5 <= px <= x + w + 0.5 and y - 0.5 <= py <= y + h + 0.5:
        return None
    dx, dy = x + w / 2 - px, y + h / 2 - py
    candidates = []
    for edge, delta, start in ((x, dx, px), (x + w, dx, px), (y, dy, py), (y + h, dy, py)):
        if delta:
            t = (edge - start) / delta
            qx, qy = px + t * dx, py + t * dy
            if 0 <= t <= 1 and x - 0.5 <= qx <= x + w + 0.5 and y - 0.5 <= qy <= y + h + 0.5:
                candidates.append((t, (qx, qy)))
    return min(candidates)[1] if candidates else None


# --- title and legend -------------------------------------------------------------------------


def title_height() -> float:
    return TITLE_SIZE + 14


def _title_facts(graph: ModelGraph, subtitle: str) -> str:
    facts = f"  \u00b7  {graph.class_name}  \u00b7  {graph.total_params:,} params ({format_count(graph.total_params)})"
    return facts + (f"  \u00b7  {subtitle}" if subtitle else "")


def title_width(graph: ModelGraph, subtitle: str = "") -> float:
    return text_width(graph.factory, TITLE_SIZE) * 1.1 + text_width(_title_facts(graph, subtitle), TITLE_SIZE - 2)


def draw_title(svg: Svg, graph: ModelGraph, x: float, y: float, subtitle: str = "") -> None:
    """``factory · Class · 1,234 params (1.2K)`` with the factory in bold, baseline at ``y``."""
    facts = _title_facts(graph, subtitle)
    svg.raw(
        f'<text class="title" x="{num(x)}" y="{num(y)}" font-family="{attr(FONT)}" font-size="{num(TITLE_SIZE)}" '
        f'fill="{TEXT}" xml:space="preserve"><tspan font-weight="bold">{content(graph.factory)}</tspan>'
        f'<tspan font-size="{num(TITLE_SIZE - 2)}" fill="{MUTED}">{content(facts)}</tspan></text>'
    )


@dataclass
class LegendEntry:
    """One legend line: a swatch drawer (given the swatch's top-left corner) and its text."""

    label: str
    swatch: Callable[[Svg, float, float], None]
    swatch_width: float = 16.0


LEGEND_ROW = 18.0


def legend_size(entries: list[LegendEntry], max_width: float) -> tuple[float, float]:
    """Width and height the legend takes when wrapped at ``max_width``."""
    if not entries:
        return 0.0, 0.0
    rows, x, widest = 1, 0.0, 0.0
    for entry in entries:
        w = _entry_width(entry)
        if x and x + w > max_width:
            rows, x = rows + 1, 0.0
        x += w
        widest = max(widest, x)
    return widest, rows * LEGEND_ROW + 8


def _entry_width(entry: LegendEntry) -> float:
    return entry.swatch_width + 6 + text_width(entry.label, 9.5) + 18


def draw_legend(svg: Svg, entries: list[LegendEntry], x0: float, y0: float, max_width: float) -> None:
    """The entries in rows from ``(x0, y0)``, wrapped at ``max_width``."""
    svg.open_group(css_class="legend")
    x, y = x0, y0 + 8
    for entry in entries:
        w = _entry_width(entry)
        if x > x0 and x - x0 + w > max_width:
            x, y = x0, y + LEGEND_ROW
        entry.swatch(svg, x, y)
        svg.text(x + entry.swatch_width + 6, y + 9.5, entry.label, size=9.5, fill=TEXT)
        x += w
    svg.close_group()


# --- the page ---------------------------------------------------------------------------------


@dataclass
class Page:
    """A view's SVG page: the title on top, the placed drawing at ``offset``, the legend below."""

    svg: Svg
    offset: Point
    legend: list[LegendEntry]
    legend_top: float
    legend_width: float

    def at(self, point: Point) -> Point:
        """A placement coordinate on the page."""
        return point[0] + self.offset[0], point[1] + self.offset[1]

    def finish(self) -> bytes:
        if self.legend:
            draw_legend(self.svg, self.legend, MARGIN, self.legend_top, self.legend_width)
        return self.svg.finish()


def page(graph: ModelGraph, width: float, height: float, legend: list[LegendEntry], view_name: str) -> Page:
    """A page for a drawing of ``width`` x ``height`` points, titled, with room for ``legend``."""
    legend_width = max(width, 420.0)
    legend_w, legend_h = legend_size(legend, legend_width)
    top = MARGIN + title_height()
    widest = max(width, legend_w, title_width(graph, f"{view_name} view"), 320.0)
    svg = Svg(widest + 2 * MARGIN, top + height + (legend_h + 10 if legend else 0) + MARGIN,
              title=f"{graph.factory} ({view_name} view)", css_class=f"netviz {view_name}")
    draw_title(svg, graph, MARGIN, MARGIN + TITLE_SIZE, subtitle=f"{view_name} view")
    return Page(svg, (MARGIN, top), legend, top + height + 10, legend_width)


def draw_frame(svg: Svg, model: Layer, x: float, y: float, w: float, h: float) -> None:
    """An expanded nested model (or repeated block): a dashed, titled frame behind its layers."""
    svg.open_group(id=model.id, css_class="cluster layer layer-model", title=make_tooltip(model))
    svg.rect(x, y, w, h, rx=8, fill="#f6f8fa", stroke="#8b95a3", stroke_width=0.8, stroke_dasharray="4 3")
    svg.text(x + 8, y + 13, model.name, size=9, fill=TEXT, weight="bold")
    svg.close_group()
