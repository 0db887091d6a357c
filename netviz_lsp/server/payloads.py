"""The typed payloads the server sends to the client, beyond standard LSP.

``netviz/diagram`` and ``netviz/buildStatus`` notifications and the answer of
``netviz.listFactories``, as docs/protocol.md defines them (tests/test_protocol_doc.py
checks these classes against it). Each is a dataclass; ``to_json`` gives the wire form:
the field names as they are for the notifications, camelCase for ``FactoryInfo``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

DIAGRAM = "netviz/diagram"
BUILD_STATUS = "netviz/buildStatus"


@dataclass
class ModelDiagram:
    """One target's diagram."""

    factory: str
    """The target's name: a factory function, or a module-level variable."""
    svg: Optional[str]
    """The rendered SVG (node ids are layer ids); ``None`` when Graphviz failed (a ``render`` error says why)."""
    graph: dict[str, Any]
    """The factory's ``ModelGraph.to_dict()``: the graph contract."""
    changes: Optional[dict[str, Any]] = None
    """``{added, removed, changed, params_delta}`` against the previous diagram of this file and target; ``None`` for the first."""


@dataclass
class PartialDiagram:
    """A failed target's partial graph, drawn: its graph is the error's ``graph``."""

    factory: str
    """The target whose build failed (the error's ``factory``)."""
    svg: Optional[str]
    """The partial graph drawn, its failing layer marked; ``None`` when Graphviz failed."""


@dataclass
class DiagramParams:
    """``netviz/diagram``: everything one build of one file produced.

    Sent only while the editor's text is exactly the text the build ran (``publish.py``).
    """

    uri: str
    """The document built."""
    version: Optional[int]
    """The editor's version of the document when this is sent; the build ran that version's text.
    It may be a later version than the one the build was requested for: a build is held back
    while the text differs, and sent when an edit brings the text back (documents.py compares
    texts, not versions)."""
    models: list[ModelDiagram] = field(default_factory=list)
    """One entry per target that built, in source order."""
    errors: list[dict[str, Any]] = field(default_factory=list)
    """``BuildError.to_dict()`` of the build's errors, then its ``render`` errors (1-based lines)."""
    elapsed_ms: float = 0.0
    """Wall time from the start of the build to the end of its rendering, in milliseconds."""
    partials: list[PartialDiagram] = field(default_factory=list)
    """One entry per error that carries a partial ``graph``, in the order of ``errors``."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BuildStatusParams:
    """``netviz/buildStatus``: where a file's build stands."""

    uri: str
    """The document."""
    state: str
    """``queued``, ``building``, ``done`` or ``failed`` (any error, ``render`` included)."""
    message: str
    """One line for a status bar, e.g. ``Building construct_model()…``."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FactoryInfo:
    """One factory, as ``netviz.listFactories`` reports it."""

    name: str
    """The function's name."""
    line: int
    """1-based line of its ``def`` in the editor's current text (in the text last built when that line is gone)."""
    args: Optional[str]
    """The argument source it is called with; ``None`` when nothing supplies them."""
    args_origin: Optional[str]
    """Where the arguments came from: settings, comment, defaults or call."""
    missing: list[str]
    """Required parameters nothing supplies."""
    built: bool
    """Whether its last build succeeded."""
    total_params: Optional[int]
    """Its model's parameter count from the last good build; ``None`` when it never built."""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "line": self.line, "args": self.args, "argsOrigin": self.args_origin,
                "missing": list(self.missing), "built": self.built, "totalParams": self.total_params}
