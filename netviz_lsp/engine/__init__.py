"""The engine: the one seam through which the CLI and the language server build and draw a file.

``Engine`` owns the warm worker pool and the caches, and does four things:

- ``build(path, source, settings, roots)``: discovery, then one worker build of the targets
  whose slice or inputs changed, giving a ``FileResult``. Nothing the file does raises:
  syntax errors, missing arguments, failed imports, crashes and timeouts are error values,
  each owned by the target it costs;
- ``draw(models, fmt, ...)``: the diagrams of built models in any view and format, a
  Graphviz failure becoming a ``render`` error of that target;
- ``export(graph, fmt, ...)``: one file's bytes (json included);
- ``draw_partials(errors, fmt, options)`` (a function: no cache): each failed target's partial
  graph drawn up to the error, for the server's panel and the CLI alike;
- ``dependencies(path, source, roots)``: the workspace files the file imports,
  transitively (``workspace.py``), for the server's watcher and the build cache's key.

``tensorboard(...)`` writes TensorBoard graphs. The engine never imports Keras: the pool's
worker does, in its own process. The server depends on ``EngineAPI`` only, so its
scheduling, publishing and commands are tested with a fake engine (tests/fake_engine.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from typing import Callable, Iterable, Optional, Protocol

from netviz_lsp.discovery import Discovery, Factory, discover
from netviz_lsp.discovery.backend import direct_use
from netviz_lsp.engine.cache import BuildCache, Outcome, RenderCache
from netviz_lsp.engine.workspace import workspace_dependencies
from netviz_lsp.graph import BuildError, BuildWarning, FileResult, ModelGraph
from netviz_lsp.settings import RenderOptions, Settings
from netviz_lsp.worker.messages import BUILD, TENSORBOARD, BuildRequest, TargetSpec
from netviz_lsp.worker.pool import BuildOutcome, BuildPool, backend_available, backend_failed, user_backend

OnStage = Callable[[str, Optional[str]], None]
_BACKEND_SPECIFIC = re.compile(r"\bjax|jnp\.|\blax\b|\bxla|tracer|concretiz|tensorflow|\btf\.|eagertensor|"
                               r"\btorch\b|backend", re.IGNORECASE)
"""An error that may be JAX's alone: on ``auto``, such a target is built again on the user's backend."""
_NO_START = "the NetViz worker could not start"
"""How ``pool.WorkerStartError`` begins."""
_REUSABLE_ERRORS = ("build", "arguments")
"""Deterministic failures; a timeout or crash may be the machine's fault, so it is retried."""

__all__ = ["BuildCache", "Engine", "EngineAPI", "RenderCache", "build_request", "draw_model", "draw_partials"]


class EngineAPI(Protocol):
    """What the language server needs of an engine (``Engine``, or a test's fake)."""

    @property
    def warm(self) -> bool: ...
    def start(self, settings: Optional[Settings] = None) -> None: ...
    def restart(self, memory_mb: Optional[int] = None) -> None: ...
    def close(self) -> None: ...
    def forget(self, path: Optional[str] = None) -> None: ...
    def worker_pids(self) -> list[int]: ...
    def running_s(self) -> Optional[float]: ...
    def cancel(self) -> bool: ...
    def build(self, path: str, source: str, settings: Settings, roots: Iterable[str] = (),
              only: Optional[Iterable[str]] = None, on_stage: Optional[OnStage] = None,
              found: Optional[Discovery] = None) -> FileResult: ...
    def draw(self, models: list[ModelGraph], fmt: str, options: RenderOptions, view: str = "graph",
             views=None, document: str = "") -> tuple[dict[str, bytes], list[BuildError]]: ...
    def export(self, graph: ModelGraph, fmt: str, options: RenderOptions, view: str = "graph",
               views=None) -> bytes: ...
    def dependencies(self, path: str, source: str, roots: Iterable[str]) -> frozenset[str]: ...


class Engine:
    """Builds on a warm worker pool, with each target's last outcome and drawing reused."""

    def __init__(self, pool: Optional[BuildPool] = None, *, python: Optional[str] = None, memory_mb: int = 0,
                 spare: bool = False, on_output: Optional[Callable[[str], None]] = None):
        self.pool = pool or BuildPool(python, memory_mb=memory_mb, spare=spare, on_output=on_output)
        self.cache = BuildCache()
        self.drawings = RenderCache()
        self._last_dependencies: Optional[tuple[tuple, frozenset[str]]] = None

    # -- the workers -------------------------------------------------------------------------

    @property
    def warm(self) -> bool:
        """True when a worker has Keras imported (a build waits for no import)."""
        return self.pool.warm

    def start(self, settings: Optional[Settings] = None) -> None:
        """Start a worker of the backend a backend-neutral file builds on under ``settings``."""
        self.pool.start(self.backend_for(settings or Settings()))

    def backend_for(self, settings: Settings, path: str = "", source: str = "",
                    statements: Optional[Iterable[int]] = None, roots: Iterable[str] = ()) -> str:
        """The Keras backend ``build.backend`` picks for these statements of ``source``.

        ``auto``: the user's own backend (``KERAS_BACKEND``, their ``keras.json``), except that a
        shape-only build uses JAX when the worker's interpreter has it and neither the statements
        nor the workspace modules they import use TensorFlow or torch directly
        (``discovery/backend.py``). With no ``source``: the choice for a backend-neutral file.
        """
        user = user_backend()
        if settings.build.backend != "auto":
            return settings.build.backend
        if user == "jax" or not settings.build.shape_only or not backend_available("jax", self.pool.python):
            return user
        roots = list(roots)
        if source and direct_use(source, path, statements,
                                 lambda imports: workspace_dependencies(path, imports, roots)) is not None:
            return user
        return "jax"

    def restart(self, memory_mb: Optional[int] = None) -> None:
        """Replace every worker (with a new memory limit when given); reuse nothing built before."""
        if memory_mb is not None:
            self.pool.memory_mb = memory_mb
        self.pool.restart()
        self.cache.forget()

    def close(self) -> None:
        self.pool.close()

    def forget(self, path: Optional[str] = None) -> None:
        """Build ``path`` (default: everything) again next time, even if nothing changed."""
        self.cache.forget(None if path is None else os.path.abspath(path))

    def worker_pids(self) -> list[int]:
        return self.pool.worker_pids()

    def running_s(self) -> Optional[float]:
        """Seconds the build in flight has run on a worker; None when none runs there."""
        return self.pool.running_s()

    def cancel(self) -> bool:
        """Stop the build in flight (any thread): its worker is replaced, its result is crash errors."""
        return self.pool.cancel()

    # -- building ----------------------------------------------------------------------------

    def build(self, path: str, source: str, settings: Settings, roots: Iterable[str] = (),
              only: Optional[Iterable[str]] = None, on_stage: Optional[OnStage] = None,
              found: Optional[Discovery] = None) -> FileResult:
        """Discover and build ``source`` (the text of ``path``); every failure is an error value."""
        roots = list(roots)
        absolute = os.path.abspath(path)
        found = found or discover(source, absolute, settings.build.factory_args)
        wanted = None if only is None else set(only)
        result = FileResult(file=path)
        result.errors.extend(e for e in found.errors if wanted is None or e.factory in wanted or e.factory is None)
        buildable = [t for t in found.factories if t.buildable and (wanted is None or t.name in wanted)]
        backend = self.backend_for(settings, absolute, source, sorted({i for t in buildable for i in t.slice}), roots)
        stamp = self._stamp(absolute, source, roots) + repr(settings.build.shape_only) + "|" + backend
        outcomes: dict[str, Outcome] = {}
        warned: list[BuildWarning] = []
        for target in buildable:
            hit = self.cache.get(absolute, target.name, target.fingerprint + stamp)
            if hit is not None:  # (outcome, the warnings its build raised)
                outcomes[target.name] = _reused(hit[0])
                warned.extend(hit[1])
        todo = [t for t in buildable if t.name not in outcomes]
        if todo:
            request = build_request(found, path, source, settings, roots, todo)
            outcome = self.pool.build(request, settings.build.timeout_seconds, on_stage, backend=backend)
            if settings.build.backend == "auto" and backend != user_backend():
                outcome = self._on_user_backend(request, outcome, backend, settings, on_stage)
            outcomes.update(_outcomes(todo, outcome))
            warned.extend(w.warning for w in outcome.warnings)
            for error in outcome.errors:
                if error.factory is None:
                    result.errors.append(error)
            if not [e for e in outcome.errors if e.factory is None]:
                for target in todo:
                    item = outcomes.get(target.name)
                    if isinstance(item, ModelGraph) or (isinstance(item, BuildError) and item.kind in _REUSABLE_ERRORS):
                        own = [w.warning for w in outcome.warnings if target.name in w.targets]
                        self.cache.put(absolute, target.name, target.fingerprint + stamp, (item, own))
        for target in buildable:
            item = outcomes.get(target.name)
            if isinstance(item, ModelGraph):
                result.models.append(item)
            elif item is not None:
                result.errors.append(item)
        result.errors.sort(key=lambda e: (e.line or 0, e.factory or ""))
        result.warnings = _unique_warnings(warned)
        return result

    def tensorboard(self, path: str, source: str, settings: Settings, logdir: str, run_prefix: str = "",
                    only: Optional[Iterable[str]] = None) -> FileResult:
        """Build each target with real weights and write its graph to ``logdir/<run_prefix><target>``."""
        absolute = os.path.abspath(path)
        found = discover(source, absolute, settings.build.factory_args)
        wanted = None if only is None else set(only)
        result = FileResult(file=path)
        result.errors.extend(e for e in found.errors if wanted is None or e.factory in wanted or e.factory is None)
        chosen = [t for t in found.factories if t.buildable and (wanted is None or t.name in wanted)]
        if chosen:
            request = build_request(found, path, source, dataclasses.replace(
                settings, build=dataclasses.replace(settings.build, shape_only=False)), (), chosen)
            request = dataclasses.replace(request, op=TENSORBOARD, logdir=os.path.abspath(logdir),
                                          run_prefix=run_prefix)
            outcome = self.pool.build(request, settings.build.timeout_seconds,  # tf.summary: TensorFlow's
                                      backend="tensorflow")
            outcomes = _outcomes(chosen, outcome)
            result.models = [o for o in (outcomes.get(t.name) for t in chosen) if isinstance(o, ModelGraph)]
            result.errors.extend(o for o in outcomes.values() if isinstance(o, BuildError))
            result.errors.extend(e for e in outcome.errors if e.factory is None)
        result.errors.sort(key=lambda e: (e.line or 0, e.factory or ""))
        return result

    def _on_user_backend(self, request: BuildRequest, outcome: BuildOutcome, backend: str, settings: Settings,
                         on_stage: Optional[OnStage]) -> BuildOutcome:
        """Build again, on the user's own backend, the targets that ``auto``'s backend failed with an
        error that looks backend-specific, or all of them when its worker could not start (JAX is
        then not used again): the user sees their backend's graph (with a note) or its error,
        never one their backend would not give."""
        failed = {e.factory: e for e in outcome.errors if e.factory is not None and (
            e.kind == "build" and _BACKEND_SPECIFIC.search(e.message)
            or e.kind == "crash" and e.message.startswith(_NO_START))}
        if not failed:
            return outcome
        if any(e.kind == "crash" for e in failed.values()):
            backend_failed(backend, self.pool.python)
        user = user_backend()
        again = self.pool.build(request.with_targets([t for t in request.targets if t.name in failed]),
                                settings.build.timeout_seconds, on_stage, backend=user)
        for graph in again.models:
            error = failed[graph["factory"]]
            first = error.message.strip().splitlines()[0] if error.message.strip() else error.kind
            note = f"built with {user}, your Keras backend: {backend} failed ({first[:200]})"
            graph["build"]["note"] = "; ".join(filter(None, [graph["build"].get("note"), note]))
        outcome.errors = [e for e in outcome.errors if e.factory not in failed] + again.errors
        outcome.models += again.models
        outcome.dropped.update(again.dropped)
        outcome.warnings = [w for w in outcome.warnings if not w.targets or not set(w.targets) <= set(failed)]
        outcome.warnings += again.warnings
        return outcome

    def _stamp(self, path: str, source: str, roots: list[str]) -> str:
        """The workspace roots (in order: they decide how imports resolve and which config files
        the worker may read) and the modification times of the workspace modules ``path``
        imports, as a cache-key part."""
        found = workspace_dependencies(path, source, roots)
        self._last_dependencies = ((os.path.abspath(path), source, tuple(roots)), found)
        stamps = [repr([os.path.abspath(root) for root in roots])]
        for dependency in sorted(found):
            try:
                stamps.append(f"{dependency}:{os.stat(dependency).st_mtime_ns}")
            except OSError:
                pass
        return "|".join(stamps)

    # -- drawing -----------------------------------------------------------------------------

    def draw(self, models: list[ModelGraph], fmt: str, options: RenderOptions, view: str = "graph",
             views=None, document: str = "") -> tuple[dict[str, bytes], list[BuildError]]:
        """Each model drawn as ``view`` in ``fmt``; Graphviz failures as ``render`` errors at its line.

        With ``document`` (a key such as the file's URI), a drawing of the same graph object
        with the same options is reused.
        """
        drawn: dict[str, bytes] = {}
        errors: list[BuildError] = []
        for model in models:
            key = (document, model.factory, view, fmt)
            reused = self.drawings.get(key, model, (options, views)) if document else None
            if reused is not None:
                drawn[model.factory] = reused
                continue
            try:
                drawn[model.factory] = draw_model(model, fmt, options, view, views)
            except Exception as error:  # RenderError, OSError, a NetViz bug: the diagram is lost, not the build
                errors.append(BuildError("render", f"the diagram could not be drawn: {error}", model.line,
                                         model.factory))
                continue
            if document:
                self.drawings.put(key, model, (options, views), drawn[model.factory])
        return drawn, errors

    def export(self, graph: ModelGraph, fmt: str, options: RenderOptions, view: str = "graph", views=None) -> bytes:
        """One export's bytes; ``RenderError`` when Graphviz fails, ``ValueError`` for a format the view lacks."""
        return draw_model(graph, fmt, options, view, views)

    def dependencies(self, path: str, source: str, roots: Iterable[str]) -> frozenset[str]:
        """The workspace files ``path`` imports, transitively. What the last build read for its
        cache key is handed out once, to the caller asking right after it (the server); any
        other call reads the files afresh, since a module's imports may have changed."""
        key = (os.path.abspath(path), source, tuple(roots))
        last, self._last_dependencies = self._last_dependencies, None
        if last is not None and last[0] == key:
            return last[1]
        return workspace_dependencies(path, source, roots)


def draw_model(graph: ModelGraph, fmt: str, options: RenderOptions, view: str = "graph", views=None) -> bytes:
    """``graph`` as ``fmt`` bytes: the contract's JSON, or a drawing of ``view``."""
    if fmt == "json":
        return (json.dumps(graph.to_dict(), indent=1) + "\n").encode("utf-8")
    from netviz_lsp.render import render_view

    return render_view(graph, view, fmt, options, views)


def draw_partials(errors: Iterable[BuildError], fmt: str, options: RenderOptions
                  ) -> tuple[dict[str, bytes], dict[str, str]]:
    """Each failed target's partial graph (its error's ``graph``) as ``fmt`` (svg, png, pdf or dot),
    drawn by ``render(..., failure=message)``: the layer whose call raised in the error style, the
    error's message beside it. Returns the drawings by target, and for each target whose drawing
    failed (Graphviz, a NetViz bug) why. A target's first error with a graph is drawn; errors
    without one, or without a target, are skipped. The server's panel and the CLI both draw so.
    """
    from netviz_lsp.render import render

    drawn: dict[str, bytes] = {}
    failed: dict[str, str] = {}
    for error in errors:
        if error.graph is None or not error.factory or error.factory in drawn or error.factory in failed:
            continue
        try:
            drawn[error.factory] = render(error.graph, fmt, options, failure=error.message)
        except Exception as failure:  # RenderError, a NetViz bug: the partial is lost, not the build
            failed[error.factory] = str(failure) or type(failure).__name__
    return drawn, failed


def build_request(found: Discovery, path: str, source: str, settings: Settings, roots: Iterable[str] = (),
                  targets: Optional[list[Factory]] = None) -> BuildRequest:
    """The worker request for ``targets`` (default: every buildable target)."""
    chosen = [t for t in found.factories if t.buildable] if targets is None else targets
    return BuildRequest(
        path=os.path.abspath(path), source=source, op=BUILD,
        targets=[TargetSpec(t.name, t.line, t.expr, list(t.slice), t.kind, t.after, t.start) for t in chosen],
        shape_only=settings.build.shape_only, roots=[os.path.abspath(r) for r in roots],
        replacements=dict(found.replacements),
    )


def _outcomes(targets: list[Factory], outcome: BuildOutcome) -> dict[str, Outcome]:
    """Each built target's graph or error; a declared factory that returned a non-model is an error."""
    found: dict[str, Outcome] = {}
    for graph in outcome.models:
        found[graph["factory"]] = ModelGraph.from_dict(graph)
    for target in targets:
        returned = outcome.dropped.get(target.name)
        if returned is not None and target.declared:  # inferred candidates are dropped quietly
            found[target.name] = BuildError(
                "build", f"{target.name}() returned {returned}, not a Keras model", target.line, target.name)
    for error in outcome.errors:
        if error.factory is not None:
            found[error.factory] = error
    return found


def _unique_warnings(warned: list[BuildWarning]) -> list[BuildWarning]:
    """One warning per (line, message), the first target that raised it keeping it, in line order."""
    unique: dict[tuple, BuildWarning] = {}
    for warning in warned:
        unique.setdefault((warning.line, warning.message), warning)
    return sorted(unique.values(), key=lambda w: (w.line or 0, w.factory or ""))


def _reused(outcome: Outcome) -> Outcome:
    if isinstance(outcome, ModelGraph):
        return dataclasses.replace(outcome, build=dataclasses.replace(outcome.build, cached=True))
    return outcome

