"""The model graph: the one contract between worker, renderers, server and client.

Plain dataclasses and JSON, nothing else. This module never imports Keras or
TensorFlow, and nothing in it holds a Keras object. Lines are 1-based, as
editors show them; convert at the LSP boundary.

The JSON shape is fixed by ../shared/DESIGN.md ("The graph contract"): fields may
be added, the documented names and meanings stay.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional, Union

Shape = list  # e.g. [None, 126, 126, 64]; a list of such lists for several outputs

#: The kinds an error may have. ``render`` is ours: Graphviz failed on a graph
#: that built fine (the others are DESIGN.md's).
ERROR_KINDS = ("syntax", "arguments", "build", "timeout", "crash", "memory", "render")


@dataclass
class Layer:
    """One layer of a built model, as the diagram and the editor features see it."""

    id: str
    """Stable and unique within the model: the layer name, prefixed with its parents' ids for nested layers."""
    name: str
    """The Keras layer name (user text: escape it wherever it is drawn)."""
    class_name: str
    """The layer's class, e.g. ``Conv2D``."""
    line: Optional[int]
    """1-based line in the previewed file where the layer was constructed (innermost frame)."""
    call_lines: list[int]
    """The chain of lines in the previewed file, innermost first, that led to the construction."""
    output_shape: Optional[Union[Shape, list[Shape]]]
    """One shape for a single output, a list of shapes for several, ``None`` if unknown."""
    params: int
    """Number of scalar weights the layer owns."""
    trainable: bool
    """Whether the layer is trainable."""
    activation: Optional[str] = None
    """Name of the layer's activation function, when it has one."""
    dtype: Optional[str] = None
    """The layer's variable dtype, e.g. ``float32``."""
    parent: Optional[str] = None
    """Id of the enclosing nested model, ``None`` at the top level."""
    trainable_params: int = 0
    """The trainable share of ``params``."""
    is_model: bool = False
    """True when this layer is itself a model (drawn as a cluster when expanded)."""
    cell: Optional[int] = None
    """Notebooks: the index in the notebook's ``cells`` array of ``line``'s cell (``line`` is then cell-local)."""
    call_cells: list[int] = field(default_factory=list)
    """Notebooks: the cell of each entry of ``call_lines``."""
    activation_bytes: Optional[int] = None
    """Bytes of the layer's output tensors for one sample (batch dimension dropped) at its dtype; ``None`` when a dimension is unknown."""
    failed: bool = False
    """Only in an error's partial ``graph``: this layer's call raised."""


@dataclass
class Group:
    """A collapsible set of layers: a nested model, a run of repeated blocks, or layers sharing a name prefix."""

    id: str
    """Unique within the model, distinct from every layer id."""
    label: str
    """What a collapsed group is titled, e.g. ``conv2_block1`` or ``3 × residual block``."""
    kind: str
    """``nested``, ``repeat`` or ``block``."""
    layers: list[str]
    """Ids of every layer in the group, nested groups' layers included, in model order."""
    parent: Optional[str] = None
    """Id of the enclosing group, ``None`` at the top level."""
    params: int = 0
    """Scalar weights of the group's layers."""


@dataclass
class Memory:
    """What the model costs in memory (estimates, as torchinfo's)."""

    param_bytes: int
    """All weights at their dtypes (= ``weights_bytes``)."""
    activation_bytes_per_sample: int
    """The sum of every layer's ``activation_bytes``."""


@dataclass
class BuildInfo:
    """How the model was built."""

    ms: float
    """Wall time of the factory call plus graph extraction, in milliseconds."""
    shape_only: bool
    """True when no weights were allocated (``keras.StatelessScope``)."""
    note: Optional[str] = None
    """Why the build fell back to a normal one, or what could not be traced."""
    cached: bool = False
    """True when this graph was reused because nothing its build runs had changed."""
    backend: Optional[str] = None
    """The Keras backend that built it: ``tensorflow``, ``jax`` or ``torch``."""


@dataclass
class ModelGraph:
    """One factory's model."""

    factory: str
    line: int
    class_name: str
    total_params: int
    trainable_params: int
    non_trainable_params: int
    inputs: list[Shape]
    outputs: list[Shape]
    build: BuildInfo
    layers: list[Layer] = field(default_factory=list)
    edges: list[list[str]] = field(default_factory=list)
    name: Optional[str] = None
    """The Keras model's own name."""
    weights_bytes: int = 0
    """Size of all weights at their dtypes, in bytes."""
    kind: str = "factory"
    """``factory`` (a function called for it) or ``variable`` (a module-level assignment built it)."""
    cell: Optional[int] = None
    """Notebooks: the cell of ``line`` (then cell-local)."""
    groups: list[Group] = field(default_factory=list)
    """Collapsible groups of layers, parents before children."""
    memory: Optional[Memory] = None
    """Parameter and activation memory; ``None`` for a partial graph."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelGraph":
        data = dict(data)
        data["build"] = BuildInfo(**data["build"])
        data["layers"] = [Layer(**layer) for layer in data.get("layers", [])]
        data["edges"] = [list(edge) for edge in data.get("edges", [])]
        data["groups"] = [Group(**group) for group in data.get("groups", [])]
        if data.get("memory") is not None:
            data["memory"] = Memory(**data["memory"])
        return cls(**data)

    def layers_at_line(self, line: int) -> list[Layer]:
        """The layers whose construction chain passes through ``line`` (1-based)."""
        return [layer for layer in self.layers if layer.line == line or line in layer.call_lines]


@dataclass
class BuildError:
    """An error as a value, with the line in the user's file it belongs to."""

    kind: str
    """One of ``ERROR_KINDS``."""
    message: str
    line: Optional[int] = None
    """1-based line, ``None`` when no line in the file is to blame."""
    factory: Optional[str] = None
    """The factory it concerns, ``None`` for file-wide errors (syntax)."""
    column: Optional[int] = None
    """0-based column when known (syntax errors)."""
    cell: Optional[int] = None
    """Notebooks: the cell of ``line`` (then cell-local)."""
    call_lines: list[int] = field(default_factory=list)
    """The chain of lines in the previewed file that led to the failure, innermost first (``call_lines[0] == line``)."""
    call_cells: list[int] = field(default_factory=list)
    """Notebooks: the cell of each entry of ``call_lines``."""
    graph: Optional[ModelGraph] = None
    """The partial graph up to the failure (layers created and called before it, the failing one ``failed``)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BuildError":
        data = dict(data)
        if data.get("graph") is not None:
            data["graph"] = ModelGraph.from_dict(data["graph"])
        return cls(**data)


@dataclass
class BuildWarning:
    """A warning Keras or TensorFlow raised during a build, at the user's line."""

    message: str
    """The warning's own text."""
    category: str
    """The warning class's name, e.g. ``UserWarning``."""
    line: Optional[int] = None
    """1-based line in the previewed file (the innermost frame in it)."""
    factory: Optional[str] = None
    """The target whose build raised it; ``None`` for the file's shared statements."""
    cell: Optional[int] = None
    """Notebooks: the cell of ``line`` (then cell-local)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BuildWarning":
        return cls(**data)


@dataclass
class FileResult:
    """Everything one build of one file produced: graphs for the factories that built, errors for the rest."""

    file: str
    models: list[ModelGraph] = field(default_factory=list)
    errors: list[BuildError] = field(default_factory=list)
    warnings: list[BuildWarning] = field(default_factory=list)
    """Warnings raised while building, deduplicated by (line, message)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "models": [m.to_dict() for m in self.models],
            "errors": [e.to_dict() for e in self.errors],
            "warnings": [w.to_dict() for w in self.warnings],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FileResult":
        return cls(
            file=data["file"],
            models=[ModelGraph.from_dict(m) for m in data.get("models", [])],
            errors=[BuildError.from_dict(e) for e in data.get("errors", [])],
            warnings=[BuildWarning.from_dict(w) for w in data.get("warnings", [])],
        )

    def model(self, factory: str) -> Optional[ModelGraph]:
        return next((m for m in self.models if m.factory == factory), None)


def format_shape(shape: Optional[Union[Shape, list[Shape]]]) -> str:
    """``[None, 126, 126, 64]`` -> ``(None, 126, 126, 64)``, as Keras prints shapes."""
    if shape is None:
        return "?"
    if shape and all(isinstance(s, list) for s in shape):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    dims = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def format_count(n: int) -> str:
    """Compact parameter count: 640, 5.3M, 63.0M, 6.7B."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= limit:
            return f"{n / limit:.1f}{suffix}"
    return str(n)
