"""What discovery hands to the engine and the worker: the targets and the file's slice facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from netviz_lsp.graph import BuildError


@dataclass
class Factory:
    """A preview target: a factory function to call, or a top-level variable holding a model."""

    name: str
    """The function's name; for a variable, its name (``model``), ``model@LINE`` when the
    name is assigned a model again later."""
    line: int
    """Line of the ``def`` keyword (not of a decorator), or of the assignment."""
    end_line: int
    """Last line of the ``def``; for a variable, of the last statement of its construction."""
    params: list[str]
    """Parameter names in order, ``*args``/``**kwargs`` with their stars (empty for variables)."""
    args: Optional[str]
    """Source to put between the call's parentheses (``""``, ``"0.001"``); ``None`` when unknown.
    ``""`` for variables."""
    args_origin: Optional[str]
    """``"settings"``, ``"comment"``, ``"call"`` or ``"defaults"``; ``None`` when unknown and for variables."""
    missing: list[str] = field(default_factory=list)
    """Required parameters nothing supplies (non-empty only when ``args`` is ``None``)."""
    slice: list[int] = field(default_factory=list)
    """Top-level statements this target needs, as ascending indexes into the module body. Never
    a statement that is skipped; statements with a replacement run as their replacement."""
    fingerprint: str = ""
    """Changes whenever what a build of this target runs changes: its slice's text, lines and
    replacements, its arguments, its expression."""
    declared: bool = False
    """Marked (``# netviz:`` comment, ``factoryArgs``), annotated to return a model, or plainly a
    model (``keras.Sequential(...)``): if it is something else, that is worth an error rather than
    a quiet drop."""
    kind: str = "factory"
    """``"factory"`` or ``"variable"``."""
    expr: str = ""
    """What the worker evaluates in the module namespace to get the model: ``name(args)`` for a
    factory, the variable's name for a variable."""
    after: Optional[int] = None
    """Variables: the statement (index into the body) after which ``expr`` is evaluated: the
    assignment, or the last top-level ``.add``/``.build``/``.compile``/call of it that follows."""
    start: Optional[int] = None
    """Variables: the statement where its construction begins (the assignment)."""
    blocked: Optional[BuildError] = None
    """Why it cannot be built (the same error is in ``Discovery.errors``)."""

    @property
    def buildable(self) -> bool:
        return self.args is not None and self.blocked is None


Target = Factory


@dataclass
class Discovery:
    """Everything ``discover`` found in one file."""

    factories: list[Factory] = field(default_factory=list)
    """Every preview target, in source order, including those that cannot be built."""
    slice: list[int] = field(default_factory=list)
    """Ascending union of the slices of the buildable targets."""
    errors: list[BuildError] = field(default_factory=list)
    """``syntax`` (file-wide) or ``arguments`` (one target) errors."""
    replacements: dict[int, str] = field(default_factory=dict)
    """Statement index -> the source that runs instead of it, on its first line
    (``# netviz: value=`` stand-ins, ``keras.datasets`` loaders)."""
    skipped: dict[int, str] = field(default_factory=dict)
    """Statement index -> why it never runs (an ``effects.REASONS`` key)."""
    stand_ins: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    """Blocked target -> ``[(name, line)]``: a ``# netviz: value=...`` comment at the end of that
    1-based line would stand in for that name (the quick fix)."""
