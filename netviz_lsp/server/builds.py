"""The build thread: discovery, the worker build, rendering, then hand the result to the loop.

``BuildRunner.run`` is the scheduler's ``run``; it never touches LSP state directly. It
reads the job's text snapshot and asks the engine (``server.engine``) to build it, to
draw each graph as SVG (a Graphviz failure becomes a ``render`` error of that target)
and for the workspace modules the file imports (for the watcher); it draws each failed
target's partial graph (``render_partials``: the failing layer in the error style, the
message beside it) with the same render options; then it posts the
``Built`` to ``publish.finish_build`` on the event loop, which decides whether it is
still current. Progress and ``netviz/buildStatus`` go out the same way, posted.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from netviz_lsp import notebook as nb
from netviz_lsp.discovery import Discovery, discover
from netviz_lsp.graph import BuildError, FileResult, ModelGraph
from netviz_lsp.engine import draw_partials
from netviz_lsp.server import notebooks, publish
from netviz_lsp.server.documents import Built, Snapshot
from netviz_lsp.server.progress import BuildProgress
from netviz_lsp.server.scheduler import RENDER, Job
from netviz_lsp.settings import RenderOptions

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer

log = logging.getLogger(__name__)
COLD_START = "Starting TensorFlow… (the first build waits for the worker to import Keras)"


@dataclass
class BuildRequest:
    """What one build job builds: a snapshot of a document's text."""

    uri: str
    """The document."""
    path: str
    """Its file on disk (the worker runs the text as this file)."""
    text: str
    """The text to build: the editor's buffer, or the disk's after an outside change."""
    version: Optional[int]
    """The document version of ``text``; ``None`` when it came from disk."""
    reason: str
    """Why: open, save, disk, import, settings, command."""
    had_factories: bool
    """Whether an earlier build of this file found factories."""
    notebook: Optional[nb.Notebook] = None
    """For a notebook: the join ``text`` is (``path`` is the ``.ipynb``)."""


@dataclass
class RenderRequest:
    """A re-render of the graphs of a document's last build (render settings changed)."""

    uri: str
    built: Built
    """The build whose graphs to draw again."""


def render_svgs(server: "NetVizServer", models: list[ModelGraph], options: RenderOptions,
                uri: str) -> tuple[dict[str, str], list[BuildError]]:
    """SVG text per target, drawn by the engine (reused while graph and options hold)."""
    drawn, errors = server.engine.draw(models, "svg", options, "graph", server.settings.views, document=uri)
    return {name: data.decode("utf-8", errors="replace") for name, data in drawn.items()}, errors


def render_partials(errors: list[BuildError], options: RenderOptions) -> dict[str, Optional[str]]:
    """Each failed target's partial graph (its error's ``graph``) as SVG, the layer whose call raised
    in the error style and the error's message beside it; ``None`` for a target Graphviz failed on.

    Drawn by ``engine.draw_partials`` (as the CLI draws them), not the engine's cached ``draw``:
    the note needs the error's message, and an error's graph is drawn once per build.
    """
    drawn, failed = draw_partials(errors, "svg", options)
    for factory, reason in failed.items():
        log.warning("the partial graph of %s could not be drawn: %s", factory, reason)
    svgs: dict[str, Optional[str]] = {name: data.decode("utf-8", errors="replace") for name, data in drawn.items()}
    return {e.factory: svgs.get(e.factory) for e in errors if e.factory in drawn or e.factory in failed}


def worth_building(found: Discovery, text: str, had_factories: bool) -> bool:
    """Whether a file gets status, diagrams and diagnostics: it defines factories or did,
    or it does not parse and mentions Keras (a model file in the middle of an edit)."""
    if found.factories or had_factories:
        return True
    return any(e.kind == "syntax" for e in found.errors) and "keras" in text


class BuildRunner:
    """Runs scheduler jobs on the build thread."""

    def __init__(self, server: "NetVizServer"):
        self.server = server

    def run(self, job: Job) -> None:
        if job.kind == RENDER:
            self._render(job)
        else:
            self._build(job)

    def _build(self, job: Job) -> None:
        request: BuildRequest = job.payload
        server = self.server
        if server.scheduler.superseded(job):
            return
        settings = server.settings
        started = time.perf_counter()
        found = discover(request.text, request.path, settings.build.factory_args)
        cell_broken = request.notebook is not None and bool(request.notebook.errors) and "keras" in request.text
        if not (worth_building(found, request.text, request.had_factories) or cell_broken):
            return
        uses_worker = any(f.buildable for f in found.factories)
        first = COLD_START if uses_worker and not server.engine.warm else "Building…"
        server.post(publish.send_status, server, request.uri, "building", first)
        progress = BuildProgress(server, f"NetViz: {os.path.basename(request.path)}", first)
        try:
            result = server.engine.build(request.path, request.text, settings, server.roots(),
                                         on_stage=self._stage_reporter(request, found, progress), found=found)
            svgs, render_errors = ({}, []) if server.scheduler.superseded(job) else \
                render_svgs(server, result.models, settings.render, request.uri)
            partials = {} if server.scheduler.superseded(job) else render_partials(result.errors, settings.render)
            dependencies = server.engine.dependencies(request.path, request.text, server.roots())
        except Exception as error:  # a NetViz bug must still end as an error value
            log.exception("building %s failed inside NetViz", request.path)
            result = FileResult(file=request.path, errors=[
                BuildError("crash", f"NetViz failed internally: {type(error).__name__}: {error}", None, None)])
            svgs, render_errors, dependencies, partials = {}, [], frozenset(), {}
        if request.notebook is not None:  # the cells that do not parse were blanked: their errors join here
            result = notebooks.with_cell_errors(result, request.notebook)
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        snapshot = Snapshot(request.version, request.text, request.notebook)
        built = Built(snapshot, found, result, svgs, render_errors, elapsed, partials=partials)
        progress.end(_summary(built))
        server.post(publish.finish_build, server, job, built, dependencies)

    def _stage_reporter(self, request: BuildRequest, found: Discovery, progress: BuildProgress):
        wanted = [f.name for f in found.factories if f.buildable]

        def on_stage(stage: str, factory: Optional[str]) -> None:
            if stage == "slice":
                message, percent = "Running the file's imports and definitions…", 5
            else:
                index = wanted.index(factory) if factory in wanted else 0
                message, percent = f"Building {factory}()…", 10 + 85 * index // max(1, len(wanted))
            progress.report(message, percent)
            self.server.post(publish.send_status, self.server, request.uri, "building", message)

        return on_stage

    def _render(self, job: Job) -> None:
        request: RenderRequest = job.payload
        if self.server.scheduler.superseded(job):
            return
        options = self.server.settings.render
        svgs, errors = render_svgs(self.server, request.built.result.models, options, request.uri)
        partials = render_partials(request.built.result.errors, options)
        self.server.post(publish.finish_render, self.server, job, request.built, svgs, errors, partials)


def _summary(built: Built) -> str:
    models, errors = len(built.result.models), len(built.errors)
    text = f"{models} model{'s' if models != 1 else ''} in {built.elapsed_ms:,.0f} ms"
    return text + (f", {errors} error{'s' if errors != 1 else ''}" if errors else "")
