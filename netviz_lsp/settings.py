"""NetViz settings: one camelCase object, the same in VS Code, initializationOptions and the CLI.

See ../shared/DESIGN.md ("Settings"). Parsing is forgiving: unknown keys are ignored and
values of the wrong type fall back to the default, so a typo in a user's settings
never takes the server down.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any, Optional

RANKDIRS = ("TB", "LR", "BT", "RL")
BACKEND_CHOICES = ("auto", "tensorflow", "jax", "torch")


@dataclass(frozen=True)
class RenderOptions:
    """What a diagram shows; mirrors ``keras.utils.plot_model`` plus ``show_params``."""

    show_shapes: bool = True
    show_dtype: bool = False
    show_layer_names: bool = True
    show_layer_activations: bool = True
    show_trainable: bool = False
    show_params: bool = True
    rankdir: str = "TB"
    expand_nested: bool = False
    dpi: int = 96
    expand_groups: Optional[tuple[str, ...]] = None
    """Ids of the groups drawn expanded (``render/collapse.py``); the others are one node each.
    ``None``: the default, every group expanded, or none for a graph over ``COLLAPSE_OVER`` layers."""
    edge_shapes: bool = False
    """Label each edge with its tail's output shape."""
    changed_layers: tuple[tuple[str, str], ...] = ()
    """``(layer id, "added" | "changed")`` pairs drawn highlighted (``netviz diff``); not a setting."""


@dataclass(frozen=True)
class BuildOptions:
    """How the worker builds factories."""

    timeout_seconds: float = 60.0
    shape_only: bool = True
    memory_limit_mb: Optional[int] = None
    """``None`` means a safe default: see ``effective_memory_limit_mb``."""
    factory_args: dict[str, list] = field(default_factory=dict)
    """Factory name -> positional arguments (JSON values)."""
    on_type: bool = True
    """Build the unsaved text as the user types (when it parses), not only on save."""
    on_type_delay_ms: int = 150
    """Idle time after the last keystroke before an unsaved text is built."""
    backend: str = "auto"
    """The Keras backend builds run on: ``auto`` (the user's own, but JAX for shape-only builds
    of a file that uses neither TensorFlow nor torch directly, when JAX is installed:
    ``discovery/backend.py``), ``tensorflow``, ``jax`` or ``torch``."""

    def effective_memory_limit_mb(self) -> int:
        """The worker's address-space-independent memory cap: the setting, or 60 % of RAM."""
        if self.memory_limit_mb:
            return int(self.memory_limit_mb)
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError):
            total = 8 * 1024**3
        return int(total * 0.6 / 1024**2)


@dataclass(frozen=True)
class ViewOptions:
    """What the extra views show; every field has a default that looks right."""

    collapse_repeats: Optional[bool] = None
    """Draw runs of identical blocks once, as "block × k" (``repeats.py``); ``False`` draws every copy.
    ``None``: the view's default, on for layered and neuron, off for graph and keras, whose
    SVG then has a node for every layer id (as the editor's click-to-source expects)."""
    type_ignore: tuple[str, ...] = ()
    """Layered view: layer classes not drawn (their edges are joined across), e.g. ``("Dropout",)``."""
    spacing: float = 18.0
    """Layered view: the gap between consecutive boxes, in points."""
    legend: bool = True
    """Layered and neuron views: draw the legend."""
    max_units: int = 10
    """Neuron view: at most this many circles per layer; the rest is "+k more"."""

    @classmethod
    def from_json(cls, data: Any) -> "ViewOptions":
        data = data if isinstance(data, dict) else {}
        if isinstance(data.get("netviz"), dict):
            data = data["netviz"]
        render = data.get("render") if isinstance(data.get("render"), dict) else {}
        layered = render.get("layered") if isinstance(render.get("layered"), dict) else {}
        neuron = render.get("neuron") if isinstance(render.get("neuron"), dict) else {}
        d = cls()
        ignore = layered.get("typeIgnore")
        return cls(
            collapse_repeats=render.get("collapseRepeats") if isinstance(render.get("collapseRepeats"), bool) else None,
            type_ignore=tuple(str(t) for t in ignore) if isinstance(ignore, list) else d.type_ignore,
            spacing=_bounded(layered.get("spacing"), d.spacing, 0, 200),
            legend=_bool(layered.get("legend", neuron.get("legend")), d.legend),
            max_units=int(_bounded(neuron.get("maxUnits"), d.max_units, 2, 200)),
        )



@dataclass(frozen=True)
class Settings:
    build: BuildOptions = field(default_factory=BuildOptions)
    render: RenderOptions = field(default_factory=RenderOptions)
    inlay_hints: bool = True
    views: ViewOptions = field(default_factory=ViewOptions)
    """What the layered, neuron and summary views show (``render.layered``, ``render.neuron``, …)."""

    @classmethod
    def from_json(cls, data: Any) -> "Settings":
        """Parse the camelCase settings object; anything malformed keeps its default."""
        data = data if isinstance(data, dict) else {}
        if isinstance(data.get("netviz"), dict):  # a whole configuration section
            data = data["netviz"]
        build = _section(data, "build")
        render = _section(data, "render")
        hints = _section(data, "inlayHints")
        b, r = BuildOptions(), RenderOptions()
        factory_args = build.get("factoryArgs")
        if not isinstance(factory_args, dict):
            factory_args = {}
        factory_args = {
            str(k): list(v) for k, v in factory_args.items() if isinstance(v, (list, tuple))
        }
        memory = build.get("memoryLimitMB")
        rankdir = str(render.get("rankdir", r.rankdir)).upper()
        return cls(
            build=BuildOptions(
                timeout_seconds=_number(build.get("timeoutSeconds"), b.timeout_seconds, minimum=0.1),
                shape_only=_bool(build.get("shapeOnly"), b.shape_only),
                memory_limit_mb=int(memory) if isinstance(memory, (int, float)) and memory > 0 else None,
                factory_args=factory_args,
                on_type=_bool(build.get("onType"), b.on_type),
                on_type_delay_ms=int(_bounded(build.get("onTypeDelayMs"), b.on_type_delay_ms, 0, 10_000)),
                backend=_choice(build.get("backend"), BACKEND_CHOICES, b.backend),
            ),
            render=RenderOptions(
                show_shapes=_bool(render.get("showShapes"), r.show_shapes),
                show_dtype=_bool(render.get("showDtype"), r.show_dtype),
                show_layer_names=_bool(render.get("showLayerNames"), r.show_layer_names),
                show_layer_activations=_bool(render.get("showLayerActivations"), r.show_layer_activations),
                show_trainable=_bool(render.get("showTrainable"), r.show_trainable),
                show_params=_bool(render.get("showParams"), r.show_params),
                rankdir=rankdir if rankdir in RANKDIRS else r.rankdir,
                expand_nested=_bool(render.get("expandNested"), r.expand_nested),
                dpi=int(_number(render.get("dpi"), r.dpi, minimum=10)),
            ),
            inlay_hints=_bool(hints.get("enabled"), True),
            views=ViewOptions.from_json(data),
        )

    def with_build(self, **changes: Any) -> "Settings":
        return replace(self, build=replace(self.build, **changes))


def _section(data: dict, key: str) -> dict:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _choice(value: Any, choices: tuple[str, ...], default: str) -> str:
    text = value.strip().lower() if isinstance(value, str) else None
    return text if text in choices else default


def _bool(value: Any, default: bool) -> bool:
    return value if isinstance(value, bool) else default


def _number(value: Any, default: float, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        return default
    return float(value)


def _bounded(value: Any, default: float, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        return default
    return float(value)
