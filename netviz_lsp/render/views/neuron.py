"""The ``neuron`` view: the network as neurons and feature maps, as ANN Visualizer draws it.

- A layer whose output is a vector (``Dense``, ``Flatten``, ``Dropout`` on vectors, the
  input of an MLP) is a column of circles, one per unit, at most
  ``ViewOptions.max_units`` of them: the first and last units with "⋮" between and
  "+k more" under the column. ``Dense`` columns are joined to their inputs all-to-all,
  elementwise layers unit-to-unit.
- A layer whose output is an image or a sequence of feature vectors (Conv, pooling,
  normalization) is a stack of feature maps sized by its spatial size, labelled
  "64 maps · 126×126"; a convolution or pooling draws its kernel window on the
  previous stack with lines converging on the next, and says "kernel 3×3".
- Anything else (recurrent, attention, embeddings, nested models, repeated blocks,
  unknown shapes) is a box with its class and shape: the view works on any model.

``dot`` places the columns (``placement.py``), so branching models read left to right
with their branches side by side. A legend names each class's colour and form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from netviz_lsp.graph import Layer, ModelGraph, format_shape
from netviz_lsp.render import style
from netviz_lsp.render.dot import make_tooltip
from netviz_lsp.render.nesting import plan_drawing
from netviz_lsp.render.views import drawing
from netviz_lsp.render.views.drawing import LegendEntry, Shades
from netviz_lsp.render.views.facts import GraphFacts, single, spatial_text
from netviz_lsp.render.views.options import ViewOptions
from netviz_lsp.render.views.placement import Group, Item, place
from netviz_lsp.render.views.repeats import repeated_count
from netviz_lsp.render.views.svg import Svg, text_width
from netviz_lsp.settings import RenderOptions

RADIUS = 8.0
PITCH = 21.0
"""Centre-to-centre distance of two circles in a column."""
GAP = 18.0
"""Room for the "⋮" between the first and last units of a long column."""
MAP_SIDE = (20.0, 86.0)
MAP_STEP = 5.0
"""Offset between stacked feature maps."""
MAX_MAPS = 5
LABEL_SIZE = 8.5
LINE = 11.0
DENSE_CLASSES = ("Dense", "EinsumDense")
UNIT_CATEGORIES = {"input", "dense", "dropout", "activation", "norm", "pool", "reshape", "merge"}
MAP_CATEGORIES = {"input", "conv", "pool", "norm", "activation", "dropout", "reshape", "merge"}


@dataclass
class Figure:
    """One layer's drawing: its form (``units``, ``maps`` or ``box``), size and caption lines."""

    layer: Layer
    form: str
    width: float
    height: float
    units: int = 0
    """Units of a ``units`` column (all of them, drawn or not)."""
    shown: int = 0
    """Circles drawn."""
    maps: int = 0
    side: float = 0.0
    lines: list[str] = field(default_factory=list)
    badge: str = ""

    @property
    def caption_height(self) -> float:
        return len(self.lines) * LINE + 6

    @property
    def item_width(self) -> float:
        widest = max((text_width(line, LABEL_SIZE) for line in self.lines), default=0)
        return max(self.width, widest) + 8

    @property
    def item_height(self) -> float:
        return self.height + 2 * self.caption_height  # symmetric: figures of a row share a centre line

    def unit_centers(self, cx: float, cy: float) -> list[tuple[float, float]]:
        """Centres of the drawn circles, top to bottom, for a column centred at ``(cx, cy)``."""
        if self.form != "units":
            return []
        top = cy - self.height / 2 + RADIUS
        if self.shown == self.units:
            return [(cx, top + i * PITCH) for i in range(self.shown)]
        head = math.ceil(self.shown / 2)
        centers = [(cx, top + i * PITCH) for i in range(head)]
        start = top + head * PITCH + GAP
        return centers + [(cx, start + i * PITCH) for i in range(self.shown - head)]


def _form(layer: Layer) -> str:
    shape = single(layer.output_shape)
    category = style.layer_category(layer.class_name, layer.is_model)
    if shape is None or layer.is_model or len(shape) < 2:
        return "box"
    if len(shape) == 2 and category in UNIT_CATEGORIES and shape[1] is not None:
        return "units"
    if len(shape) >= 3 and category in MAP_CATEGORIES:
        return "maps"
    return "box"


def make_figures(layers: list[Layer], facts: GraphFacts, options: RenderOptions, max_units: int) -> dict[str, Figure]:
    sides = [d for layer in layers if _form(layer) == "maps"
             for d in single(layer.output_shape)[1:-1] if d]
    biggest = max(sides, default=1)
    figures = {}
    for layer in layers:
        form = _form(layer)
        lines = _caption_head(layer, options)
        if form == "units":
            units = single(layer.output_shape)[1]
            shown = min(units, max_units)
            height = shown * PITCH - (PITCH - 2 * RADIUS) + (GAP if shown < units else 0)
            lines.append(f"{units:,} unit" + ("" if units == 1 else "s"))
            if shown < units:
                lines.append(f"+{units - shown:,} more")
            figure = Figure(layer, form, 2 * RADIUS, height, units=units, shown=shown)
        elif form == "maps":
            shape = single(layer.output_shape)
            spatial, channels = shape[1:-1], shape[-1]
            extent = max((d for d in spatial if d), default=biggest)
            side = max(MAP_SIDE[0], MAP_SIDE[1] * math.sqrt(extent / biggest))
            maps = min(channels or 1, MAX_MAPS)
            depth = (maps - 1) * MAP_STEP
            noun = "map" if channels == 1 else "maps"
            lines.append(f"{channels if channels is not None else '?'} {noun} \u00b7 {spatial_text(spatial)}")
            window = _window_text(layer, facts)
            if window:
                lines.append(window)
            figure = Figure(layer, form, side + depth, side + depth, maps=maps, side=side)
        else:
            count = repeated_count(layer)
            title = layer.name.rsplit(" \u00d7", 1)[0] if count else layer.class_name
            box_lines = [title, format_shape(layer.output_shape)]
            width = max(text_width(line, LABEL_SIZE) for line in box_lines) + 18
            figure = Figure(layer, form, max(width, 60.0), 38.0, badge=f"\u00d7 {count}" if count else "")
            lines = [layer.name] if options.show_layer_names and not count else []
        if options.show_layer_activations and layer.activation not in (None, "linear") and form != "box":
            lines.append(layer.activation)
        figure.lines = lines
        figures[layer.id] = figure
    return figures


def _caption_head(layer: Layer, options: RenderOptions) -> list[str]:
    lines = []
    if options.show_layer_names:
        lines.append(layer.name)
    lines.append(layer.class_name)
    return lines


def _window_text(layer: Layer, facts: GraphFacts) -> str:
    if "Conv" in layer.class_name:
        geometry = facts.conv(layer)
        if geometry is None:
            return ""
        kernel = spatial_text(geometry.kernel) if geometry.kernel else f"{geometry.kernel_area} taps"
        return f"kernel {kernel}"
    if "Pooling" in layer.class_name and "Global" not in layer.class_name:
        window = facts.pool_window(layer)  # the size ratio: the stride, and the window when they agree
        return f"stride {spatial_text(window)}" if window else ""
    return ""


def neuron_svg(graph: ModelGraph, options: RenderOptions, view: ViewOptions, timeout: float = 30.0) -> bytes:
    """The neuron view of ``graph`` as an SVG document. Raises ``RenderError`` if ``dot`` fails."""
    graph = drawing.with_input_layer(graph)
    plan = plan_drawing(graph, options.expand_nested)
    layers = drawing.drawn_layers(plan)
    figures = make_figures(layers, GraphFacts(graph), options, max(2, view.max_units))
    where = drawing.member_group(plan)
    groups = [Group(model_id, parent, label_height=14.0) for model_id, parent in drawing.group_parents(plan).items()]
    items = [Item(l.id, figures[l.id].item_width, figures[l.id].item_height, where.get(l.id)) for l in layers]
    edges = [(e.tail, e.head) for e in plan.edges]
    placement = place(items, edges, groups, rankdir="LR", nodesep=16.0, ranksep=46.0, timeout=timeout)

    rects = {lid: _rect(figures[lid], at) for lid, at in placement.centers.items()}
    linked = [(t, h) for t, h in edges if t in rects and h in rects]
    straight = {e for e in linked if drawing.next_on_row(rects[e[0]], rects[e[1]], list(rects.values()))}
    windowed = [e for e in straight if _window_fraction(figures[e[0]], figures[e[1]]) is not None
                and figures[e[0]].form == figures[e[1]].form == "maps"]
    shades = drawing.class_shades(layers)
    legend = _legend(layers, figures, shades, bool(windowed)) if view.legend else []
    sheet = drawing.page(graph, placement.width, placement.height, legend, "neuron")
    svg = sheet.svg
    centers = {lid: sheet.at(center) for lid, center in placement.centers.items()}
    by_id = {layer.id: layer for layer in graph.layers}
    for group_id, (x, y, w, h) in placement.frames.items():
        drawing.draw_frame(svg, by_id[group_id], *sheet.at((x, y)), w, h)
    svg.open_group(css_class="connections")
    for tail, head in linked:
        if (tail, head) in straight:
            _connect(svg, figures[tail], centers[tail], figures[head], centers[head])
        else:
            curve = [sheet.at(p) for p in placement.curves.get((tail, head), [])]
            clip = (_rect(figures[tail], centers[tail]), _rect(figures[head], centers[head]))
            drawing.draw_curve(svg, curve, width=0.9, ends=(tail, head), clip=clip)
    svg.close_group()
    for layer in layers:
        _figure(svg, figures[layer.id], centers[layer.id], shades[layer.class_name])
    for tail, head in windowed:  # over the maps: the window sits on one, its lines meet on the next
        _kernel_lines(svg, figures[tail], centers[tail], figures[head], centers[head])
    return sheet.finish()


# --- connections -------------------------------------------------------------------------

_WIRE = dict(stroke="#9aa3ae", stroke_width=0.5, stroke_opacity="0.55")


def _connect(svg: Svg, a: Figure, a_at, b: Figure, b_at) -> None:
    """Wires from ``a`` to the next figure on its row, ``b``, by their forms."""
    if a.form == "units" and b.form == "units":
        left, right = a.unit_centers(*a_at), b.unit_centers(*b_at)
        if b.layer.class_name in DENSE_CLASSES or a.units != b.units:
            pairs = [(p, q) for p in left for q in right]
        else:
            pairs = list(zip(left, right))
        for (x1, y1), (x2, y2) in pairs:
            svg.line(x1 + RADIUS, y1, x2 - RADIUS, y2, class_="wire", **_WIRE)
    elif a.form == "maps" and b.form == "maps":
        if _window_fraction(a, b) is None:  # elementwise: the maps' edges carry over
            ax, ay, aside = _front_map(a, a_at)
            bx, by, bside = _front_map(b, b_at)
            for y1, y2 in ((ay, by), (ay + aside, by + bside)):
                svg.line(ax + aside, y1, bx, y2, class_="wire", stroke="#9aa3ae", stroke_width=0.8)
        # else: the kernel window's lines, drawn over the maps, join them
    elif a.form == "maps" and b.form == "units":
        fx, fy, side = _front_map(a, a_at)
        for x2, y2 in b.unit_centers(*b_at):
            svg.line(fx + side, fy + side / 2, x2 - RADIUS, y2, class_="wire", **_WIRE)
    elif a.form == "units" and b.form == "maps":
        fx, fy, side = _front_map(b, b_at)
        for x1, y1 in a.unit_centers(*a_at):
            svg.line(x1 + RADIUS, y1, fx, fy + side / 2, class_="wire", **_WIRE)
    else:  # a box and its neighbour: one arrow between facing sides
        ax, ay, aw, ah = _rect(a, a_at)
        bx, by, bw, bh = _rect(b, b_at)
        start, end = (ax + aw + 2, ay + ah / 2), (bx - 2, by + bh / 2)
        svg.line(*start, *end, stroke=drawing.EDGE, stroke_width=0.9, class_="edge")
        drawing.arrowhead(svg, end, start, drawing.EDGE)


def _rect(figure: Figure, at) -> tuple[float, float, float, float]:
    return at[0] - figure.width / 2, at[1] - figure.height / 2, figure.width, figure.height


def _front_map(figure: Figure, at) -> tuple[float, float, float]:
    """Top-left corner and side of the front (bottom-left) map of a stack centred at ``at``."""
    cx, cy = at
    return cx - figure.width / 2, cy - figure.height / 2 + (figure.maps - 1) * MAP_STEP, figure.side


def _kernel_lines(svg: Svg, a: Figure, a_at, b: Figure, b_at) -> None:
    """The kernel (or pooling) window of ``b`` on ``a``'s front map, its lines meeting on ``b``'s."""
    window = _window_fraction(a, b)
    ax, ay, aside = _front_map(a, a_at)
    bx, by, bside = _front_map(b, b_at)
    size = max(6.0, min(aside * 0.6, aside * window))
    wx, wy = ax + aside * 0.62 - size / 2, ay + aside * 0.3 - size / 2
    tip = (bx + bside * 0.4, by + bside * 0.55)
    svg.open_group(css_class="kernel")
    for corner in ((wx, wy), (wx + size, wy), (wx, wy + size), (wx + size, wy + size)):
        svg.line(*corner, *tip, stroke="#3d4f66", stroke_width=0.6, stroke_opacity="0.7")
    svg.rect(wx, wy, size, size, fill="#3d4f66", fill_opacity="0.18", stroke="#3d4f66", stroke_width=0.9,
             class_="window")
    svg.circle(*tip, 1.6, fill="#3d4f66")
    svg.close_group()


def _window_fraction(a: Figure, b: Figure) -> Optional[float]:
    """The window's size as a fraction of ``a``'s map, for conv and pooling heads."""
    layer = b.layer
    shape_in = single(a.layer.output_shape)
    if shape_in is None or len(shape_in) < 3 or not shape_in[1]:
        return None
    if "Conv" in layer.class_name or ("Pooling" in layer.class_name and "Global" not in layer.class_name):
        text = next((line for line in b.lines if line.startswith(("kernel ", "stride "))), None)
        if text is None:
            return None
        first = text.split(" ", 1)[1].split("\u00d7")[0]
        return int(first) / shape_in[1] if first.isdigit() else None
    return None


# --- figures -------------------------------------------------------------------------------


def _figure(svg: Svg, figure: Figure, at, shade: Shades) -> None:
    layer = figure.layer
    category = style.layer_category(layer.class_name, layer.is_model)
    attrs = {"data_form": figure.form}
    if figure.form == "units":
        attrs.update(data_units=figure.units, data_shown=figure.shown)
    svg.open_group(id=layer.id, css_class=f"node layer layer-{category}", title=make_tooltip(layer), **attrs)
    cx, cy = at
    if figure.form == "units":
        dashed = "3 2" if category == "dropout" else None
        for x, y in figure.unit_centers(cx, cy):
            svg.circle(x, y, RADIUS, fill=shade.front if not dashed else "#ffffff", stroke=shade.stroke,
                       stroke_width=1.0, stroke_dasharray=dashed, class_="unit")
        if figure.shown < figure.units:
            gap_top = cy - figure.height / 2 + math.ceil(figure.shown / 2) * PITCH
            for k in range(3):
                svg.circle(cx, gap_top + 3 + k * 5, 1.3, fill=drawing.MUTED, class_="more")
    elif figure.form == "maps":
        x0, y0 = cx - figure.width / 2, cy - figure.height / 2
        for k in reversed(range(figure.maps)):  # back to front
            x, y = x0 + k * MAP_STEP, y0 + (figure.maps - 1 - k) * MAP_STEP
            svg.rect(x, y, figure.side, figure.side, fill=shade.front, stroke=shade.stroke, stroke_width=0.8,
                     class_="map")
    else:
        _box(svg, figure, cx, cy, category)
    _caption(svg, figure, cx, cy + figure.height / 2 + LINE + 2)
    svg.close_group()


def _box(svg: Svg, figure: Figure, cx: float, cy: float, category: str) -> None:
    colors = style.colors(category)
    x, y = cx - figure.width / 2, cy - figure.height / 2
    if figure.badge:
        for k in (2, 1):
            svg.rect(x + 3 * k, y - 3 * k, figure.width, figure.height, rx=6, fill=colors.fill,
                     stroke=colors.border, stroke_width=0.8)
    svg.rect(x, y, figure.width, figure.height, rx=6, fill=colors.fill, stroke=colors.border, stroke_width=1.0,
             class_="box")
    count = repeated_count(figure.layer)
    title = figure.layer.name.rsplit(" \u00d7", 1)[0] if count else figure.layer.class_name
    svg.text(cx, cy - 2, title, size=LABEL_SIZE + 0.5, fill=colors.accent, anchor="middle", weight="bold")
    svg.text(cx, cy + 10, format_shape(figure.layer.output_shape), size=LABEL_SIZE - 0.5, fill=drawing.TEXT,
             anchor="middle", mono=True)
    if figure.badge:
        bw = text_width(figure.badge, 8) + 8
        bx, by = x + figure.width - bw / 2 + 4, y - 10
        svg.rect(bx, by, bw, 12, rx=6, fill="#363f4c", class_="badge")
        svg.text(bx + bw / 2, by + 9, figure.badge, size=8, fill="white", anchor="middle", weight="bold")


def _caption(svg: Svg, figure: Figure, cx: float, y: float) -> None:
    for i, line in enumerate(figure.lines):
        bold = i == 0 and figure.form != "box" and line == figure.layer.name
        color = drawing.TEXT if bold or i == 0 else drawing.MUTED
        svg.text(cx, y + i * LINE, line, size=LABEL_SIZE, fill=color, anchor="middle",
                 weight="bold" if bold else None)


# --- legend ---------------------------------------------------------------------------------


def _legend(layers: list[Layer], figures: dict[str, Figure], shades: dict[str, Shades],
            windows: bool) -> list[LegendEntry]:
    entries: list[LegendEntry] = []
    seen: set[tuple[str, str]] = set()
    for layer in layers:
        figure = figures[layer.id]
        key = (layer.class_name, figure.form)
        if key in seen:
            continue
        seen.add(key)
        shade = shades[layer.class_name]
        category = style.layer_category(layer.class_name, layer.is_model)
        label = {"units": f"{layer.class_name} (units)", "maps": f"{layer.class_name} (feature maps)",
                 "box": layer.class_name}[figure.form]
        entries.append(LegendEntry(label, _swatch(figure.form, shade, category)))
    if windows:
        entries.append(LegendEntry("kernel / pooling window", _window_swatch))
    return entries


def _window_swatch(svg: Svg, x: float, y: float) -> None:
    svg.rect(x, y + 2, 12, 12, fill="white", stroke="#9aa3ae", stroke_width=0.7)
    svg.rect(x + 3, y + 5, 5, 5, fill="#3d4f66", fill_opacity="0.18", stroke="#3d4f66", stroke_width=0.9)
    svg.line(x + 8, y + 5, x + 16, y + 8, stroke="#3d4f66", stroke_width=0.6)
    svg.line(x + 8, y + 10, x + 16, y + 8, stroke="#3d4f66", stroke_width=0.6)


def _swatch(form: str, shade: Shades, category: str):
    def draw(svg: Svg, x: float, y: float) -> None:
        if form == "units":
            dashed = "3 2" if category == "dropout" else None
            svg.circle(x + 7, y + 7, 6, fill=shade.front if not dashed else "#ffffff", stroke=shade.stroke,
                       stroke_dasharray=dashed)
        elif form == "maps":
            for k in (1, 0):
                svg.rect(x + 3 * k + 1, y + 3 - 3 * k, 10, 10, fill=shade.front, stroke=shade.stroke,
                         stroke_width=0.7)
        else:
            colors = style.colors(category)
            svg.rect(x, y + 2, 15, 11, rx=3, fill=colors.fill, stroke=colors.border)

    return draw
