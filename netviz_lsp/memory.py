"""What a model costs in memory, from the graph contract alone (no Keras): torchinfo's estimates.

- ``activation_bytes(shape, dtypes)``: one layer's output tensors for one sample: the product
  of each output's dimensions without the batch, times its dtype's size, summed over the
  outputs; ``None`` when a dimension is unknown. The worker calls it with the dtypes of the
  layer's output tensors (its compute dtype: a ``mixed_float16`` layer's outputs are
  float16, while ``Layer.dtype`` in the contract is its variable dtype, float32).
- ``model_memory(graph)``: ``Memory(param_bytes, activation_bytes_per_sample)``, the latter
  the sum over the layers that are not themselves models (a nested model's output is its
  last layer's, already counted).
"""

from __future__ import annotations

import math
import re
from typing import Optional, Sequence, Union

from netviz_lsp.graph import Memory, ModelGraph

DTYPE_BYTES = {
    "float64": 8, "float32": 4, "float16": 2, "bfloat16": 2,
    "int64": 8, "int32": 4, "int16": 2, "int8": 1, "int4": 1,
    "uint64": 8, "uint32": 4, "uint16": 2, "uint8": 1, "uint4": 1,
    "bool": 1, "complex64": 8, "complex128": 16, "string": 8,
}
DEFAULT_DTYPE = "float32"
"""What a tensor of unknown dtype is counted as (Keras' default ``floatx``)."""

Dtypes = Union[Optional[str], Sequence[Optional[str]]]


def dtype_bytes(dtype: Optional[str]) -> int:
    """Bytes of one element of ``dtype``: ``float32`` 4, ``float16``/``bfloat16`` 2, ``int8`` 1, ``float8_e4m3fn`` 1."""
    name = (dtype or DEFAULT_DTYPE).lower()
    name = name.rsplit(".", 1)[-1].removeprefix("<dtype: '").rstrip("'>")  # tf.float16, <dtype: 'float16'>
    if name in DTYPE_BYTES:
        return DTYPE_BYTES[name]
    bits = re.search(r"(\d+)", name)
    return max(1, int(bits.group(1)) // 8) if bits else DTYPE_BYTES[DEFAULT_DTYPE]


def activation_bytes(shape, dtypes: Dtypes = None) -> Optional[int]:
    """Bytes of the output(s) with ``shape`` (one shape, or a list of shapes) for one sample.

    ``dtypes`` is one dtype for every output or one per output. The first dimension is the
    batch and is dropped; a scalar-per-sample output (``[None]``) counts one element.
    """
    if shape is None:
        return None
    shapes = shape if shape and all(isinstance(s, list) for s in shape) else [shape]
    if isinstance(dtypes, (list, tuple)):
        per_output = list(dtypes) + [None] * (len(shapes) - len(dtypes))
    else:
        per_output = [dtypes] * len(shapes)
    total = 0
    for one, dtype in zip(shapes, per_output):
        dims = list(one[1:])
        if any(d is None for d in dims):
            return None
        total += math.prod(dims) * dtype_bytes(dtype)
    return total


def model_memory(graph: ModelGraph) -> Memory:
    """``graph``'s memory: its weights' bytes and its layers' activation bytes per sample."""
    return Memory(
        param_bytes=graph.weights_bytes,
        activation_bytes_per_sample=sum(layer.activation_bytes or 0 for layer in graph.layers
                                        if not layer.is_model),
    )


def format_bytes(nbytes: float) -> str:
    """``4064256`` -> ``3.88 MB`` (binary units, as Keras' ``summary()`` prints sizes)."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if nbytes >= scale:
            return f"{nbytes / scale:.2f} {unit}"
    return f"{nbytes:.0f} B"
