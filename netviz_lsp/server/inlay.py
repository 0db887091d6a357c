"""``textDocument/inlayHint``: each line that created layers ends with their output shape and params.

``conv = layers.Conv2D(64, 3)  → (None, 126, 126, 64) · 640 params``. A line that made
several layers (a loop, a helper call) is summarised: how many and of which class, the
last one's shape, their params together. Answers from the last good build through the
line map of unsaved edits; switched off by the ``inlayHints.enabled`` setting. In a notebook
cell: the cell's lines of the notebook's joined text, put back at the cell's own lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from lsprotocol import types

from netviz_lsp.graph import Layer, ModelGraph, format_count, format_shape
from netviz_lsp.server import notebooks
from netviz_lsp.server.positions import LineMap, map_line_1based

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer


def params_text(n: int) -> str:
    """``640``, ``36,928``, then compact from a million: ``1.9M``."""
    return f"{n:,}" if n < 1_000_000 else format_count(n)


def inlay_label(layers: Sequence[Layer]) -> Optional[str]:
    """The hint for the layers one line created, in creation order; None for none."""
    if not layers:
        return None
    last = layers[-1]
    total = sum(layer.params for layer in layers)
    if len(layers) == 1:
        text = f"→ {format_shape(last.output_shape)}"
    else:
        classes = {layer.class_name for layer in layers}
        what = f"{len(layers)}× {last.class_name}" if len(classes) == 1 else f"{len(layers)} layers"
        text = f"→ {what}, last {format_shape(last.output_shape)}"
    if total:
        text += f" · {params_text(total)} params"
    return text


def layers_by_line(sources: Iterable[tuple[ModelGraph, LineMap]], first: int, last: int) -> dict[int, list[Layer]]:
    """Current 0-based lines in ``[first, last]`` -> the layers whose creation chain passes through them."""
    found: dict[int, list[Layer]] = {}
    seen: set[tuple[int, str, str]] = set()
    for graph, line_map in sources:
        for layer in graph.layers:
            for built_line in dict.fromkeys([layer.line, *layer.call_lines]):
                line = map_line_1based(line_map, built_line)
                if line is None or not first <= line <= last:
                    continue
                key = (line, graph.factory, layer.id)
                if key not in seen:
                    seen.add(key)
                    found.setdefault(line, []).append(layer)
    return found


def register(server: "NetVizServer") -> None:
    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions(resolve_provider=False))
    @server.guarded
    def inlay_hints(ls: "NetVizServer", params: types.InlayHintParams) -> Optional[list[types.InlayHint]]:
        """Shape and params at the end of every layer-creating line in the requested range."""
        if not ls.settings.inlay_hints:
            return []
        document, cell = notebooks.locate(ls, params.text_document.uri)
        if document is None:
            return None
        first, last = params.range.start.line, params.range.end.line
        view = document.notebook if cell is not None else None
        if view is not None:
            span = view.span(cell, first, last)
            if span is None:
                return []
            first, last = span
        found = layers_by_line(document.graph_sources(), first, last)
        lines = document.display_lines
        hints = []
        for line, layers in sorted(found.items()):
            label = inlay_label(layers)
            if label is None or line >= len(lines):
                continue
            at = line
            if view is not None:
                where = view.to_cell(line)
                if where is None or view.index_of(where[0]) != view.index_of(cell):
                    continue
                at = where[1]
            end = types.Position(line=at, character=ls.width(document.uri, lines[line]))
            hints.append(types.InlayHint(position=end, label=label, kind=types.InlayHintKind.Type,
                                         padding_left=True))
        return hints
