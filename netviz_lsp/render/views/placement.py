"""Where the self-drawn views put their shapes: Graphviz lays out boxes of given sizes.

The layered and neuron views draw every pixel themselves, but leave the hard part,
placing a branching graph with few crossings, to ``dot``: each drawn item is a
fixed-size box, each group (an expanded nested model, a repeated block) a cluster, and
``dot -Tjson0`` returns the centres, the group frames and the edge curves. A straight
chain comes back as a straight row; branches come back side by side.

Coordinates are points with the origin at the top left (``dot``'s y axis is flipped).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from typing import Optional

from netviz_lsp.render.layout import RenderError, _dot_program, _failure_message, _reason

Point = tuple[float, float]


@dataclass
class Item:
    """A shape to place: its id (a layer id), size in points, and its group (``None``: top level)."""

    id: str
    width: float
    height: float
    group: Optional[str] = None


@dataclass
class Group:
    """A frame around items (and sub-groups): id, parent group, and room for its title."""

    id: str
    parent: Optional[str] = None
    label_height: float = 14.0


@dataclass
class Placement:
    """The layout: item centres, group frames ``(x, y, w, h)``, edge curves, total size."""

    centers: dict[str, Point] = field(default_factory=dict)
    frames: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    curves: dict[tuple[str, str], list[Point]] = field(default_factory=dict)
    """Cubic B\u00e9zier control points (``dot``'s spline, ``3n + 1`` of them) from tail border to head border."""
    width: float = 0.0
    height: float = 0.0


def place(items: list[Item], edges: list[tuple[str, str]], groups: list[Group] = (),
          rankdir: str = "LR", nodesep: float = 18.0, ranksep: float = 24.0,
          timeout: float = 30.0) -> Placement:
    """Lay out ``items`` joined by ``edges`` (item ids) with ``dot``. Raises ``RenderError``."""
    if not items:
        return Placement()
    source = _dot_source(items, edges, list(groups), rankdir, nodesep, ranksep)
    try:
        done = subprocess.run([_dot_program(), "-Tjson0"], input=source.encode("utf-8"),
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RenderError(f"dot took longer than {timeout:g} s to lay out the diagram") from None
    except OSError as error:
        raise RenderError(f"could not run Graphviz's dot: {error.strerror or error}") from None
    if done.returncode != 0:
        raise RenderError(_failure_message(done.returncode, done.stderr))
    try:
        layout = json.loads(done.stdout)
    except ValueError:
        raise RenderError(f"dot returned no layout: {_reason(done.stderr) or 'unreadable output'}") from None
    return _read(layout, items, edges, list(groups))


def _dot_source(items, edges, groups, rankdir, nodesep, ranksep) -> str:
    index = {item.id: i for i, item in enumerate(items)}
    lines = [
        "digraph layout {",
        f"  graph [rankdir={rankdir}, nodesep={nodesep / 72:.3f}, ranksep={ranksep / 72:.3f}, "
        "splines=spline, newrank=true, pad=0];",
        "  node [shape=box, fixedsize=true, label=\"\"];",
        "  edge [arrowhead=none];",
    ]
    children: dict[Optional[str], list[str]] = {}
    for g, group in enumerate(groups):
        children.setdefault(group.parent, []).append(group.id)
    group_index = {group.id: g for g, group in enumerate(groups)}
    members: dict[Optional[str], list[Item]] = {}
    for item in items:
        members.setdefault(item.group if item.group in group_index else None, []).append(item)

    def emit(group_id: Optional[str], indent: str) -> None:
        for item in members.get(group_id, []):
            lines.append(f"{indent}n{index[item.id]} [width={item.width / 72:.4f}, height={item.height / 72:.4f}];")
        for child in children.get(group_id, []):
            group = groups[group_index[child]]
            lines.append(f"{indent}subgraph cluster_{group_index[child]} {{")
            # An invisible label reserves the title's room at the frame's top.
            lines.append(f"{indent}  graph [label=\" \", fontsize={max(1.0, group.label_height):.1f}, "
                         "labeljust=l, labelloc=t, margin=10];")
            emit(child, indent + "  ")
            lines.append(f"{indent}}}")

    emit(None, "  ")
    for tail, head in edges:
        if tail in index and head in index:
            lines.append(f"  n{index[tail]} -> n{index[head]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _read(layout: dict, items, edges, groups) -> Placement:
    llx, lly, urx, ury = (float(v) for v in layout["bb"].split(","))
    placement = Placement(width=urx - llx, height=ury - lly)

    def flip(x: float, y: float) -> Point:
        return x - llx, ury - y

    objects = layout.get("objects", [])
    names = {f"n{i}": item.id for i, item in enumerate(items)}
    gvid_to_item: dict[int, str] = {}
    for obj in objects:
        name = obj.get("name", "")
        if name in names and "pos" in obj:
            x, y = (float(v) for v in obj["pos"].split(","))
            placement.centers[names[name]] = flip(x, y)
            gvid_to_item[obj["_gvid"]] = names[name]
        elif name.startswith("cluster_") and "bb" in obj:
            x0, y0, x1, y1 = (float(v) for v in obj["bb"].split(","))
            left, top = flip(x0, y1)
            placement.frames[groups[int(name[len("cluster_"):])].id] = (left, top, x1 - x0, y1 - y0)
    for edge in layout.get("edges", []):
        tail, head = gvid_to_item.get(edge.get("tail")), gvid_to_item.get(edge.get("head"))
        if tail is None or head is None or "pos" not in edge:
            continue
        placement.curves[(tail, head)] = _spline(edge["pos"], flip)
    return placement


def _spline(pos: str, flip) -> list[Point]:
    """``dot``'s ``p0 p1 ...`` spline (no arrowheads were asked for) as flipped control points."""
    points = []
    for part in pos.split(";")[0].split():
        if part[:2] in ("e,", "s,"):
            continue
        x, y = part.split(",")
        points.append(flip(float(x), float(y)))
    return points
