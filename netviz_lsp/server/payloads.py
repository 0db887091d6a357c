"""The typed payloads the server sends to the client, beyond standard LSP.

``netviz/diagram`` and ``netviz/buildStatus`` notifications (DESIGN.md, "Server to
client") and the answer of ``netviz.listFactories``. Each is a dataclass; ``to_json``
gives the wire form, with the contract's camelCase names where it has them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

DIAGRAM = "netviz/diagram"
BUILD_STATUS = "netviz/buildStatus"


@dataclass
class ModelDiagram:
    """One factory's diagram."""

    factory: str
    """The factory's name."""
    svg: Optional[str]
    """The rendered SVG (node ids are layer ids); ``None`` when Graphviz failed (see errors)."""
    graph: dict[str, Any]
    """The factory's ``ModelGraph.to_dict()``: the graph contract."""


@dataclass
class DiagramParams:
    """``netviz/diagram``: everything one build of one file produced."""

    uri: str
    """The document built."""
    version: Optional[int]
    """The document version built; always the editor's current version when sent."""
    models: list[ModelDiagram] = field(default_factory=list)
    """One entry per factory that built, in source order."""
    errors: list[dict[str, Any]] = field(default_factory=list)
    """``BuildError.to_dict()`` for each factory or file-wide error (1-based lines)."""
    elapsed_ms: float = 0.0
    """Wall time of the build and its rendering."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BuildStatusParams:
    """``netviz/buildStatus``: where a file's build stands."""

    uri: str
    """The document."""
    state: str
    """``queued``, ``building``, ``done`` or ``failed``."""
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
    """1-based line of its ``def`` in the text last built."""
    args: Optional[str]
    """The argument source it is called with; ``None`` when unknown."""
    args_origin: Optional[str]
    """Where the arguments came from: settings, comment, defaults or call."""
    missing: list[str]
    """Required parameters nothing supplies."""
    built: bool
    """Whether its last build succeeded."""
    total_params: Optional[int]
    """Its model's parameter count from the last good build."""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "line": self.line, "args": self.args, "argsOrigin": self.args_origin,
                "missing": list(self.missing), "built": self.built, "totalParams": self.total_params}
