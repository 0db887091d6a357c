"""Memory estimates: each layer's activation bytes per sample and the model's ``memory``, for real
builds (the article's first CNN, a mixed-precision model) and from shapes alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from netviz_lsp.engine import Engine
from netviz_lsp.graph import Layer, ModelGraph
from netviz_lsp.memory import activation_bytes, dtype_bytes, format_bytes, model_memory
from netviz_lsp.render.views.summary import render_summary
from netviz_lsp.settings import Settings
from netviz_lsp.worker.pool import BuildPool

ROOT = Path(__file__).resolve().parent.parent
MIXED = ROOT / "tests" / "fixtures" / "groups" / "mixed_precision.py"


@pytest.fixture(scope="module")
def built():
    pool = BuildPool()
    engine = Engine(pool)
    try:
        out = {}
        for path in (ROOT / "examples" / "seed_cnns.py", MIXED):
            result = engine.build(str(path), path.read_text(encoding="utf-8"), Settings())
            assert result.errors == []
            out.update({m.factory: m for m in result.models})
        return out
    finally:
        pool.close()


def by_id(graph: ModelGraph) -> dict[str, Layer]:
    return {layer.id: layer for layer in graph.layers}


def test_the_articles_first_conv2d_holds_4064256_bytes_per_sample(built):
    first = built["construct_model"]
    conv = first.layers[0]
    assert (conv.id, conv.output_shape, conv.dtype) == ("conv2d", [None, 126, 126, 64], "float32")
    assert conv.activation_bytes == 4_064_256 == 126 * 126 * 64 * 4
    layers = by_id(first)
    assert layers["max_pooling2d"].activation_bytes == 62 * 62 * 64 * 4
    assert first.memory is not None
    assert first.memory.param_bytes == first.weights_bytes == 63_021_004 * 4
    assert first.memory.activation_bytes_per_sample == sum(layer.activation_bytes for layer in first.layers)
    assert all(layer.activation_bytes is not None for layer in first.layers)


def test_mixed_precision_layers_count_their_float16_outputs(built):
    mixed = built["mixed_precision_classifier"]
    layers = by_id(mixed)
    dense = layers["dense_1"]
    assert dense.dtype == "float32"  # the contract's dtype is the weights' (variable) dtype
    assert dense.activation_bytes == 4096 * 2  # its outputs are float16, the compute dtype
    assert layers["dense_logits"].activation_bytes == 10 * 2
    assert layers["predictions"].activation_bytes == 10 * 4  # a float32 softmax
    assert layers["digits"].activation_bytes == 784 * 4
    assert mixed.memory.activation_bytes_per_sample == 784 * 4 + 2 * 4096 * 2 + 10 * 2 + 10 * 4
    assert mixed.memory.param_bytes == 4 * mixed.total_params


def test_the_summary_shows_memory_next_to_macs(built):
    text = render_summary(built["construct_model"], "md").decode()
    macs_line = next(i for i, line in enumerate(text.splitlines()) if "Total MACs" in line)
    memory_line = text.splitlines()[macs_line + 1]
    assert memory_line == (f"- **Memory:** {format_bytes(63_021_004 * 4)} of weights, "
                           f"{format_bytes(built['construct_model'].memory.activation_bytes_per_sample)} "
                           "of activations per sample")
    assert "240.41 MB of weights" in memory_line  # 252,084,016 bytes


# -- from shapes alone ----------------------------------------------------------------------------

def test_activation_bytes_from_shapes_and_dtypes():
    assert activation_bytes([None, 126, 126, 64], "float32") == 4_064_256
    assert activation_bytes([None, 126, 126, 64], "bfloat16") == 2_032_128
    assert activation_bytes([None, 10], "int8") == 10
    assert activation_bytes([None, 10], None) == 40  # unknown dtype: Keras' floatx
    assert activation_bytes([[None, 8], [None, 2, 3]], ["float32", "float16"]) == 8 * 4 + 6 * 2
    assert activation_bytes([[None, 8], [None, 2, 3]], "float64") == 14 * 8
    assert activation_bytes([None, None, 64], "float32") is None  # a sequence of unknown length
    assert activation_bytes([None], "float32") == 4
    assert activation_bytes(None) is None


def test_dtype_sizes():
    assert [dtype_bytes(d) for d in ("float32", "float16", "bfloat16", "int8", "float64", "bool", "uint8")] == [
        4, 2, 2, 1, 8, 1, 1]
    assert dtype_bytes("float8_e4m3fn") == 1 and dtype_bytes("int4") == 1 and dtype_bytes(None) == 4


def test_model_memory_counts_a_nested_models_layers_once():
    def layer(i, parent=None, nbytes=None, is_model=False):
        return Layer(i, i, "Model" if is_model else "Dense", None, [], [None, 4], 0, True,
                     parent=parent, activation_bytes=nbytes, is_model=is_model)

    graph = ModelGraph("m", 1, "Functional", 0, 0, 0, [], [], build=None, weights_bytes=96, layers=[
        layer("inner", nbytes=16, is_model=True), layer("inner/dense", "inner", 16), layer("head", nbytes=None)])
    memory = model_memory(graph)
    assert (memory.param_bytes, memory.activation_bytes_per_sample) == (96, 16)
