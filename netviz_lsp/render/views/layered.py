"""The ``layered`` view: each layer a 3-D box sized by its output shape, as visualkeras draws them.

A ``(batch, H, W, C)`` output is a box ``H`` high, ``W`` deep (the oblique edge) and ``C``
wide; a sequence ``(batch, T, C)`` is ``T`` high and ``C`` wide; a vector ``(batch, U)`` is a
thin slab ``U`` high. Sizes are relative to the model's largest value of each
kind and capped: image sizes on a square-root scale, vector lengths and channels on a
log scale, so ``Flatten -> (None, 246016)`` stays on the page next to a ``Dense(12)``. The sizes are written along the box edges.

Boxes are coloured by layer class (a legend says which); consecutive boxes of a chain
are joined by funnels, other connections by curves. ``dot`` places the boxes
(``placement.py``), so branches sit side by side where visualkeras only draws a
straight stack. ``ViewOptions.type_ignore`` hides classes, ``spacing`` sets the gap.
Collapsed nested models and repeated blocks are grey boxes named above, with "× k" for
a block; expanded ones are dashed frames around their layers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from netviz_lsp.graph import Layer, ModelGraph, format_shape
from netviz_lsp.render.dot import make_tooltip
from netviz_lsp.render import style
from netviz_lsp.render.nesting import plan_drawing
from netviz_lsp.render.views import drawing
from netviz_lsp.render.views.drawing import SMALL, LegendEntry, Shades
from netviz_lsp.render.views.facts import single
from netviz_lsp.render.views.options import ViewOptions
from netviz_lsp.render.views.placement import Group, Item, place
from netviz_lsp.render.views.repeats import repeated_count
from netviz_lsp.render.views.svg import Svg, text_width
from netviz_lsp.settings import RenderOptions

SPATIAL = (26.0, 120.0)
"""Front-face height range for spatial sizes (H of an image, T of a sequence), in points."""
VECTOR = (28.0, 150.0)
"""Height range for vector lengths (Dense units, Flatten outputs)."""
CHANNELS = (5.0, 44.0)
"""Width range for channel counts."""
DEPTH_RATIO = 0.42
"""The oblique depth edge is this fraction of the W size's height; drawn at ~34 degrees."""
SLAB = 8.0
"""Width and depth of a vector's slab, and depth of a sequence box."""
LABEL_SIZE = 7.5


@dataclass
class Box:
    """One layer's box: front face ``w`` x ``h``, oblique depth offset ``(dx, dy)``, edge labels."""

    layer: Layer
    w: float
    h: float
    dx: float
    dy: float
    height_label: str = ""
    """Written up the box's left edge."""
    width_label: str = ""
    """Written under the front face."""
    depth_label: str = ""
    """Written along the lower oblique edge."""
    caption: str = ""
    """A name above the box (models and blocks)."""
    badge: str = ""
    """A "× k" marker on a repeated block."""

    @property
    def pad_x(self) -> float:
        return LABEL_SIZE + 5 if self.height_label else 2.0

    @property
    def pad_y(self) -> float:
        """Room above and below the front face (symmetric, so front faces of a row line up)."""
        below = LABEL_SIZE + 6 if self.width_label or self.depth_label else 2.0
        above = self.dy + (SMALL + 8 if self.caption else 0) + (6 if self.badge else 0)
        return max(below, above) + 2

    @property
    def item_width(self) -> float:
        caption = text_width(self.caption, SMALL) + 4 if self.caption else 0
        return max(self.pad_x + self.w + self.dx + 4, caption)

    @property
    def item_height(self) -> float:
        return self.h + 2 * self.pad_y


class _Scale:
    """Maps a positive size onto ``[lo, hi]``: the model's largest value gives ``hi``.

    ``power`` scales as ``(v / vmax) ** power`` (0.5 keeps a 128 vs 62 image visibly
    twice as tall, not equal); ``power=None`` scales as ``log v / log vmax``, for ranges
    such as 12 to 246,016 units.
    """

    def __init__(self, values: list[int], lo: float, hi: float, power: Optional[float]):
        values = [v for v in values if v and v > 0]
        self.lo, self.hi, self.power = lo, hi, power
        self.vmax = max(values) if values else 1

    def __call__(self, value: Optional[int]) -> float:
        if not value or value <= 0:
            return (self.lo + self.hi) / 2
        if self.power is not None:
            t = (value / self.vmax) ** self.power
            return max(self.lo, self.hi * t)
        if self.vmax <= 1:
            return self.lo
        t = math.log(value) / math.log(self.vmax)
        return self.lo + (self.hi - self.lo) * min(1.0, max(0.0, t))


def _kind(shape) -> tuple[str, list]:
    """``spatial`` (H, W, C), ``sequence`` (T, C), ``vector`` (U) or ``unknown``, with those sizes."""
    shape = single(shape)
    if shape is None or len(shape) < 2:
        return "unknown", []
    dims = shape[1:]
    if len(dims) == 1:
        return "vector", dims
    if len(dims) == 2:
        return "sequence", dims
    return "spatial", [dims[-3], dims[-2], dims[-1]]  # 3-D volumes: the last two spatial axes


def _size_text(value) -> str:
    return "?" if value is None else f"{value:,}" if value < 100_000 else format_count_short(value)


def format_count_short(value: int) -> str:
    return f"{value / 1e6:.1f}M" if value >= 1e6 else f"{value / 1e3:.0f}K"


def make_boxes(layers: list[Layer]) -> dict[str, Box]:
    """A box per layer, sized on scales fitted to all of ``layers``."""
    kinds = {layer.id: _kind(layer.output_shape) for layer in layers}
    spatial_values = [d for kind, dims in kinds.values() if kind == "spatial" for d in dims[:2]]
    spatial_values += [dims[0] for kind, dims in kinds.values() if kind == "sequence"]
    spatial = _Scale(spatial_values, *SPATIAL, power=0.5)
    vector = _Scale([dims[0] for kind, dims in kinds.values() if kind == "vector"], *VECTOR, power=None)
    channels = _Scale([dims[-1] for kind, dims in kinds.values() if kind in ("spatial", "sequence")],
                      *CHANNELS, power=None)
    boxes = {}
    for layer in layers:
        kind, dims = kinds[layer.id]
        if kind == "spatial":
            h, depth, w = spatial(dims[0]), spatial(dims[1]) * DEPTH_RATIO, channels(dims[2])
            labels = (_size_text(dims[0]), _size_text(dims[2]), _size_text(dims[1]))
        elif kind == "sequence":
            h, depth, w = spatial(dims[0]), SLAB, channels(dims[1])
            labels = (_size_text(dims[0]), _size_text(dims[1]), "")
        elif kind == "vector":
            h, depth, w = vector(dims[0]), SLAB, SLAB
            labels = (_size_text(dims[0]), "", "")
        else:
            h, depth, w = 34.0, SLAB * 1.5, 18.0
            labels = ("", format_shape(layer.output_shape) if layer.output_shape else "?", "")
        count = repeated_count(layer)
        if layer.is_model:
            w = max(w, 14.0)
        boxes[layer.id] = Box(
            layer, w, h, depth * 0.83, depth * 0.56, *labels,
            caption=(layer.name.rsplit(" \u00d7", 1)[0] if count else layer.name) if layer.is_model else "",
            badge=f"\u00d7 {count}" if count else "",
        )
    return boxes


def layered_svg(graph: ModelGraph, options: RenderOptions, view: ViewOptions, timeout: float = 30.0) -> bytes:
    """The layered view of ``graph`` as an SVG document. Raises ``RenderError`` if ``dot`` fails."""
    graph = drawing.without_classes(drawing.with_input_layer(graph), tuple(view.type_ignore))
    plan = plan_drawing(graph, options.expand_nested)
    layers = drawing.drawn_layers(plan)
    boxes = make_boxes(layers)
    if not options.show_shapes:
        for box in boxes.values():
            box.height_label = box.width_label = box.depth_label = ""
    where = drawing.member_group(plan)
    groups = [Group(model_id, parent, label_height=SMALL + 6)
              for model_id, parent in drawing.group_parents(plan).items()]
    items = [Item(layer.id, boxes[layer.id].item_width, boxes[layer.id].item_height, where.get(layer.id))
             for layer in layers]
    edges = [(e.tail, e.head) for e in plan.edges]
    placement = place(items, edges, groups, rankdir="LR", nodesep=14.0, ranksep=view.spacing, timeout=timeout)

    shades = drawing.class_shades(layers)
    legend = [_legend_entry(name, shade) for name, shade in shades.items()] if view.legend else []
    sheet = drawing.page(graph, placement.width, placement.height, legend, "layered")
    svg = sheet.svg
    by_id = {layer.id: layer for layer in graph.layers}
    for group_id, (x, y, w, h) in placement.frames.items():
        drawing.draw_frame(svg, by_id[group_id], *sheet.at((x, y)), w, h)
    fronts = {lid: _front_origin(boxes[lid], sheet.at(center)) for lid, center in placement.centers.items()}
    rects = {lid: (x, y, boxes[lid].w, boxes[lid].h) for lid, (x, y) in fronts.items()}
    for tail, head in edges:
        if tail not in fronts or head not in fronts:
            continue
        if drawing.next_on_row(rects[tail], rects[head], list(rects.values())):
            _funnel(svg, boxes[tail], fronts[tail], boxes[head], fronts[head])
        else:
            curve = [sheet.at(p) for p in placement.curves.get((tail, head), [])]
            drawing.draw_curve(svg, curve, ends=(tail, head), clip=(_extent(boxes[tail], fronts[tail]),
                                                                     _extent(boxes[head], fronts[head])))
    for layer in sorted(layers, key=lambda l: fronts[l.id][0]):  # left to right: later boxes overlap earlier
        _box(svg, boxes[layer.id], fronts[layer.id], shades[layer.class_name])
    return sheet.finish()


def _front_origin(box: Box, center: tuple[float, float]) -> tuple[float, float]:
    """Top-left corner of the box's front face, from its item's centre."""
    cx, cy = center
    left = cx - box.item_width / 2 + box.pad_x
    return left, cy - box.h / 2


def _extent(box: Box, at: tuple[float, float]) -> tuple[float, float, float, float]:
    """The box's outline on the page, depth included."""
    return at[0], at[1] - box.dy, box.w + box.dx, box.h + box.dy


def _funnel(svg: Svg, a: Box, a_at, b: Box, b_at) -> None:
    """The translucent funnel from box ``a``'s right face to box ``b``'s left face."""
    ax, ay = a_at[0] + a.w, a_at[1]
    bx, by = b_at
    top_a, bottom_a = (ax + a.dx, ay - a.dy), (ax, ay + a.h)
    top_b, bottom_b = (bx + b.dx, by - b.dy), (bx, by + b.h)
    svg.polygon([(ax, ay), top_a, top_b, (bx, by), bottom_b, bottom_a],
                fill="#dfe3e8", fill_opacity="0.45", stroke="none", class_="edge funnel",
                data_tail=a.layer.id, data_head=b.layer.id)
    for start, end in ((top_a, top_b), ((ax, ay), (bx, by)), (bottom_a, bottom_b)):
        svg.line(*start, *end, stroke="#aab2bd", stroke_width=0.7)


def _box(svg: Svg, box: Box, at: tuple[float, float], shade: Shades) -> None:
    layer = box.layer
    x, y = at
    category = style.layer_category(layer.class_name, layer.is_model)
    svg.open_group(id=layer.id, css_class=f"node layer layer-{category}", title=make_tooltip(layer),
                   data_class=layer.class_name)
    stroke = dict(stroke=shade.stroke, stroke_width=0.7, stroke_linejoin="round")
    if box.badge:  # copies stacked behind, a deck of the same box
        for k in (2, 1):
            _solid(svg, x + 3 * k, y - 3 * k, box, shade, stroke, opacity="0.55")
    _solid(svg, x, y, box, shade, stroke)
    _labels(svg, box, x, y)
    if box.caption:
        cy = y - box.dy - (9 if box.badge else 5)
        svg.text(x + (box.w + box.dx) / 2, cy, box.caption, size=SMALL, fill=drawing.TEXT,
                 anchor="middle", weight="bold")
    if box.badge:
        bw = text_width(box.badge, 8) + 8
        bx, by = x + box.w + box.dx - bw / 2, y - box.dy - 2
        svg.rect(bx, by, bw, 12, rx=6, fill="#363f4c", class_="badge")
        svg.text(bx + bw / 2, by + 9, box.badge, size=8, fill="white", anchor="middle", weight="bold")
    svg.close_group()


def _solid(svg: Svg, x: float, y: float, box: Box, shade: Shades, stroke: dict, opacity: str = "1") -> None:
    w, h, dx, dy = box.w, box.h, box.dx, box.dy
    svg.polygon([(x, y), (x + dx, y - dy), (x + w + dx, y - dy), (x + w, y)],
                fill=shade.top, fill_opacity=opacity, **stroke)
    svg.polygon([(x + w, y), (x + w + dx, y - dy), (x + w + dx, y + h - dy), (x + w, y + h)],
                fill=shade.side, fill_opacity=opacity, **stroke)
    svg.rect(x, y, w, h, fill=shade.front, fill_opacity=opacity, **stroke)


def _labels(svg: Svg, box: Box, x: float, y: float) -> None:
    muted = drawing.MUTED
    if box.height_label:
        cx, cy = x - 3, y + box.h / 2
        svg.text(cx, cy, box.height_label, size=LABEL_SIZE, fill=muted, anchor="middle",
                 transform=f"rotate(-90 {cx:.1f} {cy:.1f})", css_class="dim")
    if box.width_label:
        svg.text(x + box.w / 2, y + box.h + LABEL_SIZE + 2, box.width_label, size=LABEL_SIZE, fill=muted,
                 anchor="middle", css_class="dim")
    if box.depth_label and box.dx > 6:
        angle = -math.degrees(math.atan2(box.dy, box.dx))
        cx, cy = x + box.w + box.dx / 2 + 3, y + box.h - box.dy / 2 + LABEL_SIZE - 1
        svg.text(cx, cy, box.depth_label, size=LABEL_SIZE - 0.5, fill=muted, anchor="middle",
                 transform=f"rotate({angle:.1f} {cx:.1f} {cy:.1f})", css_class="dim")


def _legend_entry(class_name: str, shade: Shades) -> LegendEntry:
    def swatch(svg: Svg, x: float, y: float) -> None:
        stroke = dict(stroke=shade.stroke, stroke_width=0.6)
        svg.polygon([(x, y + 4), (x + 4, y), (x + 14, y), (x + 10, y + 4)], fill=shade.top, **stroke)
        svg.polygon([(x + 10, y + 4), (x + 14, y), (x + 14, y + 10), (x + 10, y + 14)], fill=shade.side, **stroke)
        svg.rect(x, y + 4, 10, 10, fill=shade.front, **stroke)

    return LegendEntry(class_name, swatch)
