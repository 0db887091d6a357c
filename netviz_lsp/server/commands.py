"""``workspace/executeCommand``: export, rebuild, restart the worker, list factories.

- ``netviz.export {uri, factory, format, path, overwrite?, view?}`` writes the factory's last
  good graph as svg, png, pdf, dot, json or html (a self-contained page with the panel's viewer)
  (the default ``graph`` view), or as another view
  (``keras``, ``layered``, ``neuron`` in svg/png/pdf; ``summary`` in md/html), and returns
  the path written. It refuses to replace an existing file unless ``overwrite`` is true:
  the client gets an error response.
- ``netviz.renderView {uri, factory, view, format?, expandNested?, collapseRepeats?, expand?, edgeShapes?}``
  draws the factory's last good graph as a view for the preview panel and returns ``{factory, view,
  format, content, totalMacs, layerMacs}``: ``content`` is text (svg for graph/keras/layered/neuron,
  html for summary by default). ``expandNested`` and ``collapseRepeats`` override the settings for
  this one drawing; ``expand`` lists the groups the graph view draws expanded (the others collapsed,
  ``render/collapse.py``), ``edgeShapes`` labels its edges with tensor shapes.
- ``netviz.rebuild {uri}`` queues a build of the editor's text.
- ``netviz.restartWorker`` replaces the worker processes (after a stuck import, say).
- ``netviz.listFactories {uri}`` -> ``[{name, line, args, argsOrigin, missing, built, totalParams}]``.

Arguments come as one object or positionally, in the order above; both work. For a
notebook, ``uri`` is the notebook's (a cell's URI is taken to its notebook); an export is
named ``<notebook stem>.<factory>.<format>`` by default and its JSON has cells and cell-local lines.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from netviz_lsp.server import notebooks
from netviz_lsp.server.guard import guarded
from netviz_lsp.server.payloads import FactoryInfo
from netviz_lsp.server.positions import map_line_1based

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer
    from netviz_lsp.server.documents import Document

EXPORT, REBUILD, RESTART_WORKER, LIST_FACTORIES, RENDER_VIEW = (
    "netviz.export", "netviz.rebuild", "netviz.restartWorker", "netviz.listFactories", "netviz.renderView")
EXPORT_FORMATS = ("svg", "png", "pdf", "dot", "json", "html")
"""What the default graph view exports (the contract's JSON included, and html: one self-contained page with
the panel's viewer, ``render/html_export.py``); other views export ``VIEW_FORMATS``."""
TEXT_FORMATS = ("svg", "html", "md", "dot")
"""What ``netviz.renderView`` returns inline (the JSON reply carries text, not bytes), in order of preference."""
REQUEST_FAILED = -32803  # LSP's RequestFailed: valid request, but it could not be done


class CommandFailed(JsonRpcException):
    """A command that understood its arguments but could not do what they ask."""

    CODE = REQUEST_FAILED


def plain(value: Any) -> Any:
    """JSON values from whatever the transport made of them (pygls may hand out namedtuples)."""
    if hasattr(value, "_asdict"):
        value = value._asdict()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def command_args(args: Sequence[Any], names: Sequence[str]) -> dict[str, Any]:
    """``[{uri, ...}]``, ``[[uri, ...]]`` or ``[uri, ...]`` -> one dict keyed by ``names``."""
    values = [plain(a) for a in args]
    if len(values) == 1 and isinstance(values[0], list):
        values = values[0]
    found: dict[str, Any] = {}
    for name, value in zip(names, values):
        if isinstance(value, dict):
            found.update(value)
        else:
            found[name] = value
    for value in values[len(names):]:
        if isinstance(value, dict):
            found.update(value)
    return found


def write_new(path: str, data: bytes, overwrite: bool) -> None:
    """Write ``data`` to ``path``; with ``overwrite`` false an existing file raises ``FileExistsError``."""
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "wb" if overwrite else "xb") as handle:
        handle.write(data)


def export_path(path: Any, fmt: str, document: Optional["Document"], factory: str) -> str:
    """An absolute path: relative ones are taken from the file's folder; none names one after the factory."""
    if not isinstance(path, str) or not path.strip():
        if document is None or document.path is None:
            raise JsonRpcInvalidParams(message="netviz.export needs a path")
        stem = os.path.splitext(os.path.basename(document.path))[0]
        path = f"{stem}.{factory}.{fmt}"
    path = os.path.expanduser(path)
    if not os.path.isabs(path):
        base = document.folder if document is not None and document.folder else os.getcwd()
        path = os.path.join(base, path)
    return os.path.normpath(path)


def factory_infos(document: "Document") -> list[FactoryInfo]:
    """The factories of the document's last build, with lines of the current text where they map."""
    if document.discovered is None:
        return []
    discovery, snapshot = document.discovered
    failed = document.failed_factories()
    line_map = document.line_map(snapshot)
    infos = []
    for factory in discovery.factories:
        good = document.good.get(factory.name)
        line = map_line_1based(line_map, factory.line)
        infos.append(FactoryInfo(
            name=factory.name, line=line + 1 if line is not None else factory.line, args=factory.args,
            args_origin=factory.args_origin, missing=list(factory.missing),
            built=good is not None and factory.name not in failed and factory.args is not None,
            total_params=good.graph.total_params if good is not None else None))
    return infos


def _document(ls: "NetVizServer", uri: Any) -> "Document":
    if not isinstance(uri, str):
        raise JsonRpcInvalidParams(message="the command needs the document's uri")
    document, _ = notebooks.locate(ls, uri)
    if document is None:
        raise CommandFailed(message=f"{uri} is not open in the editor")
    return document


def _good_graph(document: "Document", factory: Any) -> tuple[str, Any]:
    """The factory's name and last good build; the only one when ``factory`` is not given."""
    if factory is None and len(document.good) == 1:
        factory = next(iter(document.good))
    good = document.good.get(factory) if isinstance(factory, str) else None
    if good is None:
        raise CommandFailed(message=f"no diagram of {factory!r} yet: save the file to build it")
    return factory, good


def _contract_graph(good: Any) -> Any:
    """The good graph as the contract has it: with cells and cell-local lines in a notebook."""
    joined = good.snapshot.notebook
    if joined is None:
        return good.graph
    if good.contract is None:  # kept, so the engine's render cache (keyed on the graph) still hits
        good.contract = notebooks.map_models([good.graph], joined)[0]
    return good.contract


async def export(ls: "NetVizServer", *args: Any) -> str:
    """``netviz.export``: write one factory's diagram or graph to a file; returns the path."""
    from netviz_lsp.render import VIEW_FORMATS

    given = command_args(args, ("uri", "factory", "format", "path", "overwrite", "view"))
    document = _document(ls, given.get("uri"))
    view, fmt = _view_and_format(given.get("view"), given.get("format"), "exports",
                                 lambda v: EXPORT_FORMATS if v == "graph" else VIEW_FORMATS[v])
    factory, good = _good_graph(document, given.get("factory"))
    path = export_path(given.get("path"), fmt, document, factory)
    overwrite = given.get("overwrite") is True
    refusal = f"{path} exists; pass overwrite: true to replace it"
    if os.path.exists(path) and not overwrite:
        raise CommandFailed(message=refusal)
    loop = asyncio.get_running_loop()
    try:  # Graphviz and the disk, off the event loop
        if view == "graph" and fmt == "html":
            data = await loop.run_in_executor(None, _html_page, ls, document, good)
        else:
            data = await loop.run_in_executor(None, ls.engine.export, _contract_graph(good), fmt,
                                              ls.settings.render, view, ls.settings.views)
        await loop.run_in_executor(None, write_new, path, data, overwrite)
    except FileExistsError:  # created since the check above
        raise CommandFailed(message=refusal) from None
    except Exception as error:  # RenderError, OSError: the user can act on the message
        raise CommandFailed(message=f"could not export {factory}: {error}") from None
    return path


def _html_page(ls: "NetVizServer", document: "Document", good: Any) -> bytes:
    """The factory's graph as one self-contained HTML page (the panel's viewer, its groups' drawings)."""
    from netviz_lsp.render.html_export import export_html

    def draw(graph, options) -> bytes:
        return ls.engine.export(graph, "svg", options, "graph", ls.settings.views)

    graph = _contract_graph(good)
    return export_html(graph, document.path or document.uri, draw, ls.settings.render, uri=document.uri,
                       changes=document.pushed.last(graph.factory))


def _view_and_format(view: Any, fmt: Any, verb: str,
                     formats_of: Callable[[str], Sequence[str]]) -> tuple[str, str]:
    """The view (``graph`` by default) and format asked for, checked against ``formats_of(view)``,
    whose first entry is the default."""
    from netviz_lsp.render import VIEW_FORMATS

    view = str(view or "graph").lower()
    if view not in VIEW_FORMATS:
        raise JsonRpcInvalidParams(message=f"unknown view {view!r}; use one of {', '.join(VIEW_FORMATS)}")
    allowed = formats_of(view)
    fmt = str(fmt or allowed[0]).lower()
    if fmt not in allowed:
        raise JsonRpcInvalidParams(message=f"the {view} view {verb} {', '.join(allowed)}, not {fmt!r}")
    return view, fmt


def _panel_formats(view: str) -> list[str]:
    """The view's text formats, the panel's favourite first (svg, or html for the summary)."""
    from netviz_lsp.render import VIEW_FORMATS

    return sorted((f for f in VIEW_FORMATS[view] if f in TEXT_FORMATS), key=TEXT_FORMATS.index)


async def render_view(ls: "NetVizServer", *args: Any) -> dict[str, Any]:
    """``netviz.renderView``: one factory drawn as a view, returned as text for the preview panel."""
    from netviz_lsp.render.views.macs import count_macs

    given = command_args(args, ("uri", "factory", "view", "format", "expandNested", "collapseRepeats", "expand",
                                "edgeShapes"))
    document = _document(ls, given.get("uri"))
    view, fmt = _view_and_format(given.get("view"), given.get("format"), "draws in the panel", _panel_formats)
    factory, good = _good_graph(document, given.get("factory"))
    options, view_options = ls.settings.render, ls.settings.views
    if isinstance(given.get("expandNested"), bool):
        options = dataclasses.replace(options, expand_nested=given["expandNested"])
    if isinstance(given.get("collapseRepeats"), bool):
        view_options = dataclasses.replace(view_options, collapse_repeats=given["collapseRepeats"])
    expand = given.get("expand")
    if isinstance(expand, list):
        options = dataclasses.replace(options, expand_groups=tuple(sorted({str(g) for g in expand})))
    if isinstance(given.get("edgeShapes"), bool):
        options = dataclasses.replace(options, edge_shapes=given["edgeShapes"])
    loop = asyncio.get_running_loop()
    try:  # Graphviz, off the event loop
        data = await loop.run_in_executor(None, ls.engine.export, _contract_graph(good), fmt, options, view,
                                          view_options)
    except Exception as error:  # RenderError: the panel shows the message
        raise CommandFailed(message=f"could not draw the {view} view of {factory}: {error}") from None
    macs = count_macs(good.graph)
    return {"factory": factory, "view": view, "format": fmt, "content": data.decode("utf-8"),
            "totalMacs": macs.total, "layerMacs": macs.per_layer}


def rebuild(ls: "NetVizServer", *args: Any) -> dict[str, str]:
    """``netviz.rebuild``: queue a build of the document as the editor has it."""
    document = _document(ls, command_args(args, ("uri",)).get("uri"))
    if document.path:
        ls.engine.forget(document.path)  # asked for: build it even if unchanged
    ls.request_build(document, "command")
    return {"uri": document.uri, "state": ls.scheduler.state(document.uri).value}


async def restart_worker(ls: "NetVizServer", *args: Any) -> str:
    """``netviz.restartWorker``: replace the worker processes, then rebuild the open factory files."""
    await asyncio.get_running_loop().run_in_executor(None, ls.engine.restart)
    for document in ls.documents:
        if document.had_factories:
            ls.request_build(document, "command")
    return "restarted"


def list_factories(ls: "NetVizServer", *args: Any) -> list[dict[str, Any]]:
    """``netviz.listFactories``: the factories of the document's last build."""
    document = _document(ls, command_args(args, ("uri",)).get("uri"))
    return [info.to_json() for info in factory_infos(document)]


def register(server: "NetVizServer") -> None:
    for name, handler in ((EXPORT, export), (REBUILD, rebuild), (RESTART_WORKER, restart_worker),
                          (LIST_FACTORIES, list_factories), (RENDER_VIEW, render_view)):
        server.command(name)(guarded(handler))
