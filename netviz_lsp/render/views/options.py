"""Options of the views beyond ``RenderOptions`` (which mirrors ``plot_model``).

Parsed from the same camelCase settings object, under ``render``::

    {"render": {"collapseRepeats": true,          (absent: on for layered and neuron only)
                "layered": {"typeIgnore": ["Dropout"], "spacing": 18, "legend": true},
                "neuron": {"maxUnits": 10}}}

As in ``settings.py``, anything malformed keeps its default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional


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
            spacing=_number(layered.get("spacing"), d.spacing, 0, 200),
            legend=_bool(layered.get("legend", neuron.get("legend")), d.legend),
            max_units=int(_number(neuron.get("maxUnits"), d.max_units, 2, 200)),
        )


def _bool(value: Any, default: bool) -> bool:
    return value if isinstance(value, bool) else default


def _number(value: Any, default: float, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        return default
    return float(value)
