"""One build inside the worker: run the file's statements, evaluate each target, extract its graph.

Every outcome is an event (``messages.py``): a graph, or an error with the line in the
user's file. The statements of the targets' slices run one by one, in source order, in
one module namespace; a statement that raises costs only the targets whose slices hold it.
A variable target (``model = keras.Sequential(...)`` at module level) is read right after
the last statement it needs, before later code can rebind its name (a model not built yet
there, a ``Sequential`` with no ``Input`` that a factory calls, is drawn after the factories ran,
with the shape it was called with); factory targets are called after every statement ran. Nothing the user's code raises escapes ``run_build``;
only the death of the whole process (``os._exit``, a segfault) or a hang does, and the
parent (``pool``) turns those into ``crash`` and ``timeout`` errors.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import importlib
import importlib.util
import os
import sys
import time
import types
from typing import Any, Callable, Iterator, Optional

from netviz_lsp import keras2
from netviz_lsp.discovery import slice_module
from netviz_lsp.discovery.astutil import bound_names
from netviz_lsp.discovery.parse import parse_module
from netviz_lsp.discovery.script import GUARD, script_body
from netviz_lsp.graph import BuildError, BuildInfo, BuildWarning
from netviz_lsp.worker import offline
from netviz_lsp.worker.extract import extract_model, extract_partial
from netviz_lsp.worker.messages import (BuildRequest, Dropped, ErrorEvent, Event, ModelEvent, Stage,
                                        TargetSpec, WarningEvent)
from netviz_lsp.worker.shape_only import shape_only_scope
from netviz_lsp.worker.sites import CallLog, capturing_warnings, recording_calls, recording_sites
from netviz_lsp.worker.tuner import noting_hyperparameters

Emit = Callable[[Event], None]
MODULE_NAME = "__netviz_main__"
_MESSAGE_LIMIT = 4000


class Program:
    """A request's statements, compiled one by one, run in order in one fresh module namespace."""

    def __init__(self, request: BuildRequest, emit: Emit):
        self.request = request
        self.emit = emit
        self.path = request.path
        self.module = types.ModuleType(MODULE_NAME)
        self.module.__file__ = self.path
        self.module.__dict__["__netviz_dataset__"] = offline.dataset_stand_in
        sys.modules[MODULE_NAME] = self.module
        self.lines: dict[int, int] = {}
        """Statement index -> its first line (a statement compiled alone is a module: its code says line 1)."""
        self.durations: dict[int, float] = {}
        """Statement index -> milliseconds it took (a variable target's build time is its statements')."""
        self.notes: dict[int, list[str]] = {}
        """Statement index -> what it skipped (weights not loaded, a dataset stood in)."""
        self.failed: dict[int, ErrorEvent] = {}
        """Statement index -> the error it raised (without a target; each target copies it)."""
        self.log = CallLog()
        """The layer calls since the variable target under construction began (its partial graph on failure)."""
        self.owner: Optional[TargetSpec] = None
        """The variable target whose statements run now, if any (warnings and partial graphs are its)."""
        self.locals: dict[int, list[str]] = {}
        """Statement index -> the names it binds, for a statement lifted from a function the script
        runs (``main()``): those are that function's locals, not the module's."""
        self.shadowed: dict[str, Any] = {}
        """Module names a lifted ``main()`` statement rebound -> what they held before (the module's)."""

    @property
    def namespace(self) -> dict[str, Any]:
        return self.module.__dict__

    def compile(self) -> Optional[dict[int, types.CodeType]]:
        """Each statement's code, with its original lines; None (after an error event) if the text fails.

        A statement with a replacement (a stand-in) runs the replacement, at the statement's line.
        """
        request = self.request
        try:
            # as discovery indexes it: a Colab download's `!pip` lines blank, the main guard's body and
            # the functions the script runs (``main()``) lifted in place (``discovery/script.py``)
            script = script_body(parse_module(request.source, self.path))
            body = script.body
            for index in request.statements():
                if script.scopes[index] not in ("", GUARD):  # a local of a function the script runs
                    self.locals[index] = sorted(bound_names(body[index]))
            flags = _future_flags(body)  # each statement is its own unit: carry the file's __future__
            codes = {}
            for index in request.statements():
                if index in request.replacements:
                    stmts = slice_module(request.source, [index], self.path, request.replacements).body
                else:
                    stmts = [body[index]]
                self.lines[index] = body[index].lineno
                codes[index] = compile(ast.Module(body=stmts, type_ignores=[]), self.path, "exec",
                                       flags=flags, dont_inherit=True)
            return codes
        except BaseException as error:  # a text discovery accepted but compile rejects
            if isinstance(error, KeyboardInterrupt):
                raise
            self.emit(_error_event(error, self.path, None, fallback_line=None))
            return None

    def run(self, index: int, code: types.CodeType, shape_only: bool) -> None:
        """Run one statement; an exception is remembered for the targets that need it."""
        first_line = self.lines.get(index, code.co_firstlineno)
        self.emit(Stage("statement", index=index, line=first_line))
        scope = shape_only_scope() if shape_only else contextlib.nullcontext()
        started = time.perf_counter()
        offline.notes.clear()
        caught: list = []
        try:
            with capturing_warnings(self.path) as caught, recording_calls(self.log), \
                    recording_sites(self.path), scope, \
                    offline.config_reads(code, self.path, self.request.roots, self.namespace):
                exec(code, self.namespace)
        except BaseException as error:  # user code: report, never escape
            if isinstance(error, KeyboardInterrupt):
                raise
            event = _error_event(error, self.path, None, fallback_line=first_line)
            feeds = self.owner or next((t for t in self.request.targets if t.after is not None and index in t.slice
                                        and index <= t.after), None)
            if feeds is not None and event.error.kind == "build":  # what the variables it feeds reached
                event.error.graph = _partial(self.log, error, feeds, self.path, shape_only)
            self.failed[index] = event
        finally:
            self.durations[index] = (time.perf_counter() - started) * 1000
            self.notes[index] = list(offline.notes)
            charged = [self.owner.name] if self.owner is not None else \
                [t.name for t in self.request.targets if index in t.slice]
            self.warn(caught, charged[0] if len(charged) == 1 else None, charged)

    def warn(self, caught: list, factory: Optional[str], targets: list[str]) -> None:
        """Send the warnings a statement or a target raised, once per (line, message)."""
        for key in dict.fromkeys((c.line, c.message, c.category) for c in caught):
            self.emit(WarningEvent(BuildWarning(key[1], key[2], key[0], factory), targets))

    def blame(self, target: TargetSpec) -> Optional[ErrorEvent]:
        """The first failed statement ``target`` needs, as its error; None when all of them ran."""
        for index in target.slice:
            if index in self.failed:
                error = self.failed[index].error
                graph = error.graph
                if graph is not None and target.after is not None:  # a variable this statement fed
                    graph = dataclasses.replace(graph, factory=target.name, line=target.line)
                return ErrorEvent(BuildError(error.kind, error.message, error.line, target.name, error.column,
                                             call_lines=list(error.call_lines),
                                             graph=graph if target.after is not None else None))
        return None


def _future_flags(body: list[ast.stmt]) -> int:
    """Compiler flags of the file's ``from __future__ import ...`` statements."""
    import __future__

    flags = 0
    for stmt in body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            for alias in stmt.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    return flags


def run_build(request: BuildRequest, emit: Emit,
              finish: Optional[Callable[[TargetSpec, Any, Program], Event]] = None) -> None:
    """Run one request, emitting a ``model``, ``error`` or ``dropped`` event per target.

    ``finish`` turns a target's evaluated value into its event (default: extract the graph);
    the TensorBoard export passes its own.
    """
    finish = finish or _finish_build
    offline.install()
    _reset_configuration()
    with _workspace(request.path, request.roots):
        _clear_session()  # gc runs after the build, off the clock
        program = Program(request, emit)
        codes = program.compile()
        if codes is None:
            return
        variables = sorted((t for t in request.targets if t.after is not None), key=lambda t: t.after)
        starts = {t.start for t in variables if t.start is not None}
        open_targets: set[str] = set()
        held: list[tuple[TargetSpec, Any]] = []
        for index, code in codes.items():
            if index in starts and not open_targets:
                _clear_session()  # stable layer names per model
            open_targets |= {t.name for t in variables if t.start == index}
            program.owner = next((t for t in variables if t.name in open_targets
                                  and t.start is not None and t.start <= index <= (t.after or -1)), None)
            for name in program.locals.get(index, ()):
                if name in program.namespace and name not in program.shadowed:
                    program.shadowed[name] = program.namespace[name]
            program.run(index, code, request.shape_only)
            program.owner = None
            finished = [t for t in variables if t.after == index]
            for target in finished:
                open_targets.discard(target.name)
                model = _unbuilt(program, target)
                if model is not None:  # built when something calls it: read it again at the end
                    held.append((target, model))
                    continue
                emit(_evaluate(program, target, finish, request.shape_only))
            if finished and not open_targets:
                program.log = CallLog()  # what the finished targets called is no longer needed
        # Factories are module code: they see the module's names, not main()'s locals of the same name.
        program.namespace.update(program.shadowed)
        for target in request.targets:
            if target.after is None:
                _clear_session()
                emit(_evaluate(program, target, finish, request.shape_only))
        for target, model in held:  # the factories (and later statements) that call it have run
            emit(_evaluate(program, target, finish, request.shape_only, held=model))


_CONFIGURATION: Optional[tuple] = None
"""Keras' global configuration as the worker started (the user's keras.json): floatx, image data
format, epsilon, and the global dtype policy (``None``: follow floatx)."""


def _reset_configuration() -> None:
    """Undo what the previous build's file configured (``set_global_policy("mixed_float16")``,
    ``set_image_data_format("channels_first")``...): each file is built with Keras as configured
    for the user, plus what its own slice sets."""
    global _CONFIGURATION
    import keras
    from keras.src.backend.common import global_state

    if _CONFIGURATION is None:
        _CONFIGURATION = (keras.config.floatx(), keras.config.image_data_format(), keras.config.epsilon(),
                          global_state.get_global_attribute("dtype_policy"))
    floatx, data_format, epsilon, policy = _CONFIGURATION
    keras.config.set_floatx(floatx)
    keras.config.set_image_data_format(data_format)
    keras.config.set_epsilon(epsilon)
    global_state.set_global_attribute("dtype_policy", policy)  # after floatx: reading the policy would pin it


def _clear_session() -> None:
    """``keras.backend.clear_session`` (stable layer names), keeping the global dtype policy: it
    would reset a ``set_global_policy("mixed_float16")`` the file's slice made."""
    import keras
    from keras.src.backend.common import global_state

    policy = global_state.get_global_attribute("dtype_policy")
    keras.backend.clear_session(free_memory=False)
    global_state.set_global_attribute("dtype_policy", policy)


def _unbuilt(program: Program, target: TargetSpec) -> Any:
    """The model a variable target holds after its statements when it is not built yet (a
    ``keras.Sequential([...])`` with no ``Input`` that a factory calls later: Keras builds it on
    that call); None when it is built, failed, or is not a model."""
    if program.blame(target) is not None:
        return None
    try:
        value = eval(compile(target.expr, "<netviz target>", "eval"), program.namespace)
    except Exception:  # noqa: BLE001 - _evaluate reports it
        return None
    import keras

    return value if isinstance(value, keras.Model) and not value.built else None


def _evaluate(program: Program, target: TargetSpec, finish, shape_only: bool, held: Any = None) -> Event:
    """Evaluate one target's expression (its statements have run) and make its event; ``held``:
    a variable's model read at its last statement, evaluated once everything else ran."""
    program.emit(Stage("target", target=target.name))
    blamed = program.blame(target)
    if blamed is not None:
        return blamed
    started = time.perf_counter()
    offline.notes.clear()
    log = CallLog() if target.after is None or held is not None else program.log  # a variable's statements ran
    caught: list = []
    try:
        with capturing_warnings(program.path) as caught:
            try:
                value = held if held is not None else _value(program, target, shape_only, log)
            except Exception as error:
                retry = (target.kind == "factory" and shape_only and "stateless scope" in str(error).lower())
                if not retry:
                    raise
                _clear_session()
                log = CallLog()
                caught.clear()  # the retry raises them again
                value = _value(program, target, False, log)
                offline.notes.append(f"shape-only build failed ({_first_line(error)}); built with real weights")
                shape_only = False
            event = finish(target, value, program)
        if isinstance(event, ModelEvent):
            build = event.graph["build"]
            build["shape_only"] = shape_only and build.get("shape_only", True)
            skipped = [note for i in target.slice for note in program.notes.get(i, [])] + offline.notes
            build["note"] = "; ".join(dict.fromkeys(filter(None, [*skipped, build.get("note")]))) or None
            own = [i for i in target.slice if target.start is not None and target.start <= i <= (target.after or -1)]
            elapsed = (time.perf_counter() - started) * 1000 + sum(program.durations.get(i, 0.0) for i in own)
            build["ms"] = round(elapsed, 1)
            event.graph["kind"] = target.kind
        return event
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            raise
        event = _error_event(error, program.path, target.name, fallback_line=target.line)
        if event.error.kind == "build":
            event.error.graph = _partial(log, error, target, program.path, shape_only)
            if event.error.graph is not None:
                event.error.graph.build.ms = round((time.perf_counter() - started) * 1000, 1)
        return event
    finally:
        program.warn(caught, target.name, [target.name])


def _value(program: Program, target: TargetSpec, shape_only: bool, log: CallLog) -> Any:
    """The target's value: its expression evaluated in the file's namespace.

    Factory calls run inside the scope, with creation sites and layer calls recorded; a
    variable's statements already ran that way.
    """
    code = compile(target.expr, "<netviz target>", "eval")
    scope = shape_only_scope() if shape_only else contextlib.nullcontext()
    with recording_calls(log), recording_sites(program.path), scope, noting_hyperparameters():
        return eval(code, program.namespace)


def _partial(log: CallLog, error: BaseException, target: TargetSpec, path: str, shape_only: bool):
    """The graph ``target``'s failed build reached, as the contract's ``ModelGraph``; None when it reached
    no layer call, or when reading it fails (the error itself matters more)."""
    try:
        import keras

        graph = extract_partial(log, error, target.name, target.line, path,
                                BuildInfo(ms=0.0, shape_only=shape_only, backend=keras.backend.backend()))
    except Exception:  # noqa: BLE001 - a NetViz bug here must not cost the user's error
        return None
    if graph is not None:
        graph.kind = target.kind
    return graph


def _finish_build(target: TargetSpec, value: Any, program: Program) -> Event:
    """Extract the graph of the model in ``value``: a ``model`` event, or why there is none."""
    model = _model_in(value)
    if model is None:
        if value is None and target.kind == "factory":
            return _error(
                "build", f"{target.name}() returned None; a factory must return a Keras model "
                "(is `return model` missing?)", target.line, target.name)
        return Dropped(target.name, type(value).__name__)
    scope = shape_only_scope() if program.request.shape_only else contextlib.nullcontext()
    with recording_sites(program.path), scope:  # tracing a subclassed model may build layers
        graph = extract_model(model, target.name, target.line, program.path,
                              BuildInfo(ms=0.0, shape_only=program.request.shape_only))
    return ModelEvent(graph.to_dict())


def _model_in(result):
    """The model a factory returned: itself, or the first model in a returned tuple/list."""
    import keras

    if isinstance(result, keras.Model):
        return result
    if isinstance(result, (tuple, list)):
        return next((item for item in result if isinstance(item, keras.Model)), None)
    return None


def _error_event(error: BaseException, path: str, factory: Optional[str], fallback_line: Optional[int]):
    chain = _call_chain(error, path)
    line = chain[0] if chain else fallback_line
    if isinstance(error, MemoryError):
        limit = os.environ.get("NETVIZ_MEMORY_LIMIT_MB")
        cap = f"the worker's limit of {limit} MB (netviz.build.memoryLimitMB)" if limit else "what the machine has"
        detail = f": {error}" if str(error) else ""
        kind, message = "memory", f"MemoryError: the build needed more memory than {cap}{detail}"
    elif isinstance(error, SystemExit):
        kind, message = "crash", f"called sys.exit({error.code!r}); the build stopped there"
    elif isinstance(error, RecursionError):
        kind, message = "build", f"RecursionError: {error}"
    elif isinstance(error, ModuleNotFoundError) and error.name and _installed_package(error.name):
        # ``from tensorflow.keras.layers.experimental import preprocessing``: the package is
        # there, the module is not; installing it again would not help.
        kind, message = "build", f"{type(error).__name__}: {error}" + keras2.hint(error)
    elif isinstance(error, ModuleNotFoundError) and error.name:
        kind, message = "build", missing_module_message(error.name)
    else:
        kind, message = "build", f"{type(error).__name__}: {error}" + keras2.hint(error)
    event = _error(kind, message, line, factory)
    if chain and line == chain[0]:
        event.error.call_lines = chain
    return event


def _installed_package(name: str) -> bool:
    """Whether the top-level package of the missing module ``name`` is installed (only a
    submodule of it is missing)."""
    top = name.split(".")[0]
    if top == name:
        return False
    return top in sys.modules or importlib.util.find_spec(top) is not None


def _error(kind: str, message: str, line: Optional[int], factory: Optional[str]) -> ErrorEvent:
    if len(message) > _MESSAGE_LIMIT:
        message = message[:_MESSAGE_LIMIT] + " …"
    return ErrorEvent(BuildError(kind, message, line, factory))


def _call_chain(error: BaseException, path: str) -> list[int]:
    """The lines of the previewed file on the traceback, innermost first (a SyntaxError's own line first).

    From the failing line inside a helper out to the target's own code: the factory's body,
    or the module-level statement.
    """
    chain: list[int] = []
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            chain.append(tb.tb_lineno)
        tb = tb.tb_next
    chain.reverse()
    if isinstance(error, SyntaxError) and error.filename == path and error.lineno:
        chain.insert(0, error.lineno)
    return chain


#: Import names whose package on PyPI is called something else.
PACKAGES = {
    "cv2": "opencv-python", "sklearn": "scikit-learn", "PIL": "pillow", "yaml": "pyyaml",
    "skimage": "scikit-image", "bs4": "beautifulsoup4", "tensorflow_datasets": "tensorflow-datasets",
    "tensorflow_addons": "tensorflow-addons", "tensorflow_hub": "tensorflow-hub",
    "tensorflow_text": "tensorflow-text", "keras_cv": "keras-cv", "keras_nlp": "keras-nlp",
    "keras_hub": "keras-hub", "IPython": "ipython", "Bio": "biopython", "dateutil": "python-dateutil",
    "attr": "attrs", "google.protobuf": "protobuf", "umap": "umap-learn", "sentencepiece": "sentencepiece",
}


def missing_module_message(name: str) -> str:
    """Which module is missing, in which interpreter, and what to install."""
    top = name.split(".")[0]
    package = PACKAGES.get(name) or PACKAGES.get(top) or top.replace("_", "-")
    return (f"No module named '{name}' in {sys.executable}; this model needs it. "
            f"Install it there (pip install {package}), or choose another interpreter (netviz.python)")


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


@contextlib.contextmanager
def _workspace(path: str, roots: list[str]) -> Iterator[None]:
    """Make the file's folder and the workspace importable, with workspace modules fresh, and
    ``sys.argv`` the script's own with no arguments (a training script's ``argparse`` then takes its
    defaults instead of rejecting the worker's flags)."""
    folders = [os.path.dirname(path), *roots]
    _forget_workspace_modules(folders)
    saved_path, saved_argv = list(sys.path), sys.argv
    sys.argv = [path]
    sys.path[:0] = [f for f in folders if f not in sys.path]
    cwd = os.getcwd()
    with contextlib.suppress(OSError):
        os.chdir(os.path.dirname(path) or cwd)
    try:
        with _lenient_argparse():
            yield
    finally:
        sys.path[:] = saved_path
        sys.argv = saved_argv
        sys.modules.pop(MODULE_NAME, None)
        with contextlib.suppress(OSError):
            os.chdir(cwd)


@contextlib.contextmanager
def _lenient_argparse() -> Iterator[None]:
    """A script's ``parser.parse_args()`` of the command line (no arguments here) takes its
    defaults, and a required argument (``parser.add_argument("csv")``) is ``None`` instead of an
    exit: the model code that reads ``args.width`` runs; what reads ``args.csv`` reads files,
    which never runs anyway."""
    import argparse

    original = argparse.ArgumentParser.parse_known_args

    def parse_known_args(self, args=None, namespace=None):
        if args is not None:
            return original(self, args, namespace)
        required = [a for a in [*self._actions, *self._mutually_exclusive_groups] if a.required]
        for action in required:
            action.required = False
        try:
            return original(self, args, namespace)
        finally:
            for action in required:
                action.required = True

    argparse.ArgumentParser.parse_known_args = parse_known_args
    try:
        yield
    finally:
        argparse.ArgumentParser.parse_known_args = original


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
