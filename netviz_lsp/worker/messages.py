"""Every message between the engine (parent) and the worker, as typed classes.

The one module both processes share, besides the graph contract (``graph.py``): the
engine builds a ``BuildRequest`` and reads ``Event``s; the worker reads the request and
sends the events. On the wire each is a JSON object (``to_wire``/``from_wire``), sent
length-prefixed over a pipe pair by ``protocol.py``. Imports nothing heavy.

A build runs the *statements* of its targets' slices in source order, in one module
namespace, then evaluates each target's expression::

    engine                                   worker
      BuildRequest(targets=[...]) ─────────>  for each statement of the union of the slices:
                                   <───────     Stage("statement", index, line)
                                                after the statement a variable target needs last:
                                   <───────     Stage("target", target=name); ModelEvent | ErrorEvent | Dropped
                                              then each factory target:
                                   <───────     Stage("target", target=name); ModelEvent | ErrorEvent | Dropped
                                   <───────   WarningEvent, after the statement or target that raised it
                                   <───────   Done(leftovers)

A statement that raises is not fatal: every target whose slice holds it gets an
``ErrorEvent`` at its line, and the other targets still build. A build that raises
carries the graph it reached (``BuildError.graph``) and its call chain (``call_lines``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Union

from netviz_lsp.graph import BuildError, BuildWarning

BUILD, TENSORBOARD, EXIT = "build", "tensorboard", "exit"


@dataclass
class TargetSpec:
    """One model to build: a factory call or a module-level variable."""

    name: str
    """The target's name: the factory's, or the variable's (``model``, ``gen_g``, ``model@40``)."""
    line: int
    """1-based line of its ``def`` or assignment: where errors without a better line go."""
    expr: str
    """Python expression, evaluated in the file's namespace, whose value is (or holds) the model."""
    slice: list[int]
    """Indexes of the top-level statements it needs, ascending."""
    kind: str = "factory"
    """``factory`` or ``variable``."""
    after: Optional[int] = None
    """Variable targets: evaluate ``expr`` right after this statement. ``None``: after all statements."""
    start: Optional[int] = None
    """Variable targets: the statement where its construction begins (layer names restart there)."""

    def to_wire(self) -> dict[str, Any]:
        return {"name": self.name, "line": self.line, "expr": self.expr, "slice": list(self.slice),
                "kind": self.kind, "after": self.after, "start": self.start}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> "TargetSpec":
        return cls(data["name"], int(data["line"]), data["expr"], [int(i) for i in data.get("slice", [])],
                   data.get("kind", "factory"), data.get("after"), data.get("start"))


@dataclass
class BuildRequest:
    """Build (or export to TensorBoard) some targets of one file's text."""

    path: str
    """Absolute path the text is run as (tracebacks and creation sites point into it)."""
    source: str
    """The text to build: the editor's buffer or the file on disk."""
    targets: list[TargetSpec]
    shape_only: bool = True
    roots: list[str] = field(default_factory=list)
    """Workspace folders: importable, and their modules re-imported fresh each build."""
    replacements: dict[int, str] = field(default_factory=dict)
    """Statement index -> source run instead (``# netviz: value=`` stand-ins, dataset stand-ins)."""
    op: str = BUILD
    logdir: Optional[str] = None
    """``tensorboard`` only: the log dir, one run per target, named ``run_prefix + name``."""
    run_prefix: str = ""
    id: int = 0

    def statements(self) -> list[int]:
        """The union of the targets' slices, in source order: what the worker runs."""
        return sorted({i for target in self.targets for i in target.slice})

    def with_targets(self, targets: list[TargetSpec]) -> "BuildRequest":
        from dataclasses import replace

        return replace(self, targets=list(targets))

    def to_wire(self) -> dict[str, Any]:
        return {"op": self.op, "id": self.id, "path": self.path, "source": self.source,
                "targets": [t.to_wire() for t in self.targets], "shape_only": self.shape_only,
                "roots": list(self.roots), "replacements": {str(k): v for k, v in self.replacements.items()},
                "logdir": self.logdir, "run_prefix": self.run_prefix}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> "BuildRequest":
        return cls(path=data["path"], source=data["source"],
                   targets=[TargetSpec.from_wire(t) for t in data.get("targets", [])],
                   shape_only=bool(data.get("shape_only", True)), roots=list(data.get("roots", [])),
                   replacements={int(k): v for k, v in (data.get("replacements") or {}).items()},
                   op=data.get("op", BUILD), logdir=data.get("logdir"), run_prefix=data.get("run_prefix", ""),
                   id=int(data.get("id", 0)))


# -- events (worker -> engine) -------------------------------------------------------------

@dataclass
class Ready:
    """Keras is imported; the worker takes requests."""

    import_ms: float
    pid: int


@dataclass
class Stage:
    """What the worker starts now: a top-level statement, or a target's evaluation.

    The engine restarts the timeout at each stage and blames a hang or a crash on it.
    """

    stage: str
    """``statement`` or ``target``."""
    index: Optional[int] = None
    """``statement``: its index in the module body."""
    line: Optional[int] = None
    """``statement``: its first line."""
    target: Optional[str] = None
    """``target``: the target's name."""


@dataclass
class ModelEvent:
    """A target built: its graph, as the contract's dict."""

    graph: dict[str, Any]


@dataclass
class ErrorEvent:
    """A target failed (``error.factory`` names it), or, with no target, the whole request did."""

    error: BuildError


@dataclass
class WarningEvent:
    """A warning Keras or TensorFlow raised while the worker ran the file (``sites.capturing_warnings``)."""

    warning: BuildWarning
    targets: list[str] = field(default_factory=list)
    """The targets whose build ran the code that raised it (its own target, or every target whose
    slice holds the shared statement): a target reused from the cache keeps its warnings."""


@dataclass
class Dropped:
    """A target's value was not a Keras model."""

    target: str
    returned: str
    """The type name it had instead."""


@dataclass
class Done:
    """The request is over."""

    id: int = 0
    leftovers: list[str] = field(default_factory=list)
    """Threads or child processes the build left running (the engine replaces the worker)."""


Event = Union[Ready, Stage, ModelEvent, ErrorEvent, WarningEvent, Dropped, Done]


def event_to_wire(event: Event) -> dict[str, Any]:
    if isinstance(event, Ready):
        return {"event": "ready", "import_ms": event.import_ms, "pid": event.pid}
    if isinstance(event, Stage):
        return {"event": "stage", "stage": event.stage, "index": event.index, "line": event.line,
                "target": event.target}
    if isinstance(event, ModelEvent):
        return {"event": "model", "graph": event.graph}
    if isinstance(event, ErrorEvent):
        return {"event": "error", "error": event.error.to_dict()}
    if isinstance(event, WarningEvent):
        return {"event": "warning", "warning": event.warning.to_dict(), "targets": list(event.targets)}
    if isinstance(event, Dropped):
        return {"event": "dropped", "target": event.target, "returned": event.returned}
    if isinstance(event, Done):
        return {"event": "done", "id": event.id, "leftovers": list(event.leftovers)}
    raise TypeError(f"not a worker event: {event!r}")


def event_from_wire(data: dict[str, Any]) -> Event:
    kind = data.get("event")
    if kind == "ready":
        return Ready(float(data.get("import_ms") or 0.0), int(data.get("pid") or 0))
    if kind == "stage":
        return Stage(data.get("stage", ""), data.get("index"), data.get("line"), data.get("target"))
    if kind == "model":
        return ModelEvent(data["graph"])
    if kind == "error":
        return ErrorEvent(BuildError.from_dict(data["error"]))
    if kind == "warning":
        return WarningEvent(BuildWarning.from_dict(data["warning"]), list(data.get("targets") or []))
    if kind == "dropped":
        return Dropped(data.get("target", ""), data.get("returned", "?"))
    if kind == "done":
        return Done(int(data.get("id") or 0), list(data.get("leftovers") or []))
    raise ValueError(f"unknown worker event {kind!r}")
