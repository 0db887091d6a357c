"""One self-contained HTML file of a model: the panel's own viewer, offline (``--format html``,
``netviz.export`` with ``html``).

The file holds, inline and nothing else:

- a ``Content-Security-Policy`` that lets run only the page's own script and style (by their
  SHA-256 hashes) and show only ``data:`` images: no request can leave the page;
- the preview panel's stylesheet (``editor-client/media/preview.css``) and its viewer script
  built for standalone use (``editor-client/dist/standalone.js``, made by ``npm run build`` in
  ``editor-client``);
- the data, in ``<script type="application/json" id="netviz-standalone">``:
  ``{"fileName", "diagram", "expansions", "macs"}`` (``macs``: each layer's multiply-accumulates,
  for the MACs overlay, as ``netviz.renderView``'s ``layerMacs``). ``diagram`` is a ``FileDiagram`` as the webview
  holds it (``editor-client/src/core/protocol.ts``) with this one model; ``expansions`` maps a
  set of expanded groups (their ids sorted and joined by ``,``) to the SVG drawn so: ``""`` is
  the default drawing; then, for each group, the drawing with it and its ancestors expanded;
  and for a graph drawn expanded by default (at most ``COLLAPSE_OVER`` layers), the drawing
  with every group expanded and, for each group, with every group but it expanded.

The SVGs are Graphviz's, as the panel gets them; the viewer sanitises them as it does there.
A failed target's page (``export_partial_html``) holds its error's partial graph as the panel
shows a model that never built: drawn up to the error, the error beside it, one drawing.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from netviz_lsp.graph import BuildError, Group, ModelGraph
from netviz_lsp.settings import RenderOptions

DATA_ID = "netviz-standalone"
"""The id of the JSON data element the standalone viewer reads."""
SCRIPT = ("dist", "standalone.js")
STYLE = ("media", "preview.css")
VIEWER_ENV = "NETVIZ_VIEWER_DIR"
"""A folder holding ``dist/standalone.js`` and ``media/preview.css`` (an extension's root), to use instead."""
BUILD_HINT = "build it with `npm install && npm run build` in editor-client/"

Draw = Callable[[ModelGraph, RenderOptions], bytes]
"""Draws a graph as SVG with the given options (the engine's ``export`` of the graph view)."""


class ViewerMissing(RuntimeError):
    """The viewer script or stylesheet is not built or not found."""


@dataclass(frozen=True)
class Viewer:
    script: str
    style: str


def viewer_roots() -> list[Path]:
    """Where the viewer may lie: ``$NETVIZ_VIEWER_DIR``; the checkout's ``editor-client/``; the
    extension root above a bundled server (``<extension>/bundled/netviz_lsp``)."""
    package = Path(__file__).resolve().parent.parent
    roots = [Path(os.environ[VIEWER_ENV])] if os.environ.get(VIEWER_ENV) else []
    return roots + [package.parent / "editor-client", package.parent.parent]


def load_viewer(roots: Optional[Iterable[Path]] = None) -> Viewer:
    """The viewer's script and stylesheet from the first root that has both; ``ViewerMissing`` otherwise."""
    looked = []
    for root in roots if roots is not None else viewer_roots():
        script, style = root.joinpath(*SCRIPT), root.joinpath(*STYLE)
        looked.append(str(script))
        if script.is_file() and style.is_file():
            return Viewer(script.read_text(encoding="utf-8"), style.read_text(encoding="utf-8"))
    raise ViewerMissing(f"the HTML export needs the preview panel's standalone viewer script, which is not built "
                        f"(looked for {', '.join(looked)}): {BUILD_HINT}")


def expansion_key(ids: Iterable[str]) -> str:
    """The ``expansions`` key of a set of expanded groups: sorted ids joined by ``,`` (``""`` for none)."""
    return ",".join(sorted(set(ids)))


def expansion_sets(graph: ModelGraph) -> dict[str, Optional[frozenset[str]]]:
    """Each ``expansions`` key with the groups it expands (``None``: the default drawing)."""
    from netviz_lsp.render.collapse import default_expanded

    by_id = {group.id: group for group in graph.groups}
    sets: dict[str, Optional[frozenset[str]]] = {"": None}
    for group in graph.groups:
        sets.setdefault(expansion_key(_with_ancestors(group, by_id)), frozenset(_with_ancestors(group, by_id)))
    every = frozenset(by_id)
    if graph.groups and default_expanded(graph) == set(every):
        sets.setdefault(expansion_key(every), every)
        for group in graph.groups:
            sets.setdefault(expansion_key(every - {group.id}), every - {group.id})
    return sets


def _with_ancestors(group: Group, by_id: dict[str, Group]) -> set[str]:
    out, current = set(), group
    while current is not None and current.id not in out:
        out.add(current.id)
        current = by_id.get(current.parent) if current.parent else None
    return out


def standalone_data(graph: ModelGraph, file_name: str, draw: Draw, options: RenderOptions, *,
                    uri: Optional[str] = None, changes: Optional[dict[str, Any]] = None,
                    errors: Iterable[BuildError] = ()) -> dict[str, Any]:
    """The JSON the standalone viewer reads: the file's name, its ``FileDiagram`` and the drawings."""
    expansions: dict[str, str] = {}
    for key, expanded in expansion_sets(graph).items():
        drawn = options if expanded is None else dataclasses.replace(options, expand_groups=tuple(sorted(expanded)))
        expansions[key] = draw(graph, drawn).decode("utf-8")
    model = {"factory": graph.factory, "svg": expansions[""], "graph": graph.to_dict(), "stale": False,
             "changes": changes}
    diagram = {"uri": uri or Path(os.path.abspath(file_name)).as_uri(), "version": None, "models": [model],
               "errors": [e.to_dict() for e in errors], "elapsedMs": 0, "sequence": 1}
    from netviz_lsp.render.views.macs import count_macs

    return {"fileName": os.path.basename(file_name), "diagram": diagram, "expansions": expansions,
            "macs": count_macs(graph).per_layer}


def standalone_html(data: dict[str, Any], viewer: Viewer, title: str) -> bytes:
    """The page: CSP, inline stylesheet, the data and the viewer script."""
    script = viewer.script.replace("</script", "<\\/script")
    style = viewer.style.replace("</style", "<\\/style")
    csp = "; ".join([
        "default-src 'none'",
        f"script-src '{_sha256(script)}'",
        f"style-src '{_sha256(style)}'",
        "img-src data:",
        "font-src data:",
        "base-uri 'none'",
        "form-action 'none'",
    ])
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    payload = payload.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{html.escape(csp, quote=True)}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{style}</style>\n</head>\n<body>\n"
        f"<script type=\"application/json\" id=\"{DATA_ID}\">{payload}</script>\n"
        f"<script>{script}</script>\n"
        "</body>\n</html>\n"
    ).encode("utf-8")


def export_html(graph: ModelGraph, file_name: str, draw: Draw, options: RenderOptions, *,
                viewer: Optional[Viewer] = None, uri: Optional[str] = None,
                changes: Optional[dict[str, Any]] = None, errors: Iterable[BuildError] = ()) -> bytes:
    """``graph`` as one self-contained HTML file (see the module docstring)."""
    viewer = viewer or load_viewer()
    data = standalone_data(graph, file_name, draw, options, uri=uri, changes=changes, errors=errors)
    return standalone_html(data, viewer, f"{graph.factory} \u2014 {os.path.basename(file_name)} \u2014 NetViz")


def partial_data(error: BuildError, file_name: str, svg: bytes, *, uri: Optional[str] = None) -> dict[str, Any]:
    """The JSON the standalone viewer reads for a failed target: its error's partial graph as a model
    that never built (``partialOnly``, as the panel holds it), drawn up to the error (``svg``: the
    engine's ``draw_partials``), with the error beside it. One drawing: groups do not open here."""
    graph = error.graph.to_dict()
    model = {"factory": error.factory, "svg": None, "graph": graph, "stale": False, "changes": None,
             "partial": {"svg": svg.decode("utf-8"), "graph": graph, "error": error.to_dict()}, "partialOnly": True}
    diagram = {"uri": uri or Path(os.path.abspath(file_name)).as_uri(), "version": None, "models": [model],
               "errors": [error.to_dict()], "elapsedMs": 0, "sequence": 1}
    return {"fileName": os.path.basename(file_name), "diagram": diagram, "expansions": {}, "macs": None}


def export_partial_html(error: BuildError, file_name: str, svg: bytes, *, viewer: Optional[Viewer] = None) -> bytes:
    """A failed target's partial graph (``error.graph``, drawn as ``svg``) as one self-contained HTML file."""
    viewer = viewer or load_viewer()
    return standalone_html(partial_data(error, file_name, svg), viewer,
                           f"{error.factory} (failed) \u2014 {os.path.basename(file_name)} \u2014 NetViz")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
