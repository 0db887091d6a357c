"""One build inside the worker: run the file's slice, call each factory, extract its graph.

Every outcome is an event (see ``protocol``): a graph, or an error with the line in
the user's file. Nothing the user's code raises escapes ``run_build``; only the death
of the whole process (``os._exit``, a segfault) or a hang does, and the parent
(``pool``) turns those into ``crash`` and ``timeout`` errors.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import time
import types
from typing import Any, Callable, Iterator, Optional

from netviz_lsp.discovery import slice_module
from netviz_lsp.graph import BuildError, BuildInfo
from netviz_lsp.worker.extract import extract_model
from netviz_lsp.worker.shape_only import shape_only_scope
from netviz_lsp.worker.sites import recording_sites

Emit = Callable[[dict[str, Any]], None]
MODULE_NAME = "__netviz_main__"
_MESSAGE_LIMIT = 4000


def run_build(request: dict[str, Any], emit: Emit) -> None:
    """Run one build request, emitting a ``model``, ``error`` or ``dropped`` event per factory."""
    import keras

    path = request["path"]
    shape_only = request.get("shape_only", True)
    emit({"event": "stage", "stage": "slice"})
    with _workspace(path, request.get("roots", [])):
        keras.backend.clear_session(free_memory=False)  # gc runs after the build, off the clock
        namespace = _run_slice(request, emit)
        if namespace is None:
            return
        for factory in request["factories"]:
            emit({"event": "stage", "stage": "factory", "factory": factory["name"]})
            keras.backend.clear_session(free_memory=False)
            emit(_build_factory(namespace, factory, path, shape_only))


def _run_slice(request: dict[str, Any], emit: Emit) -> Optional[dict[str, Any]]:
    """Execute the file's program slice in a fresh module; None (after an error event) if it raised."""
    path = request["path"]
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = path
    sys.modules[MODULE_NAME] = module
    try:
        code = compile(slice_module(request["source"], request["slice"], path), path, "exec")
        with recording_sites(path), shape_only_scope():
            exec(code, module.__dict__)
    except BaseException as error:  # user code: report, never escape
        if isinstance(error, KeyboardInterrupt):
            raise
        emit(_error_event(error, path, None, fallback_line=None))
        return None
    return module.__dict__


def _build_factory(namespace: dict, factory: dict, path: str, shape_only: bool) -> dict[str, Any]:
    name, line = factory["name"], factory["line"]
    started = time.perf_counter()
    note = None
    try:
        try:
            result, graph = _build(namespace, factory, path, shape_only)
        except Exception as error:
            if not (shape_only and "stateless scope" in str(error).lower()):
                raise
            note = f"shape-only build failed ({_first_line(error)}); built with real weights"
            shape_only = False
            import keras

            keras.backend.clear_session(free_memory=False)
            result, graph = _build(namespace, factory, path, shape_only)
        if graph is None:
            if result is None:
                return _error(
                    "build", f"{name}() returned None; a factory must return a Keras model "
                    "(is `return model` missing?)", line, name)
            return {"event": "dropped", "factory": name, "returned": type(result).__name__}
        graph.build.shape_only = shape_only
        graph.build.note = "; ".join(filter(None, [note, graph.build.note])) or None
        graph.build.ms = round((time.perf_counter() - started) * 1000, 1)
        return {"event": "model", "graph": graph.to_dict()}
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            raise
        return _error_event(error, path, name, fallback_line=line)


def _build(namespace: dict, factory: dict, path: str, shape_only: bool):
    """Call the factory (its argument source evaluated in the file's namespace) and extract its graph.

    Extraction stays inside the scope: tracing a subclassed model may build layers.
    """
    function = namespace[factory["name"]]
    call = compile(f"__netviz_factory__({factory['args']})", "<netviz arguments>", "eval")
    scope = shape_only_scope() if shape_only else contextlib.nullcontext()
    with recording_sites(path), scope:
        result = eval(call, namespace, {"__netviz_factory__": function})
        model = _model_in(result)
        if model is None:
            return result, None
        info = BuildInfo(ms=0.0, shape_only=shape_only)
        return result, extract_model(model, factory["name"], factory["line"], path, info)


def _model_in(result):
    """The model a factory returned: itself, or the first model in a returned tuple/list."""
    import keras

    if isinstance(result, keras.Model):
        return result
    if isinstance(result, (tuple, list)):
        return next((item for item in result if isinstance(item, keras.Model)), None)
    return None


def _error_event(error: BaseException, path: str, factory: Optional[str], fallback_line: Optional[int]):
    line = _innermost_line(error, path) or fallback_line
    if isinstance(error, MemoryError):
        limit = os.environ.get("NETVIZ_MEMORY_LIMIT_MB")
        cap = f"the worker's limit of {limit} MB (netviz.build.memoryLimitMB)" if limit else "what the machine has"
        detail = f": {error}" if str(error) else ""
        kind, message = "memory", f"MemoryError: the build needed more memory than {cap}{detail}"
    elif isinstance(error, SystemExit):
        kind, message = "crash", f"called sys.exit({error.code!r}); the build stopped there"
    elif isinstance(error, RecursionError):
        kind, message = "build", f"RecursionError: {error}"
    else:
        kind, message = "build", f"{type(error).__name__}: {error}"
    return _error(kind, message, line, factory)


def _error(kind: str, message: str, line: Optional[int], factory: Optional[str]) -> dict[str, Any]:
    if len(message) > _MESSAGE_LIMIT:
        message = message[:_MESSAGE_LIMIT] + " …"
    return {"event": "error", "error": BuildError(kind, message, line, factory).to_dict()}


def _innermost_line(error: BaseException, path: str) -> Optional[int]:
    """The innermost traceback line in the previewed file (a SyntaxError in it counts too)."""
    line = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    if isinstance(error, SyntaxError) and error.filename == path and error.lineno:
        line = error.lineno
    return line


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


@contextlib.contextmanager
def _workspace(path: str, roots: list[str]) -> Iterator[None]:
    """Make the file's folder and the workspace importable, with workspace modules fresh."""
    folders = [os.path.dirname(path), *roots]
    _forget_workspace_modules(folders)
    saved_path = list(sys.path)
    sys.path[:0] = [f for f in folders if f not in sys.path]
    cwd = os.getcwd()
    with contextlib.suppress(OSError):
        os.chdir(os.path.dirname(path) or cwd)
    try:
        yield
    finally:
        sys.path[:] = saved_path
        sys.modules.pop(MODULE_NAME, None)
        with contextlib.suppress(OSError):
            os.chdir(cwd)


_REAL_PATHS: dict[str, tuple[str, bool]] = {}
"""Module file -> (its real path, whether it is an installed package's). Resolving ~3,000 TensorFlow modules' paths on every build
would cost more than the build itself; a file's real path does not change while we run."""


_PRELOADED: frozenset = frozenset()
"""Modules imported before any user code ran (Keras, TensorFlow): never the workspace's."""


def mark_preloaded() -> None:
    """Remember what is imported now, so each build only looks at modules imported since."""
    global _PRELOADED
    _PRELOADED = frozenset(sys.modules)


def _forget_workspace_modules(folders: list[str]) -> None:
    """Drop modules loaded from the workspace so the next import reads them again from disk."""
    roots = tuple(os.path.join(os.path.realpath(f), "") for f in folders if f)
    for name in [n for n in sys.modules if n not in _PRELOADED]:
        module = sys.modules.get(name)
        file = getattr(module, "__dict__", {}).get("__file__")  # never trigger a lazy module's import
        if not isinstance(file, str) or name == "netviz_lsp" or name.startswith("netviz_lsp."):
            continue
        known = _REAL_PATHS.get(file)
        if known is None:
            real = os.path.realpath(file)
            known = _REAL_PATHS[file] = (real, _is_installed(real))
        if not known[1] and known[0].startswith(roots):
            del sys.modules[name]
    importlib.invalidate_caches()


def _is_installed(path: str) -> bool:
    parts = path.split(os.sep)
    return any(p in ("site-packages", "dist-packages", ".venv", "venv") for p in parts)
