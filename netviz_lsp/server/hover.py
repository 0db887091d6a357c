"""``textDocument/hover``: what a line built, from the last good build, in milliseconds.

On a line that created layers (``ModelGraph.layers_at_line``: the layer's own line or a
call site in its creation chain) the hover is a table with one row per layer: a line in
a loop or a helper call made several, and all are shown. On a factory's ``def`` line it
is the model summary. On the line where the last build failed, when the failure carries
its partial graph (``BuildError.graph``), the hover says first what met there: "`Add`
received `(None, 8)` from line 88 and `(None, 9)` from line 89", from the graph's edges
into the failed layer and their sources' shapes and lines. Never waits for a build; lines
are mapped through unsaved edits (``positions.LineMap``) and a line that changed since the
build gets no hover at all. In a notebook cell the line is first taken to the notebook's
joined text, and lines are said as "cell 3, line 2".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Optional, Sequence

from lsprotocol import types

from netviz_lsp.graph import BuildError, Layer, ModelGraph, format_count, format_shape
from netviz_lsp.server import markdown as md
from netviz_lsp.server import notebooks

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer
    from netviz_lsp.server.documents import Document

_MB = 1024 * 1024  # Keras' summary counts MB in powers of two; so do we


def hover_markdown(graphs: Sequence[ModelGraph], line: int) -> Optional[str]:
    """Markdown for 1-based ``line`` of the text ``graphs`` were built from, or None."""
    for graph in graphs:
        if graph.line == line:
            return model_summary(graph)
    sections = [(graph, graph.layers_at_line(line)) for graph in graphs]
    sections = [(graph, layers) for graph, layers in sections if layers]
    if not sections:
        return None
    titled = len(sections) > 1
    parts = [layer_table(layers, graph.factory if titled else None) for graph, layers in sections]
    return "\n\n".join(parts)


def failure_markdown(errors: Iterable[BuildError], line: int,
                     where: Callable[[int], str] = lambda line: f"line {line}") -> Optional[str]:
    """What met at 1-based ``line`` of the text the errors were built from, when a build failed
    there with a partial graph: the failed layer's inputs, their shapes and where they came from
    (``where`` says a built line as the user reads it now). None when nothing failed there."""
    found: dict[str, str] = {}  # text -> the factory it failed for (several may share a helper's failure)
    for error in errors:
        graph = error.graph
        if graph is None or error.line != line:
            continue
        failed = next((layer for layer in graph.layers if layer.failed), None)
        if failed is None:
            continue
        by_id = {layer.id: layer for layer in graph.layers}
        sources = [by_id[source] for source, target in graph.edges if target == failed.id and source in by_id]
        title = md.code(failed.class_name)
        if sources:
            text = f"{title} received " + _and([_came(source, where) for source in sources])
        else:
            text = f"{title} failed here"
        found.setdefault(text, error.factory or graph.factory)
    if len(found) > 1:
        return "\n\n".join(f"**{md.escape(factory)}**: {text}" for text, factory in found.items())
    return next(iter(found), None)


def _came(layer: Layer, where: Callable[[int], str]) -> str:
    shape = md.code(format_shape(layer.output_shape))
    place = where(layer.line) if layer.line else ""
    return f"{shape} from {place}" if place else f"{shape} from {md.code(layer.name)}"


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def layer_table(layers: Sequence[Layer], factory: Optional[str] = None) -> str:
    """One row per layer: name, class, output shape, params with their trainable split, activation."""
    header = ["Layer", "Class", "Output shape", "Params", "Trainable", "Non-trainable", "Activation"]
    rows = [
        [
            md.escape(layer.name),
            md.escape(layer.class_name),
            md.code(format_shape(layer.output_shape)),
            md.count(layer.params),
            md.count(_trainable(layer)),
            md.count(layer.params - _trainable(layer)),
            md.escape(layer.activation) if layer.activation else "",
        ]
        for layer in layers
    ]
    text = md.table(header, rows, align="lllrrrl")
    if factory is not None:
        text = f"**{md.escape(factory)}**\n\n{text}"
    if len(layers) > 1:
        total = sum(layer.params for layer in layers)
        trainable = sum(_trainable(layer) for layer in layers)
        text += (f"\n\n{len(layers)} layers on this line · {md.count(total)} params "
                 f"({md.count(trainable)} trainable, {md.count(total - trainable)} non-trainable)")
    return text


def model_summary(graph: ModelGraph) -> str:
    """The factory's model: params and their split, shapes, layer count, weights size, build."""
    top = [layer for layer in graph.layers if layer.parent is None]
    nested = len(graph.layers) - len(top)
    on = f" on {graph.build.backend}" if graph.build.backend else ""  # the Keras backend that built it
    build = f"{graph.build.ms:,.0f} ms{on}, " + ("shape-only (no weights allocated)" if graph.build.shape_only
                                                 else "with real weights")
    rows = [
        ["Total params", f"{md.count(graph.total_params)} ({format_count(graph.total_params)})"],
        ["Trainable params", md.count(graph.trainable_params)],
        ["Non-trainable params", md.count(graph.non_trainable_params)],
        ["Input shape" + ("s" if len(graph.inputs) > 1 else ""), _shapes(graph.inputs)],
        ["Output shape" + ("s" if len(graph.outputs) > 1 else ""), _shapes(graph.outputs)],
        ["Layers", f"{len(top)}" + (f" (+{nested} nested)" if nested else "")],
        ["Weights", f"{graph.weights_bytes / _MB:,.2f} MB"],
        ["Build", build],
    ]
    title = f"**{md.escape(graph.factory)}()** · {md.escape(graph.class_name)}"
    if graph.name and graph.name != graph.factory:
        title += f" · model {md.escape(graph.name)}"
    text = title + "\n\n" + md.table(["", ""], rows, align="lr")
    if graph.build.note:
        text += f"\n\n_{md.escape(graph.build.note)}_"
    return text


def _shapes(shapes: list) -> str:
    return ", ".join(md.code(format_shape(shape)) for shape in shapes) or "—"


def _trainable(layer: Layer) -> int:
    return min(layer.trainable_params, layer.params)


def register(server: "NetVizServer") -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @server.guarded
    def hover(ls: "NetVizServer", params: types.HoverParams) -> Optional[types.Hover]:
        """Layer table or model summary for the hovered line; None when the line changed since the build."""
        document, cell = notebooks.locate(ls, params.text_document.uri)
        if document is None:
            return None
        line: Optional[int] = params.position.line
        if cell is not None and document.notebook is not None:
            line = document.notebook.to_joined(cell, params.position.line)
        if line is None:
            return None
        parts = [failure_here(document, line)]
        for graphs, built_line in document.graphs_at(line):
            parts.append(hover_markdown(graphs, built_line + 1))
            if parts[-1]:
                break
        text = "\n\n---\n\n".join(part for part in parts if part)
        if text:
            return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))
        return None


def failure_here(document: "Document", line: int) -> Optional[str]:
    """``failure_markdown`` for current 0-based ``line``, from the document's last build."""
    built = document.last
    if built is None or not any(error.graph is not None for error in built.errors):
        return None
    line_map = document.line_map(built.snapshot)
    built_line = line_map.to_old(line)
    if built_line is None:
        return None

    def where(source_line: int) -> str:
        now = line_map.to_new(source_line - 1)
        if now is None:
            return ""
        if document.notebook is None:
            return f"line {now + 1}"
        cell = document.notebook.to_cell(now)
        index = document.notebook.index_of(cell[0]) if cell is not None else None
        return f"cell {index + 1}, line {cell[1] + 1}" if cell is not None and index is not None else ""
    return failure_markdown(built.errors, built_line + 1, where)
