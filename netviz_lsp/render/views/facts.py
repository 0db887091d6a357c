"""Per-layer facts the views need that the graph contract does not carry, derived from it.

The contract has output shapes, parameter counts and edges. From those:

- **input shapes**: the output shapes of the layers whose edges enter a layer, in edge
  order; a top-level layer no edge enters takes the model's input (a Sequential's
  hidden ``InputLayer``).
- **kernel size** of a convolution: a Conv2D's parameters are ``kh*kw*cin*f (+ f)``, so
  ``kh*kw`` follows from ``cin`` and ``f``; a square (cube) kernel gives ``k``. Which of
  the two (bias or not) is decided by divisibility, then by squareness, then Keras'
  default ``use_bias=True``.
- **window** of a pooling layer: input size over output size, per spatial axis. That is
  the stride, and the window too when they agree (Keras' default ``strides=pool_size``);
  an overlapping pool (ResNet's 3×3 with stride 2) reads as 2×2.

Nothing here is guessed silently: a fact that does not follow is ``None``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from netviz_lsp.graph import Layer, ModelGraph

Shape = list


def single(shape) -> Optional[Shape]:
    """The shape itself for one output; ``None`` for several outputs or an unknown shape."""
    if not shape or any(isinstance(d, list) for d in shape):
        return None
    return shape


def numel(dims) -> Optional[int]:
    """The product of ``dims``; ``None`` when any is unknown."""
    if any(d is None for d in dims):
        return None
    return math.prod(dims)


class GraphFacts:
    """Derived facts of one graph: input shapes and convolution geometry per layer."""

    def __init__(self, graph: ModelGraph):
        self.graph = graph
        self.by_id = {layer.id: layer for layer in graph.layers}
        self.sources: dict[str, list[str]] = {}
        self.targets: dict[str, list[str]] = {}
        for src, dst in graph.edges:
            if src in self.by_id and dst in self.by_id:
                self.sources.setdefault(dst, []).append(src)
                self.targets.setdefault(src, []).append(dst)

    def input_shapes(self, layer: Layer) -> list[Shape]:
        """The shapes flowing into ``layer``: one per edge, or the model input at the top.

        A nested model's first layer (no edge enters it) takes its model's first input.
        """
        seen: set[str] = set()
        while layer.id not in seen:
            seen.add(layer.id)
            sources = self.sources.get(layer.id, [])
            if sources:
                shapes = [self.by_id[s].output_shape for s in sources]
                return shapes if len(seen) == 1 else shapes[:1]
            if layer.class_name == "InputLayer":
                return []
            parent = self.by_id.get(layer.parent) if layer.parent is not None else None
            if parent is None:
                return [self.graph.inputs[0]] if len(self.graph.inputs) == 1 else []
            layer = parent
        return []  # a parent cycle

    def input_shape(self, layer: Layer) -> Optional[Shape]:
        """The single input shape, when exactly one known shape flows in."""
        shapes = self.input_shapes(layer)
        return single(shapes[0]) if len(shapes) == 1 else None

    def conv(self, layer: Layer) -> Optional["ConvGeometry"]:
        """Kernel size and bias of a convolution layer, when its parameters determine them."""
        return conv_geometry(layer, self.input_shape(layer))

    def pool_window(self, layer: Layer) -> Optional[tuple[int, ...]]:
        """The pooling window per spatial axis (input size // output size), global pools included."""
        inp, out = self.input_shape(layer), single(layer.output_shape)
        if inp is None or out is None:
            return None
        spatial_in = inp[1:-1]
        if "Global" in layer.class_name:
            return tuple(spatial_in) if all(d is not None for d in spatial_in) else None
        spatial_out = out[1:-1]
        if len(spatial_in) != len(spatial_out) or not spatial_in:
            return None
        window = []
        for a, b in zip(spatial_in, spatial_out):
            if a is None or b is None or b == 0:
                return None
            window.append(max(1, round(a / b)))
        return tuple(window)


@dataclass(frozen=True)
class ConvGeometry:
    """What a convolution's parameter count tells: its kernel and whether it has a bias."""

    kernel: Optional[tuple[int, ...]]
    """Kernel size per spatial axis when square/cubic (or 1-D); ``None`` when only the area is known."""
    kernel_area: int
    """Product of the kernel's spatial sizes."""
    bias: bool
    kernel_weights: int
    """Weights in the kernel(s), bias excluded: what each output position multiplies by."""
    depth_multiplier: int = 1


def _root(value: int, rank: int) -> Optional[int]:
    if value <= 0:
        return None
    root = round(value ** (1.0 / rank))
    for candidate in (root - 1, root, root + 1):
        if candidate > 0 and candidate**rank == value:
            return candidate
    return None


def conv_geometry(layer: Layer, input_shape: Optional[Shape]) -> Optional[ConvGeometry]:
    """The kernel of a Conv/DepthwiseConv/SeparableConv/ConvTranspose layer (1-D to 3-D)."""
    out = single(layer.output_shape)
    if out is None or input_shape is None or len(out) < 3 or len(input_shape) != len(out):
        return None
    rank = len(out) - 2
    cin, cout, params = input_shape[-1], out[-1], layer.params
    if cin is None or cout is None or params <= 0:
        return None
    name = layer.class_name
    if name.startswith("DepthwiseConv"):
        return _depthwise(params, cin, cout, rank)
    if name.startswith("SeparableConv"):
        return _separable(params, cin, cout, rank)
    return _standard(params, cin, cout, rank)


def _pick(candidates: list[tuple[bool, int]], rank: int) -> Optional[tuple[bool, int]]:
    """From (bias, kernel area) readings, the one whose area is a perfect power, bias first."""
    valid = [(bias, area) for bias, area in candidates if area > 0]
    for bias, area in valid:
        if rank == 1 or _root(area, rank) is not None:
            return bias, area
    return valid[0] if valid else None


def _kernel(area: int, rank: int) -> Optional[tuple[int, ...]]:
    side = area if rank == 1 else _root(area, rank)
    return None if side is None else (side,) * rank


def _standard(params: int, cin: int, cout: int, rank: int) -> Optional[ConvGeometry]:
    per_area = cin * cout
    readings = [(bias, (params - (cout if bias else 0)) // per_area)
                for bias in (True, False) if (params - (cout if bias else 0)) % per_area == 0]
    picked = _pick(readings, rank)
    if picked is None:
        return None
    bias, area = picked
    return ConvGeometry(_kernel(area, rank), area, bias, area * per_area)


def _depthwise(params: int, cin: int, cout: int, rank: int) -> Optional[ConvGeometry]:
    if cout % cin:
        return None
    readings = [(bias, (params - (cout if bias else 0)) // cout)
                for bias in (True, False) if (params - (cout if bias else 0)) % cout == 0]
    picked = _pick(readings, rank)
    if picked is None:
        return None
    bias, area = picked
    return ConvGeometry(_kernel(area, rank), area, bias, area * cout, depth_multiplier=cout // cin)


def _separable(params: int, cin: int, cout: int, rank: int) -> Optional[ConvGeometry]:
    # params = cin*m*area (depthwise) + cin*m*cout (pointwise) [+ cout]
    for bias in (True, False):
        rest = params - (cout if bias else 0)
        if rest <= 0 or rest % cin:
            continue
        for multiplier in range(1, 9):
            quotient, remainder = divmod(rest // cin, multiplier)
            area = quotient - cout
            if remainder == 0 and area > 0 and (rank == 1 or _root(area, rank) is not None):
                return ConvGeometry(_kernel(area, rank), area, bias, rest, depth_multiplier=multiplier)
    return None


def spatial_text(dims) -> str:
    """``(126, 126)`` -> ``126×126``; unknown sizes as ``?``."""
    return "\u00d7".join("?" if d is None else str(d) for d in dims)
