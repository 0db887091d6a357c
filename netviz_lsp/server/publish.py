"""The event-loop side of a finished build: keep it, show it, or drop it.

``finish_build`` receives a ``Built`` from the build thread. A superseded build (a newer
request for the file exists) and a build of a file closed meanwhile are dropped
unseen. Otherwise the build becomes the document's last one; its ``netviz/diagram`` is
sent only when it was made from exactly the editor's current text (else it is held,
and sent if the editor's text comes back to it: an outside edit the editor reloads),
diagnostics are published for the current version (before the diagram, so a client
holding a diagram holds its diagnostics too), ``netviz/buildStatus`` says done or
failed, and the client is asked to refresh code lenses and inlay hints.

Each outcome is also said in the client's log (``window/logMessage``): at Info what a
user wants to know (built: file, why, models, time, problems; held back, and why;
shown after all), at Debug what was dropped unseen.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Optional
from urllib.parse import unquote

from lsprotocol import types

from netviz_lsp.graph import BuildError
from netviz_lsp.server import diagnostics, notebooks
from netviz_lsp.server.documents import Built, Document
from netviz_lsp.server.payloads import (BUILD_STATUS, DIAGRAM, BuildStatusParams, DiagramParams, ModelDiagram,
                                       PartialDiagram)
from netviz_lsp.server.scheduler import Job

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer

log = logging.getLogger(__name__)

#: Why a build ran (``BuildRequest.reason``), as the log says it.
REASONS = {
    "open": "opened",
    "save": "saved",
    "disk": "changed on disk",
    "import": "a module it imports changed",
    "settings": "build settings changed",
    "command": "rebuild requested",
    "type": "typed, unsaved",
}
LISTED_MODELS = 5
"""Models named in a build's log line; more are counted."""


def finish_build(server: "NetVizServer", job: Job, built: Built, dependencies: frozenset[str]) -> None:
    document = server.documents.get(job.key)
    if document is None or server.scheduler.superseded(job):
        why = "the file was closed" if document is None else "a newer build of the file was asked for"
        say(server, types.MessageType.Debug, f"Dropped a build of {_name(job.key)} ({_why(job)}) unseen: {why}.")
        return
    document.record(built)
    document.dependencies = dependencies
    server.update_watches()
    line = build_line(built, _why(job))
    diagnostics.publish(server, document)  # before the diagram: a client that has the diagram has its diagnostics
    if document.shows_current_text():
        say(server, types.MessageType.Info, line)
        send_diagram(server, document)
    else:
        say(server, types.MessageType.Info, f"{line} Its diagram is held back: the editor's text is no longer the "
            "text it was built from; it is shown if the editor's text comes back to it, else the next save rebuilds.")
    failed = bool(built.errors)
    send_status(server, document.uri, "failed" if failed else "done", status_message(built, document))
    server.refresh_views()


def finish_render(server: "NetVizServer", job: Job, built: Built, svgs: dict[str, str],
                  errors: list[BuildError], partials: Optional[dict[str, Optional[str]]] = None) -> None:
    """New SVGs for the same graphs (and partial graphs); shown when the build they belong to is still the one shown."""
    document = server.documents.get(job.key)
    if document is None or server.scheduler.superseded(job) or document.last is not built:
        return
    built.svgs, built.render_errors = svgs, errors
    if partials is not None:
        built.partials = partials
    for name, good in document.good.items():
        if good.snapshot is built.snapshot:
            good.svg = svgs.get(name)
    diagnostics.publish(server, document)
    if document.shows_current_text():
        send_diagram(server, document)


def held_diagram(server: "NetVizServer", document: Document) -> None:
    """After an edit: send the last build's diagram if the editor's text is now the text it built."""
    if document.last is not None and not document.last.published and document.shows_current_text():
        say(server, types.MessageType.Info, f"Showing the held-back diagram of {_name(document.uri)}: "
            "the editor's text is again the text it was built from.")
        send_diagram(server, document)


def send_diagram(server: "NetVizServer", document: Document) -> None:
    built = document.last
    assert built is not None
    models, errors = built.result.models, built.errors
    if built.snapshot.notebook is not None:  # the contract's notebook form: cells, cell-local lines
        models, errors = notebooks.for_contract(models, errors, built.snapshot.notebook)
    saved = document.disk_text is None or built.snapshot.text == document.disk_text  # vs the last save
    params = DiagramParams(
        uri=document.uri,
        version=document.version,
        models=[ModelDiagram(m.factory, built.svgs.get(m.factory), m.to_dict(),
                             document.pushed.changes(built.snapshot.text, m, saved))
                for m in models],
        errors=[e.to_dict() for e in errors],
        elapsed_ms=built.elapsed_ms,
        partials=partial_diagrams(errors, built.partials),
    )
    built.published = True
    server.protocol.notify(DIAGRAM, params.to_json())


def partial_diagrams(errors: list[BuildError], svgs: dict[str, Optional[str]]) -> list[PartialDiagram]:
    """One ``PartialDiagram`` per error that carries a partial graph, in the order of ``errors``
    (as sent: a notebook's are sorted by cell), with the SVG the build thread drew for its target."""
    return [PartialDiagram(e.factory, svgs.get(e.factory)) for e in errors if e.graph is not None and e.factory]


def send_status(server: "NetVizServer", uri: str, state: str, message: str) -> None:
    server.protocol.notify(BUILD_STATUS, BuildStatusParams(uri, state, message).to_json())


def say(server: "NetVizServer", kind: types.MessageType, message: str) -> None:
    """One line in the client's log (and in the server's own log, at debug)."""
    log.debug("%s", message)
    server.window_log_message(types.LogMessageParams(type=kind, message=message))


def build_line(built: Built, why: Optional[str]) -> str:
    """"Built seed_cnns.py (saved, version 5) in 166 ms: 3 models (a, b, c), no problems." """
    snapshot = built.snapshot
    source = f"version {snapshot.version}" if snapshot.version is not None else "text on disk"
    models = [m.factory for m in built.result.models]
    named = ", ".join(models[:LISTED_MODELS]) + (f" and {len(models) - LISTED_MODELS} more" if len(models) > LISTED_MODELS else "")
    what = f"{len(models)} model{'s' if len(models) != 1 else ''}" + (f" ({named})" if models else "")
    errors = built.errors
    if not errors:
        problems = "no problems"
    else:
        first = errors[0]
        at = notebooks.where_text(first.line, snapshot.notebook)
        where = " ".join(filter(None, [f"in {first.factory}" if first.factory else "", f"at {at}" if at else ""]))
        message = first.message.splitlines()[0][:200] if first.message else ""
        count = "1 problem:" if len(errors) == 1 else f"{len(errors)} problems, the first:"
        problems = f"{count} {first.kind} error{' ' + where if where else ''}: {message}"
    context = ", ".join(filter(None, [why, source]))
    return f"Built {_name(built.result.file or '')} ({context}) in {built.elapsed_ms:,.0f} ms: {what}, {problems}."


def _why(job: Job) -> Optional[str]:
    reason = getattr(job.payload, "reason", None)
    return REASONS.get(reason, reason) if isinstance(reason, str) else None


def _name(uri_or_path: str) -> str:
    """A file's name, from its path or URI."""
    return os.path.basename(unquote(uri_or_path).rstrip("/")) or uri_or_path


def status_message(built: Built, document: Document) -> str:
    models, errors = built.result.models, built.errors
    if not models and not errors:
        text = "no model factories to build"
    else:
        text = f"{len(models)} model{'s' if len(models) != 1 else ''} built in {built.elapsed_ms:,.0f} ms"
        if errors:
            first = errors[0]
            at = notebooks.where_text(first.line, built.snapshot.notebook)
            where = f" ({at})" if at else ""
            text += f"; {len(errors)} error{'s' if len(errors) != 1 else ''}: {first.kind}{where}: " \
                    f"{first.message.splitlines()[0][:200] if first.message else ''}"
    if not document.shows_current_text():
        text += "; the editor has changed since, save to rebuild"
    return text
