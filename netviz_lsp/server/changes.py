"""What changed since the last diagram: ``ModelDiagram.changes`` of ``netviz/diagram``.

The server compares each graph it pushes with the graph it last pushed for the same
document and target from *saved* text (the text the editor opened or last saved): layers
added and removed (by id), layers whose output shape, parameters, class or configuration
(activation, dtype, trainable) differ, and the change of ``total_params``. So with preview
as you type, typing ``Dense(256`` → ``Dense(512`` shows the change against the last save at
every keystroke's build, never against a half-typed ``Dense(51``; the save then makes the
new graph the baseline. The first push of a target (since the document was opened) has no
changes (``None``). A push built from the baseline's own text (the same build sent again
with new SVGs, a held-back diagram shown after all, a save right after the as-you-type
build of that text) repeats the changes it was pushed with rather than comparing the graph
with itself.

``compare(before, after)`` is the comparison alone; ``netviz diff`` uses it too. Each open
``Document`` holds its own ``PushedGraphs`` (``document.pushed``): a reopened file starts afresh.
"""

from __future__ import annotations

from typing import Any, Optional

from netviz_lsp.graph import Layer, ModelGraph

COMPARED = ("class_name", "output_shape", "params", "trainable_params", "activation", "dtype", "trainable")
"""The layer fields whose difference makes a layer ``changed``."""


def compare(before: ModelGraph, after: ModelGraph) -> dict[str, Any]:
    """``{added, removed, changed, params_delta}`` from ``before`` to ``after`` (ids in model order)."""
    old = {layer.id: layer for layer in before.layers}
    new = {layer.id: layer for layer in after.layers}
    return {
        "added": [layer.id for layer in after.layers if layer.id not in old],
        "removed": [layer.id for layer in before.layers if layer.id not in new],
        "changed": [layer.id for layer in after.layers if layer.id in old and differs(old[layer.id], layer)],
        "params_delta": after.total_params - before.total_params,
    }


def differs(before: Layer, after: Layer) -> bool:
    return any(getattr(before, name) != getattr(after, name) for name in COMPARED)


def what_differs(before: Layer, after: Layer) -> list[str]:
    """The compared fields that differ, e.g. ``["output_shape", "params"]``."""
    return [name for name in COMPARED if getattr(before, name) != getattr(after, name)]


class PushedGraphs:
    """One document's baseline per target (its last push from saved text) and the changes last sent."""

    def __init__(self) -> None:
        self._base: dict[str, tuple[str, ModelGraph, Optional[dict[str, Any]]]] = {}
        self._last: dict[str, Optional[dict[str, Any]]] = {}

    def changes(self, text: str, graph: ModelGraph, saved: bool = True) -> Optional[dict[str, Any]]:
        """The changes to send with ``graph``, built from ``text`` (``saved``: the editor's saved text)."""
        base = self._base.get(graph.factory)
        if base is not None and base[0] == text:
            changes = base[2]
        else:
            changes = compare(base[1], graph) if base is not None else None
            if saved:
                self._base[graph.factory] = (text, graph, changes)
        self._last[graph.factory] = changes
        return changes

    def last(self, factory: str) -> Optional[dict[str, Any]]:
        """The changes sent with the last push of ``factory``."""
        return self._last.get(factory)
