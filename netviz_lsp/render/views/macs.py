"""Multiply-accumulates (MACs) per layer for one forward pass of one sample, from the graph alone.

Counted, as MAC counters (ptflops, keras-flops) count them:

- Dense: ``positions * in_features * units`` (positions: every axis between batch and features).
- Conv 1-D/2-D/3-D, grouped, depthwise and separable: ``output positions * kernel weights``,
  where the kernel weights are the parameters less the bias (see ``facts.conv_geometry``).
- Transposed conv: ``input positions * kernel weights``.
- Pooling: one operation per window element per output (``output elements * window``);
  global pooling visits every input element once.
- MultiHeadAttention: the Q/K/V/output projections plus ``2 * Tq * Tk * heads*key_dim`` for
  the scores and the weighted sum; ``heads*key_dim`` follows from the parameter count
  (``key_dim == value_dim``, Keras' default). Attention/AdditiveAttention: ``2 * Tq * Tv * dim``.
- LSTM/GRU/SimpleRNN: ``steps * gates * (in * units + units * units)``.

Layers that only move data (reshape, dropout, padding, embedding lookup, concatenation)
count 0. Elementwise layers (activations, normalization, adds) and unknown classes are
*not counted*: ``None``, shown as "—". A nested model counts its inner layers; a shared
layer counts once, for its first call, since the graph records one call per layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from netviz_lsp.graph import Layer, ModelGraph
from netviz_lsp.render.views.facts import GraphFacts, numel, single

_ZERO = (
    "InputLayer", "Flatten", "Reshape", "Permute", "RepeatVector", "Dropout", "SpatialDropout1D",
    "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
    "Embedding", "Concatenate", "UpSampling1D", "UpSampling2D", "UpSampling3D", "Identity",
    "Masking", "ActivityRegularization",
)
_RNN_GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}


@dataclass
class MacCount:
    """MACs of every layer (``None``: not counted) and the model's total."""

    per_layer: dict[str, Optional[int]] = field(default_factory=dict)
    total: int = 0
    """Sum over every non-model layer that was counted."""
    not_counted: list[str] = field(default_factory=list)
    """Ids of non-model layers with no count (elementwise or unknown classes)."""


def count_macs(graph: ModelGraph) -> MacCount:
    """MACs of every layer of ``graph``; nested models sum their inner layers."""
    facts = GraphFacts(graph)
    result = MacCount()
    for layer in graph.layers:
        if not layer.is_model:
            macs = layer_macs(layer, facts)
            result.per_layer[layer.id] = macs
            if macs is None:
                result.not_counted.append(layer.id)
            else:
                result.total += macs
    children: dict[str, list[str]] = {}
    for layer in graph.layers:
        if layer.parent is not None:
            children.setdefault(layer.parent, []).append(layer.id)
    for layer in graph.layers:
        if layer.is_model:
            result.per_layer[layer.id] = _descendant_sum(layer.id, children, result.per_layer, set())
    return result


def _descendant_sum(model_id: str, children: dict, counts: dict, seen: set) -> Optional[int]:
    seen.add(model_id)
    values = []
    for kid in children.get(model_id, []):
        if kid in seen:
            continue
        value = counts.get(kid) if kid not in children else _descendant_sum(kid, children, counts, seen)
        values.append(value)
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def layer_macs(layer: Layer, facts: GraphFacts) -> Optional[int]:
    """MACs of one (non-model) layer, or ``None`` when not counted (see the module docstring)."""
    name = layer.class_name
    if name in _ZERO:
        return 0
    if name == "Dense":
        return _dense(layer, facts)
    if name == "MultiHeadAttention":
        return _multi_head_attention(layer, facts)
    if name in ("Attention", "AdditiveAttention"):
        return _dot_attention(layer, facts)
    if name in _RNN_GATES:
        return _recurrent(layer, facts, _RNN_GATES[name])
    if "Pooling" in name:
        return _pooling(layer, facts)
    if "Conv" in name and "LSTM" not in name:
        return _convolution(layer, facts)
    return None


def _dense(layer: Layer, facts: GraphFacts) -> Optional[int]:
    inp, out = facts.input_shape(layer), single(layer.output_shape)
    if inp is None or out is None or inp[-1] is None or out[-1] is None:
        return None
    positions = numel(out[1:-1])
    return None if positions is None else positions * inp[-1] * out[-1]


def _convolution(layer: Layer, facts: GraphFacts) -> Optional[int]:
    geometry = facts.conv(layer)
    if geometry is None:
        return None
    if "Transpose" in layer.class_name:
        positions = numel(facts.input_shape(layer)[1:-1])
    else:
        positions = numel(single(layer.output_shape)[1:-1])
    return None if positions is None else positions * geometry.kernel_weights


def _pooling(layer: Layer, facts: GraphFacts) -> Optional[int]:
    window = facts.pool_window(layer)
    inp, out = facts.input_shape(layer), single(layer.output_shape)
    if window is None or inp is None or out is None:
        return None
    if "Global" in layer.class_name:
        return numel(inp[1:])
    elements = numel(out[1:])
    return None if elements is None else elements * math.prod(window)


def _sequence(shape) -> tuple[Optional[int], Optional[int]]:
    """(positions, features) of a ``(batch, ..., features)`` shape."""
    shape = single(shape)
    if shape is None or len(shape) < 2:
        return None, None
    return numel(shape[1:-1]) if len(shape) > 2 else 1, shape[-1]


def _multi_head_attention(layer: Layer, facts: GraphFacts) -> Optional[int]:
    shapes = facts.input_shapes(layer)
    if not shapes:
        return None
    tq, dq = _sequence(shapes[0])
    tv, dv = _sequence(shapes[1] if len(shapes) > 1 else shapes[0])
    tk, dk = _sequence(shapes[2] if len(shapes) > 2 else (shapes[1] if len(shapes) > 1 else shapes[0]))
    _, dout = _sequence(layer.output_shape)
    if None in (tq, dq, tv, dv, tk, dk, dout):
        return None
    # params = (dq+1)H + (dk+1)H + (dv+1)H + H*dout + dout with bias, or without the +1s and + dout.
    hidden = None
    for bias in (True, False):
        rest = layer.params - (dout if bias else 0)
        per_unit = dq + dk + dv + dout + (3 if bias else 0)
        if rest > 0 and rest % per_unit == 0:
            hidden = rest // per_unit
            break
    if hidden is None:
        return None
    projections = tq * dq * hidden + tk * dk * hidden + tv * dv * hidden + tq * hidden * dout
    return projections + 2 * tq * tk * hidden


def _dot_attention(layer: Layer, facts: GraphFacts) -> Optional[int]:
    shapes = facts.input_shapes(layer)
    if not shapes:
        return None
    tq, d = _sequence(shapes[0])
    tv, _ = _sequence(shapes[1] if len(shapes) > 1 else shapes[0])
    if None in (tq, d, tv):
        return None
    return 2 * tq * tv * d


def _recurrent(layer: Layer, facts: GraphFacts, gates: int) -> Optional[int]:
    inp, out = facts.input_shape(layer), single(layer.output_shape)
    if inp is None or out is None or len(inp) != 3:
        return None
    steps, features, units = inp[1], inp[2], out[-1]
    if None in (steps, features, units):
        return None
    return steps * gates * (features * units + units * units)


def format_macs(value: Optional[int]) -> str:
    """``9144576`` -> ``9,144,576``; not counted -> an em dash."""
    return "\u2014" if value is None else f"{value:,}"


def compact_macs(value: int) -> str:
    """``3_866_000_000`` -> ``3.87 G``, as MAC totals are usually quoted."""
    for limit, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if value >= limit:
            return f"{value / limit:.2f} {suffix}"
    return str(value)
