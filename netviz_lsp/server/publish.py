"""The event-loop side of a finished build: keep it, show it, or drop it.

``finish_build`` receives a ``Built`` from the build thread. A superseded build (a newer
request for the file exists) and a build of a file closed meanwhile are dropped
unseen. Otherwise the build becomes the document's last one; its ``netviz/diagram`` is
sent only when it was made from exactly the editor's current text (else it is held,
and sent if the editor's text comes back to it: an outside edit the editor reloads),
diagnostics are published for the current version, ``netviz/buildStatus`` says done or
failed, and the client is asked to refresh code lenses and inlay hints.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from netviz_lsp.graph import BuildError
from netviz_lsp.server import diagnostics
from netviz_lsp.server.documents import Built, Document
from netviz_lsp.server.payloads import BUILD_STATUS, DIAGRAM, BuildStatusParams, DiagramParams, ModelDiagram
from netviz_lsp.server.scheduler import Job

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer

log = logging.getLogger(__name__)


def finish_build(server: "NetVizServer", job: Job, built: Built, dependencies: frozenset[str]) -> None:
    document = server.documents.get(job.key)
    if document is None or server.scheduler.superseded(job):
        log.info("dropped a superseded build of %s", job.key)
        return
    document.record(built)
    document.dependencies = dependencies
    server.update_watches()
    if document.shows_current_text():
        send_diagram(server, document)
    diagnostics.publish(server, document)
    failed = bool(built.errors)
    send_status(server, document.uri, "failed" if failed else "done", status_message(built, document))
    server.refresh_views()


def finish_render(server: "NetVizServer", job: Job, built: Built, svgs: dict[str, str],
                  errors: list[BuildError]) -> None:
    """New SVGs for the same graphs; shown when the build they belong to is still the one shown."""
    document = server.documents.get(job.key)
    if document is None or server.scheduler.superseded(job) or document.last is not built:
        return
    built.svgs, built.render_errors = svgs, errors
    for name, good in document.good.items():
        if good.snapshot is built.snapshot:
            good.svg = svgs.get(name)
    if document.shows_current_text():
        send_diagram(server, document)
    diagnostics.publish(server, document)


def held_diagram(server: "NetVizServer", document: Document) -> None:
    """After an edit: send the last build's diagram if the editor's text is now the text it built."""
    if document.last is not None and not document.last.published and document.shows_current_text():
        send_diagram(server, document)


def send_diagram(server: "NetVizServer", document: Document) -> None:
    built = document.last
    assert built is not None
    params = DiagramParams(
        uri=document.uri,
        version=document.version,
        models=[ModelDiagram(m.factory, built.svgs.get(m.factory), m.to_dict()) for m in built.result.models],
        errors=[e.to_dict() for e in built.errors],
        elapsed_ms=built.elapsed_ms,
    )
    built.published = True
    server.protocol.notify(DIAGRAM, params.to_json())


def send_status(server: "NetVizServer", uri: str, state: str, message: str) -> None:
    server.protocol.notify(BUILD_STATUS, BuildStatusParams(uri, state, message).to_json())


def status_message(built: Built, document: Document) -> str:
    models, errors = built.result.models, built.errors
    if not models and not errors:
        text = "no model factories to build"
    else:
        text = f"{len(models)} model{'s' if len(models) != 1 else ''} built in {built.elapsed_ms:,.0f} ms"
        if errors:
            first = errors[0]
            where = f" (line {first.line})" if first.line else ""
            text += f"; {len(errors)} error{'s' if len(errors) != 1 else ''}: {first.kind}{where}: " \
                    f"{first.message.splitlines()[0][:200] if first.message else ''}"
    if not document.shows_current_text():
        text += "; the editor has changed since, save to rebuild"
    return text
